import { parseVideoPacket, type VideoFrame } from "./videoPacket";

type Listener = (frame: VideoFrame) => void;

/**
 * Hands each stream's frames to whoever draws it, and keeps the newest one so
 * that a canvas mounted mid-call shows a picture at once.
 */
export class VideoFeed {
  private readonly listeners = new Map<number, Set<Listener>>();
  private readonly latest = new Map<number, VideoFrame>();

  /** A packet from the core; malformed ones are dropped. */
  push = (packet: ArrayBuffer | ArrayBufferView | readonly number[]): void => {
    const frame = parseVideoPacket(packet);
    if (frame === null) return;
    this.latest.set(frame.stream, frame);
    for (const listener of this.listeners.get(frame.stream) ?? []) listener(frame);
  };

  /** Frames of one stream, starting with the newest already here. Returns the unsubscribe. */
  subscribe(stream: number, listener: Listener): () => void {
    let set = this.listeners.get(stream);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(stream, set);
    }
    set.add(listener);
    const newest = this.latest.get(stream);
    if (newest !== undefined) listener(newest);
    return () => {
      set.delete(listener);
    };
  }

  /** Forget the last frames (a call ended: the next one starts blank). */
  clear(): void {
    this.latest.clear();
  }
}
