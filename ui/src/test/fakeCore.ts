// A stand-in for src/core.ts, so tests drive the UI the way the Rust core
// would: answer commands, push connection and session events, and record what
// was asked.
// Use it with: vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));
import { act } from "@testing-library/react";
import { vi } from "vitest";
import type * as Core from "../core";
import type {
  AccountProfile,
  AppInfo,
  AudioDeviceInfo,
  CallView,
  CameraDeviceInfo,
  ChatEvent,
  ConnectionState,
  ConnectionStatus,
  DeviceListChange,
  SessionEvent,
  SignInProgress,
  VideoStream,
} from "../core";
import { parseVideoPacket } from "../call/videoPacket";

export const sampleAppInfo: AppInfo = {
  version: "0.1.0",
  settings: {
    serverUrl: "https://convene.example.org",
    authority: "https://convene.example.org/contoso/v2.0",
    tenant: "contoso",
    clientId: "00000000-0000-0000-0000-000000000001",
  },
};

export const sampleAccount: AccountProfile = {
  tenantId: "11111111-2222-3333-4444-555555555555",
  userId: "00000000-0000-0000-0000-0000000000a1",
  username: "adele.vance@contoso.example",
  name: "Adele Vance",
  authority: sampleAppInfo.settings.authority,
};

export const otherAccount: AccountProfile = {
  tenantId: "11111111-2222-3333-4444-555555555555",
  userId: "00000000-0000-0000-0000-0000000000b2",
  username: "megan.bowen@contoso.example",
  name: "Megan Bowen",
  authority: sampleAppInfo.settings.authority,
};

export function connectionStatus(state: ConnectionState, details: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return {
    state,
    server: sampleAppInfo.settings.serverUrl,
    serverVersion: state === "reachable" ? "0.1.0" : null,
    error: state === "unreachable" ? "connection refused" : null,
    ...details,
  };
}

