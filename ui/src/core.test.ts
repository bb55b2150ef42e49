// The adapter itself, against a stand-in for the generated bindings.
import { beforeEach, describe, expect, it, vi } from "vitest";

type Callback = (event: { payload: unknown }) => void;

const bridge = vi.hoisted(() => {
  const state = {
    /** What the adapter registered with `events.coreEvent.listen`. */
    callbacks: new Array<Callback>(),
    /** The unlisten function Tauri hands back once the listener is registered. */
    unlisten: vi.fn<() => void>(),
    /** Lets Tauri finish registering the pending listener. */
    finishListening: () => {},
    uiReady: vi.fn<() => Promise<null>>(() => Promise.resolve(null)),
    signIn: vi.fn<(loginHint: string | null) => Promise<unknown>>(),
    switchAccount: vi.fn<(userId: string) => Promise<unknown>>(),
  };
  return state;
});

vi.mock("./bindings", () => ({
  commands: {
    appInfo: vi.fn(),
    connectionStatus: vi.fn(),
    checkConnectionNow: vi.fn(() => Promise.resolve(null)),
    uiReady: bridge.uiReady,
    signIn: bridge.signIn,
    switchAccount: bridge.switchAccount,
  },
  events: {
    coreEvent: {
      listen: (callback: Callback) => {
        bridge.callbacks.push(callback);
        return new Promise<() => void>((resolve) => {
          bridge.finishListening = () => resolve(bridge.unlisten);
        });
      },
    },
  },
}));

const { onCallEvent, onChatEvent, onConnectionChange, onSessionEvent, reportUiReady, signIn, switchAccount } = await import("./core");
const { CoreUserError } = await import("./coreError");

const reachable = { state: "reachable", server: "https://convene.example.org", serverVersion: "0.1.0", error: null };

beforeEach(() => {
  bridge.callbacks.length = 0;
  bridge.unlisten.mockReset();
});

describe("onConnectionChange", () => {
  it("passes on connection events", () => {
    const listener = vi.fn();
    onConnectionChange(listener);
    bridge.callbacks[0]?.({ payload: { type: "connection", status: reachable } });
    expect(listener).toHaveBeenCalledWith(reachable);
  });

  it("ignores kinds of core event it does not know yet (ClientEvent is non-exhaustive)", () => {
    const listener = vi.fn();
    onConnectionChange(listener);
    bridge.callbacks[0]?.({ payload: { type: "presence", user: "8:orgid:1", availability: "Away" } });
    expect(listener).not.toHaveBeenCalled();
  });

  it("stops listening even when unsubscribed before Tauri finished subscribing", async () => {
    const listener = vi.fn();
    const unsubscribe = onConnectionChange(listener);
    unsubscribe();
    bridge.finishListening();
    await vi.waitFor(() => expect(bridge.unlisten).toHaveBeenCalledTimes(1));

    bridge.callbacks[0]?.({ payload: { type: "connection", status: reachable } });
    expect(listener).not.toHaveBeenCalled();
  });

  it("stops listening when unsubscribed later", async () => {
    const unsubscribe = onConnectionChange(vi.fn());
    bridge.finishListening();
    await Promise.resolve();
    unsubscribe();
    expect(bridge.unlisten).toHaveBeenCalledTimes(1);
  });
});

describe("reportUiReady", () => {
  it("never fails, even outside the app's window", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    bridge.uiReady.mockRejectedValueOnce(new Error("not running inside Tauri"));
    await expect(reportUiReady()).resolves.toBeUndefined();
  });
});

const account = {
  tenantId: "t",
  userId: "u",
  username: "adele.vance@contoso.example",
  name: "Adele Vance",
  authority: "https://convene.example.org/contoso/v2.0",
};

describe("onSessionEvent", () => {
  it("passes on sign-in, account, session-expired and approval events, and nothing else", () => {
    const listener = vi.fn();
    onSessionEvent(listener);
    const events = [
      { type: "signIn", progress: { state: "waitingForBrowser" } },
      { type: "account", account },
      { type: "sessionExpired", account },
      { type: "interactionRequired", account, purpose: "make and receive calls" },
    ];
    for (const payload of events) bridge.callbacks[0]?.({ payload });
    bridge.callbacks[0]?.({ payload: { type: "connection", status: reachable } });
    bridge.callbacks[0]?.({ payload: { type: "presence", user: "8:orgid:1", availability: "Away" } });

    expect(listener.mock.calls.map(([event]: unknown[]) => event)).toEqual(events);
  });

  it("stops listening even when unsubscribed before Tauri finished subscribing", async () => {
    const listener = vi.fn();
    const unsubscribe = onSessionEvent(listener);
    unsubscribe();
    bridge.finishListening();
    await vi.waitFor(() => expect(bridge.unlisten).toHaveBeenCalledTimes(1));

    bridge.callbacks[0]?.({ payload: { type: "account", account: null } });
    expect(listener).not.toHaveBeenCalled();
  });
});

describe("onChatEvent", () => {
  it("passes on chat, message, incoming, typing and unread events, and nothing else", () => {
    const listener = vi.fn();
    onChatEvent(listener);
    const person = { id: "p", displayName: "Bob", userPrincipalName: null };
    const events = [
      { type: "chats", chats: [] },
      { type: "messages", chatId: "c", messages: [] },
      { type: "typing", chatId: "c", person },
      { type: "unread", total: 3 },
    ];
    for (const payload of events) bridge.callbacks[0]?.({ payload });
    bridge.callbacks[0]?.({ payload: { type: "account", account: null } });
    bridge.callbacks[0]?.({ payload: { type: "connection", status: reachable } });

    expect(listener.mock.calls.map(([event]: unknown[]) => event)).toEqual(events);
  });
});

describe("onCallEvent", () => {
  it("passes on the call of call events, and nothing else", () => {
    const listener = vi.fn();
    onCallEvent(listener);
    const call = { callId: "k", stage: "ringing" };
    bridge.callbacks[0]?.({ payload: { type: "unread", total: 1 } });
    bridge.callbacks[0]?.({ payload: { type: "call", call } });
    expect(listener).toHaveBeenCalledExactlyOnceWith(call);
  });
});

describe("commands with a Result", () => {
  it("resolve with the data", async () => {
    bridge.switchAccount.mockResolvedValueOnce({ status: "ok", data: account });
    await expect(switchAccount("u")).resolves.toEqual(account);
    expect(bridge.switchAccount).toHaveBeenCalledWith("u");

    bridge.signIn.mockResolvedValueOnce({ status: "ok", data: null });
    await expect(signIn(null)).resolves.toBeUndefined();
    expect(bridge.signIn).toHaveBeenCalledWith(null);
  });

  it("reject with the core's code and words", async () => {
    const message = "Convene needs a keyring to keep your sign-in.";
    bridge.signIn.mockResolvedValueOnce({ status: "error", error: { code: "keyringUnavailable", message } });

    const refusal: unknown = await signIn("adele.vance@contoso.example").catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(CoreUserError);
    expect(refusal).toMatchObject({ code: "keyringUnavailable", message });
  });
});
