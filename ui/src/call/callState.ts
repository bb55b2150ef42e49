// The call as the UI shows it, kept from the core's `call` events. Pure:
// useCallStore feeds it and runs the timers.
import type { CallHistoryEntry, CallStage, CallView, EndReason } from "../core";

/** How long the reason a call ended stays on screen. */
export const ENDED_SHOWN_MS = 3000;

/** Where an ended call's reason is shown: the in-call view, or the incoming toast (never answered). */
export type EndedPlace = "view" | "toast";

export interface EndedCall {
  call: CallView;
  place: EndedPlace;
}

export interface CallState {
  /** The call going on (any stage but `ended`), or null. */
  call: CallView | null;
  /** The call that just ended, shown for ENDED_SHOWN_MS. */
  ended: EndedCall | null;
  /** Calls that have ended in this session, so late events about them are ignored. */
  endedIds: readonly string[];
  /** Goes up whenever a call ends: the history needs reading again. */
  historyRevision: number;
  /** Incoming calls missed since the Calls tab was last shown. */
  missed: number;
}

export const initialCallState: CallState = { call: null, ended: null, endedIds: [], historyRevision: 0, missed: 0 };

export type CallAction =
  /** A `call` event. */
  | { type: "changed"; call: CallView }
  /** currentCall() answered at start; events that came first win. */
  | { type: "loaded"; call: CallView | null }
  /** A command (placeCall, answerCall, setMuted, setCamera) returned the call. */
  | { type: "returned"; call: CallView }
  /** The ended message has been shown long enough (or was dismissed). */
  | { type: "endedDismissed"; callId: string }
  /** The Calls tab is on screen: missed calls are seen. */
  | { type: "missedSeen" };

/** Stages in which the in-call view is up. */
const inCallStages: ReadonlySet<CallStage> = new Set(["calling", "ringing", "connecting", "connected", "reconnecting"]);

export function isInCallStage(stage: CallStage): boolean {
  return inCallStages.has(stage);
}

/** A call is going on (ringing here counts: nobody should place another meanwhile). */
export function isCallActive(state: CallState): boolean {
  return state.call !== null;
}

/** An incoming call that ended without being answered here and that the user should hear about. */
function isMissed(call: CallView): boolean {
  return call.side === "incoming" && (call.ended === "cancelled" || call.ended === "noAnswer");
}

function applyEnded(state: CallState, call: CallView): CallState {
  const current = state.call !== null && state.call.callId === call.callId ? state.call : null;
  const endedIds = [...state.endedIds.slice(-19), call.callId];
  const base = { ...state, endedIds, historyRevision: state.historyRevision + 1 };
  const missed = isMissed(call) ? state.missed + 1 : state.missed;
  if (current === null) {
    // Another call than the one on screen (or one we never saw): only the history changes.
    return { ...base, missed };
  }
  const wasRinging = current.stage === "incoming";
  // Declining here needs no message.
  const quiet = wasRinging && call.ended === "hungUp";
  return {
    ...base,
    call: null,
    missed,
    ended: quiet ? null : { call, place: wasRinging ? "toast" : "view" },
  };
}

export function callReducer(state: CallState, action: CallAction): CallState {
  switch (action.type) {
    case "changed": {
      const { call } = action;
      if (state.endedIds.includes(call.callId)) return state;
      // An ended call we never saw going on still changes the history.
      if (call.stage === "ended") return applyEnded(state, call);
      // A new call replaces a finished message.
      const ended = state.ended !== null && state.ended.call.callId !== call.callId ? null : state.ended;
      return { ...state, call, ended };
    }
    case "loaded": {
      const { call } = action;
      if (call === null || state.call !== null || state.endedIds.includes(call.callId)) return state;
      if (call.stage === "ended") return state;
      return { ...state, call };
    }
    case "returned": {
      const { call } = action;
      if (state.endedIds.includes(call.callId) || call.stage === "ended") return state;
      if (state.call === null) return { ...state, call, ended: null };
      if (state.call.callId !== call.callId) return state;
      // Events carry the stage; a command's answer may be older than them, but its switches are fresh.
      return { ...state, call: { ...state.call, muted: call.muted, cameraOn: call.cameraOn } };
    }
    case "endedDismissed":
      return state.ended !== null && state.ended.call.callId === action.callId ? { ...state, ended: null } : state;
    case "missedSeen":
      return state.missed === 0 ? state : { ...state, missed: 0 };
    default:
      return state;
  }
}

/** The name to show for the other person. */
export function peerName(call: Pick<CallView, "peer">): string {
  return call.peer.name ?? "Unknown caller";
}

/** The status line of the in-call view (read out by screen readers). */
export function statusText(call: CallView): string {
  const name = peerName(call);
  switch (call.stage) {
    case "calling":
      return `Calling ${name}…`;
    case "ringing":
      return `Ringing ${name}…`;
    case "incoming":
      return `${name} is calling`;
    case "connecting":
      return "Connecting…";
    case "connected":
      return `In a call with ${name}`;
    case "reconnecting":
      return "Connection lost. Reconnecting…";
    case "ended":
      return endedMessage(call);
    default:
      return "";
  }
}

/** Why a call ended, in words. */
export function endedMessage(call: Pick<CallView, "peer" | "ended" | "error" | "side">): string {
  const name = peerName(call);
  const reason: EndReason | null = call.ended;
  switch (reason) {
    case "hungUp":
    case "remoteHungUp":
    case null:
      return "Call ended";
    case "declined":
      return `${name} declined`;
    case "cancelled":
      return call.side === "incoming" ? `Missed call from ${name}` : "Call cancelled";
    case "busy":
      return `${name} is busy`;
    case "noAnswer":
      return call.side === "incoming" ? `Missed call from ${name}` : "No answer";
    case "unavailable":
      return `${name} is not available`;
    case "answeredElsewhere":
      return "Answered on another device";
    case "declinedElsewhere":
      return "Declined on another device";
    case "failed":
      return call.error !== null && call.error !== "" ? `Call failed: ${call.error}` : "Call failed";
    default:
      return "Call ended";
  }
}

/** `mm:ss` (or `h:mm:ss` past an hour) of a duration in milliseconds; negative counts as zero. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return hours > 0 ? `${hours}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`;
}

/** Which way a history entry went, missed being an incoming call nobody answered here. */
export type HistoryKind = "incoming" | "outgoing" | "missed";

export function historyKind(entry: CallHistoryEntry): HistoryKind {
  if (entry.direction === "incoming") {
    return entry.outcome === "noAnswer" || entry.outcome === "cancelled" ? "missed" : "incoming";
  }
  return "outgoing";
}

/** The outcome of a history entry, in words. */
export function outcomeText(entry: CallHistoryEntry): string {
  switch (entry.outcome) {
    case null:
      return "In progress";
    case "hungUp":
      return "Answered";
    case "declined":
      return "Declined";
    case "cancelled":
      return entry.direction === "incoming" ? "Missed" : "Cancelled";
    case "busy":
      return "Busy";
    case "noAnswer":
      return entry.direction === "incoming" ? "Missed" : "No answer";
    case "unavailable":
      return "Unavailable";
    case "failed":
      return "Failed";
    default:
      return "Ended";
  }
}

/** Whether a call carried (or was placed with) video. */
export function hasVideo(media: readonly string[]): boolean {
  return media.includes("video");
}
