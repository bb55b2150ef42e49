// Calls and history entries as the core sends them, for the call tests.
import type { CallHistoryEntry, CallQuality, CallView, VideoStream } from "../core";
import { STREAM_BYTE } from "../call/videoPacket";

export const bobPeer = { userId: "u-bob", name: "Bob Smith" };

export function callView(overrides: Partial<CallView> = {}): CallView {
  return {
    callId: "call-1",
    peer: bobPeer,
    side: "outgoing",
    stage: "connected",
    media: ["audio", "video"],
    muted: false,
    cameraOn: true,
    remoteVideo: true,
    connectedAtMs: null,
    ended: null,
    error: null,
    quality: null,
    ...overrides,
  };
}

export function quality(overrides: Partial<CallQuality> = {}): CallQuality {
  return {
    rttMs: 42,
    lossPercent: 0.5,
    jitterMs: 7,
    sendKbps: 812,
    receiveKbps: 790,
    targetKbps: 900,
    relayed: false,
    rating: "good",
    ...overrides,
  };
}

export function historyEntry(overrides: Partial<CallHistoryEntry> & { id: string }): CallHistoryEntry {
  return {
    peer: bobPeer,
    direction: "outgoing",
    media: ["audio"],
    startedAt: "2026-03-02T09:00:00Z",
    durationSecs: 0,
    outcome: "hungUp",
    ...overrides,
  };
}

/** A packet as the Rust side sends it: stream, width and height (u16 LE), RGBA. */
export function videoPacket(stream: VideoStream, width: number, height: number, fill = 0x80): ArrayBuffer {
  const buffer = new ArrayBuffer(5 + width * height * 4);
  const bytes = new Uint8Array(buffer);
  bytes[0] = STREAM_BYTE[stream];
  new DataView(buffer).setUint16(1, width, true);
  new DataView(buffer).setUint16(3, height, true);
  bytes.fill(fill, 5);
  return buffer;
}
