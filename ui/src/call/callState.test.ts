import { describe, expect, it } from "vitest";
import { callView, historyEntry } from "../test/callFixtures";
import {
  callReducer,
  endedMessage,
  formatDuration,
  historyKind,
  initialCallState,
  isCallActive,
  outcomeText,
  statusText,
  type CallAction,
  type CallState,
} from "./callState";

const run = (...actions: CallAction[]): CallState => actions.reduce(callReducer, initialCallState);

describe("callReducer", () => {
  it("follows a call's events and forgets it when it ends, keeping why for the ended message", () => {
    const calling = callView({ stage: "calling" });
    let state = run({ type: "changed", call: calling });
    expect(state.call).toEqual(calling);
    expect(isCallActive(state)).toBe(true);

    state = callReducer(state, { type: "changed", call: callView({ stage: "connected", connectedAtMs: 1000 }) });
    expect(state.call?.stage).toBe("connected");

    state = callReducer(state, { type: "changed", call: callView({ stage: "ended", ended: "remoteHungUp" }) });
    expect(state.call).toBeNull();
    expect(isCallActive(state)).toBe(false);
    expect(state.ended).toMatchObject({ place: "view", call: { ended: "remoteHungUp" } });
    expect(state.historyRevision).toBe(1);

    state = callReducer(state, { type: "endedDismissed", callId: "call-1" });
    expect(state.ended).toBeNull();
  });

  it("ignores late events about a call that has ended", () => {
    const state = run(
      { type: "changed", call: callView() },
      { type: "changed", call: callView({ stage: "ended", ended: "hungUp" }) },
      { type: "changed", call: callView({ stage: "connected" }) },
    );
    expect(state.call).toBeNull();
  });

  it("shows an unanswered incoming call's end in the toast, counts it as missed, and says nothing when declined here", () => {
    const incoming = callView({ side: "incoming", stage: "incoming" });
    const missed = run({ type: "changed", call: incoming }, { type: "changed", call: { ...incoming, stage: "ended", ended: "cancelled" } });
    expect(missed.ended?.place).toBe("toast");
    expect(missed.missed).toBe(1);
    expect(callReducer(missed, { type: "missedSeen" }).missed).toBe(0);

    const declined = run({ type: "changed", call: incoming }, { type: "changed", call: { ...incoming, stage: "ended", ended: "hungUp" } });
    expect(declined.ended).toBeNull();
    expect(declined.missed).toBe(0);
    expect(declined.historyRevision).toBe(1);
  });

  it("takes currentCall() at start unless an event came first", () => {
    expect(run({ type: "loaded", call: callView() }).call?.callId).toBe("call-1");
    expect(run({ type: "loaded", call: null }).call).toBeNull();
    const eventFirst = run(
      { type: "changed", call: callView({ callId: "call-2", stage: "ringing" }) },
      { type: "loaded", call: callView({ callId: "call-2", stage: "calling" }) },
    );
    expect(eventFirst.call?.stage).toBe("ringing");
  });

  it("takes only the switches from a command's answer once events flow", () => {
    const state = run(
      { type: "changed", call: callView({ stage: "connected", muted: false }) },
      { type: "returned", call: callView({ stage: "connecting", muted: true }) },
    );
    expect(state.call).toMatchObject({ stage: "connected", muted: true });
    expect(run({ type: "returned", call: callView({ stage: "calling" }) }).call?.stage).toBe("calling");
  });

  it("lets a new call replace the previous call's ended message", () => {
    const state = run(
      { type: "changed", call: callView() },
      { type: "changed", call: callView({ stage: "ended", ended: "hungUp" }) },
      { type: "changed", call: callView({ callId: "call-2", side: "incoming", stage: "incoming" }) },
    );
    expect(state.ended).toBeNull();
    expect(state.call?.callId).toBe("call-2");
  });
});

describe("words", () => {
  it("says why a call ended", () => {
    const ended = (overrides: Parameters<typeof callView>[0]) => endedMessage(callView({ stage: "ended", ...overrides }));
    expect(ended({ ended: "hungUp" })).toBe("Call ended");
    expect(ended({ ended: "remoteHungUp" })).toBe("Call ended");
    expect(ended({ ended: "declined" })).toBe("Bob Smith declined");
    expect(ended({ ended: "noAnswer" })).toBe("No answer");
    expect(ended({ ended: "busy" })).toBe("Bob Smith is busy");
    expect(ended({ ended: "unavailable" })).toBe("Bob Smith is not available");
    expect(ended({ ended: "answeredElsewhere" })).toBe("Answered on another device");
    expect(ended({ ended: "declinedElsewhere" })).toBe("Declined on another device");
    expect(ended({ ended: "failed", error: "no route to the relay" })).toBe("Call failed: no route to the relay");
    expect(ended({ ended: "failed" })).toBe("Call failed");
    expect(ended({ ended: "cancelled", side: "incoming" })).toBe("Missed call from Bob Smith");
  });

  it("says where the call stands", () => {
    expect(statusText(callView({ stage: "calling" }))).toBe("Calling Bob Smith…");
    expect(statusText(callView({ stage: "ringing" }))).toBe("Ringing Bob Smith…");
    expect(statusText(callView({ stage: "connecting" }))).toBe("Connecting…");
    expect(statusText(callView({ stage: "reconnecting" }))).toBe("Connection lost. Reconnecting…");
    expect(statusText(callView({ stage: "connected", peer: { userId: "x", name: null } }))).toBe("In a call with Unknown caller");
  });

  it("formats durations as mm:ss, then h:mm:ss", () => {
    expect(formatDuration(0)).toBe("00:00");
    expect(formatDuration(-5000)).toBe("00:00");
    expect(formatDuration(65_999)).toBe("01:05");
    expect(formatDuration(59 * 60_000 + 59_000)).toBe("59:59");
    expect(formatDuration(3_600_000 + 62_000)).toBe("1:01:02");
  });

  it("tells missed calls from answered ones in the history", () => {
    expect(historyKind(historyEntry({ id: "a", direction: "incoming", outcome: "noAnswer" }))).toBe("missed");
    expect(historyKind(historyEntry({ id: "b", direction: "incoming", outcome: "cancelled" }))).toBe("missed");
    expect(historyKind(historyEntry({ id: "c", direction: "incoming", outcome: "hungUp" }))).toBe("incoming");
    expect(historyKind(historyEntry({ id: "d", direction: "outgoing", outcome: "noAnswer" }))).toBe("outgoing");
    expect(outcomeText(historyEntry({ id: "e", direction: "incoming", outcome: "noAnswer" }))).toBe("Missed");
    expect(outcomeText(historyEntry({ id: "f", direction: "outgoing", outcome: "noAnswer" }))).toBe("No answer");
    expect(outcomeText(historyEntry({ id: "g", outcome: null }))).toBe("In progress");
  });
});