function createFakeCore() {
  const listeners = new Set<(status: ConnectionStatus) => void>();
  const sessionListeners = new Set<(event: SessionEvent) => void>();
  const chatListeners = new Set<(event: ChatEvent) => void>();
  const callListeners = new Set<(call: CallView) => void>();
  const deviceWatchers = new Set<(change: DeviceListChange) => void>();
  /**
   * What a device watch finds when it starts, as the core lists at once:
   * the sound devices (or why there are none) and the cameras (null: none
   * could be listed).
   */
  const plugged: { audio: AudioDeviceInfo[] | { unavailable: string }; cameras: CameraDeviceInfo[] | null } = {
    audio: [],
    cameras: [],
  };
  /** Per video stream, as on the Rust side: a request waiting for the next frame, or the newest frame waiting for a request. */
  const videoRequests = new Map<VideoStream, (packet: ArrayBuffer) => void>();
  const videoFrames = new Map<VideoStream, ArrayBuffer>();
  const push = (event: SessionEvent) =>
    act(() => {
      for (const listener of sessionListeners) listener(event);
    });
  return {
    listeners,
    sessionListeners,
    getAppInfo: vi.fn<typeof Core.getAppInfo>(() => Promise.resolve(sampleAppInfo)),
    getConnectionStatus: vi.fn<typeof Core.getConnectionStatus>(() => Promise.resolve(connectionStatus("reachable"))),
    checkConnectionNow: vi.fn<typeof Core.checkConnectionNow>(() => Promise.resolve()),
    reportUiReady: vi.fn<typeof Core.reportUiReady>(() => Promise.resolve()),
    onConnectionChange: vi.fn<typeof Core.onConnectionChange>((listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }),
    getCurrentAccount: vi.fn<typeof Core.getCurrentAccount>(() => Promise.resolve(null)),
    getAccounts: vi.fn<typeof Core.getAccounts>(() => Promise.resolve([])),
    signIn: vi.fn<typeof Core.signIn>(() => Promise.resolve()),
    cancelSignIn: vi.fn<typeof Core.cancelSignIn>(() => Promise.resolve()),
    switchAccount: vi.fn<typeof Core.switchAccount>(() => Promise.reject(new Error("no such account"))),
    signOut: vi.fn<typeof Core.signOut>(() => Promise.resolve()),
    onSessionEvent: vi.fn<typeof Core.onSessionEvent>((listener) => {
      sessionListeners.add(listener);
      return () => sessionListeners.delete(listener);
    }),
    chatListeners,
    // Chat commands fail as the core does until its chat side lands; tests answer them.
    getChats: vi.fn<typeof Core.getChats>(() => Promise.resolve([])),
    getThread: vi.fn<typeof Core.getThread>((chatId) => Promise.resolve({ chatId, messages: [], hasOlder: false })),
    sendMessage: vi.fn<typeof Core.sendMessage>(() => Promise.reject(new Error("not answered in this test"))),
    retryMessage: vi.fn<typeof Core.retryMessage>(() => Promise.resolve()),
    discardMessage: vi.fn<typeof Core.discardMessage>(() => Promise.resolve()),
    editMessage: vi.fn<typeof Core.editMessage>(() => Promise.resolve()),
    deleteMessage: vi.fn<typeof Core.deleteMessage>(() => Promise.resolve()),
    react: vi.fn<typeof Core.react>(() => Promise.resolve()),
    markRead: vi.fn<typeof Core.markRead>(() => Promise.resolve()),
    sendTyping: vi.fn<typeof Core.sendTyping>(() => Promise.resolve()),
    searchPeople: vi.fn<typeof Core.searchPeople>(() => Promise.resolve([])),
    startChat: vi.fn<typeof Core.startChat>(() => Promise.reject(new Error("not answered in this test"))),
    onChatEvent: vi.fn<typeof Core.onChatEvent>((listener) => {
      chatListeners.add(listener);
      return () => chatListeners.delete(listener);
    }),
    /** The core pushes a chat event (chats, messages, incoming, typing, unread). */
    pushChat(event: ChatEvent) {
      act(() => {
        for (const listener of chatListeners) listener(event);
      });
    },
    callListeners,
    placeCall: vi.fn<typeof Core.placeCall>(() => Promise.reject(new Error("not answered in this test"))),
    answerCall: vi.fn<typeof Core.answerCall>(() => Promise.reject(new Error("not answered in this test"))),
    declineCall: vi.fn<typeof Core.declineCall>(() => Promise.resolve()),
    hangUp: vi.fn<typeof Core.hangUp>(() => Promise.resolve()),
    setMuted: vi.fn<typeof Core.setMuted>(() => Promise.reject(new Error("not answered in this test"))),
    setCamera: vi.fn<typeof Core.setCamera>(() => Promise.reject(new Error("not answered in this test"))),
    getCurrentCall: vi.fn<typeof Core.getCurrentCall>(() => Promise.resolve(null)),
    getCallHistory: vi.fn<typeof Core.getCallHistory>(() => Promise.resolve([])),
    plugged,
    watchDevices: vi.fn<typeof Core.watchDevices>((onChange) => {
      deviceWatchers.add(onChange);
      const { audio, cameras } = plugged;
      queueMicrotask(() =>
        act(() => {
          if (!deviceWatchers.has(onChange)) return;
          onChange(
            Array.isArray(audio)
              ? { kind: "audio", devices: audio }
              : { kind: "audioUnavailable", error: { code: "other", message: audio.unavailable } },
          );
          if (cameras) onChange({ kind: "cameras", cameras });
        }),
      );
      return () => deviceWatchers.delete(onChange);
    }),
    /** Whether anyone is watching for devices plugged in or out. */
    watchingDevices() {
      return deviceWatchers.size > 0;
    },
    /** A microphone or speaker is plugged in or out: the watchers get the new list. */
    pushDevices(devices: AudioDeviceInfo[]) {
      act(() => {
        for (const watcher of deviceWatchers) watcher({ kind: "audio", devices });
      });
    },
    /** A camera is plugged in or out: the watchers get the new list. */
    pushCameras(cameras: CameraDeviceInfo[]) {
      act(() => {
        for (const watcher of deviceWatchers) watcher({ kind: "cameras", cameras });
      });
    },
    selectAudioDevices: vi.fn<typeof Core.selectAudioDevices>(() => Promise.resolve()),
    selectCamera: vi.fn<typeof Core.selectCamera>(() => Promise.resolve()),
    nextVideoFrame: vi.fn<typeof Core.nextVideoFrame>(
      (stream) =>
        new Promise((resolve) => {
          const ready = videoFrames.get(stream);
          videoFrames.delete(stream);
          if (ready === undefined) videoRequests.set(stream, resolve);
          else resolve(ready);
        }),
    ),
    onCallEvent: vi.fn<typeof Core.onCallEvent>((listener) => {
      callListeners.add(listener);
      return () => callListeners.delete(listener);
    }),
    /** The core pushes a `call` event. */
    pushCall(call: CallView) {
      act(() => {
        for (const listener of callListeners) listener(call);
      });
    },
    /** The core decodes a video frame (a packet whose first byte is its stream): a waiting request gets it, or it waits for the next one. */
    pushVideo(packet: ArrayBuffer) {
      const stream = parseVideoPacket(packet)?.stream ?? "remote";
      const request = videoRequests.get(stream);
      videoRequests.delete(stream);
      if (request === undefined) videoFrames.set(stream, packet);
      else act(() => request(packet));
    },
    /** Whether the UI is waiting for a frame of this stream. */
    wantsVideo(stream: VideoStream) {
      return videoRequests.has(stream);
    },
    /** The core reports how an interactive sign-in moves on. */
    pushSignIn(progress: SignInProgress) {
      push({ type: "signIn", progress });
    },
    /** The core reports that the account in use changed (null: nobody is signed in). */
    pushAccount(account: AccountProfile | null) {
      push({ type: "account", account });
    },
    /** The core reports that the account's session ended. */
    pushSessionExpired(account: AccountProfile) {
      push({ type: "sessionExpired", account });
    },
    /** The core reports that the account waits for the person to approve `purpose`. */
    pushInteractionRequired(account: AccountProfile, purpose: string) {
      push({ type: "interactionRequired", account, purpose });
    },
    /** The core pushes a connection event, as the connection monitor does. */
    pushConnection(status: ConnectionStatus) {
      act(() => {
        for (const listener of listeners) listener(status);
      });
    },
  };
}

/** The fake in use by the current test; replaced before each test. */
export let fakeCore = createFakeCore();

export function resetFakeCore(): void {
  fakeCore = createFakeCore();
}

/** What vi.mock("../core") resolves to: every export delegates to the current fake. */
export const fakeCoreModule: typeof Core = {
  getAppInfo: () => fakeCore.getAppInfo(),
  getConnectionStatus: () => fakeCore.getConnectionStatus(),
  checkConnectionNow: () => fakeCore.checkConnectionNow(),
  reportUiReady: () => fakeCore.reportUiReady(),
  onConnectionChange: (listener) => fakeCore.onConnectionChange(listener),
  getCurrentAccount: () => fakeCore.getCurrentAccount(),
  getAccounts: () => fakeCore.getAccounts(),
  signIn: (loginHint) => fakeCore.signIn(loginHint),
  cancelSignIn: () => fakeCore.cancelSignIn(),
  switchAccount: (userId) => fakeCore.switchAccount(userId),
  signOut: (userId) => fakeCore.signOut(userId),
  onSessionEvent: (listener) => fakeCore.onSessionEvent(listener),
  getChats: () => fakeCore.getChats(),
  getThread: (chatId, before, limit) => fakeCore.getThread(chatId, before, limit),
  sendMessage: (chatId, draft) => fakeCore.sendMessage(chatId, draft),
  retryMessage: (key) => fakeCore.retryMessage(key),
  discardMessage: (key) => fakeCore.discardMessage(key),
  editMessage: (chatId, messageId, html) => fakeCore.editMessage(chatId, messageId, html),
  deleteMessage: (chatId, messageId) => fakeCore.deleteMessage(chatId, messageId),
  react: (chatId, messageId, reaction, on) => fakeCore.react(chatId, messageId, reaction, on),
  markRead: (chatId) => fakeCore.markRead(chatId),
  sendTyping: (chatId) => fakeCore.sendTyping(chatId),
  searchPeople: (query) => fakeCore.searchPeople(query),
  startChat: (userIds, topic) => fakeCore.startChat(userIds, topic),
  onChatEvent: (listener) => fakeCore.onChatEvent(listener),
  placeCall: (userId, video, name) => fakeCore.placeCall(userId, video, name),
  answerCall: (callId, video) => fakeCore.answerCall(callId, video),
  declineCall: (callId) => fakeCore.declineCall(callId),
  hangUp: () => fakeCore.hangUp(),
  setMuted: (muted) => fakeCore.setMuted(muted),
  setCamera: (on) => fakeCore.setCamera(on),
  getCurrentCall: () => fakeCore.getCurrentCall(),
  getCallHistory: () => fakeCore.getCallHistory(),
  watchDevices: (onChange) => fakeCore.watchDevices(onChange),
  selectAudioDevices: (input, output) => fakeCore.selectAudioDevices(input, output),
  selectCamera: (name) => fakeCore.selectCamera(name),
  nextVideoFrame: (stream) => fakeCore.nextVideoFrame(stream),
  onCallEvent: (listener) => fakeCore.onCallEvent(listener),
};
