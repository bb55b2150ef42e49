import type { VideoStream } from "../core";
import { parseVideoPacket, type VideoFrame } from "./videoPacket";

type Listener = (frame: VideoFrame) => void;
type Packet = ArrayBuffer | ArrayBufferView | readonly number[];

/** Asks the core for a stream's next frame (an empty packet when none came). */
export type FetchFrame = (stream: VideoStream) => Promise<Packet>;

/** How long to wait before asking again after a failed request. */
const RETRY_MS = 250;

/**
 * Resolves at the window's next paint; a hidden window gets no animation
 * frames, so it keeps up slowly, and the picture is fresh when it shows.
 */
export function nextPaint(): Promise<void> {
  return new Promise((resolve) => {
    if (document.visibilityState === "hidden") setTimeout(resolve, 250);
    else requestAnimationFrame(() => resolve());
  });
}

/**
 * Pulls each watched stream's frames from the core, one at a time and no
 * faster than the window paints, and hands them to whoever draws the stream.
 * Keeps the newest frame, so that a canvas mounted mid-call shows a picture
 * at once. A failed request is asked again: the video never stalls for good.
 */
export class VideoFeed {
  private readonly listeners = new Map<VideoStream, Set<Listener>>();
  private readonly latest = new Map<VideoStream, VideoFrame>();
  private readonly pulling = new Set<VideoStream>();

  constructor(
    private readonly fetchFrame: FetchFrame,
    private readonly waitForPaint: () => Promise<void> = nextPaint,
  ) {}

  /** Frames of one stream, starting with the newest already here. Returns the unsubscribe. */
  subscribe(stream: VideoStream, listener: Listener): () => void {
    let set = this.listeners.get(stream);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(stream, set);
    }
    set.add(listener);
    const newest = this.latest.get(stream);
    if (newest !== undefined) listener(newest);
    this.pull(stream);
    return () => {
      set.delete(listener);
    };
  }

  /** Forget the last frames (a call ended: the next one starts blank). */
  clear(): void {
    this.latest.clear();
  }

  private watched(stream: VideoStream): boolean {
    return (this.listeners.get(stream)?.size ?? 0) > 0;
  }

  /** Asks for frames of `stream` while anyone watches it. */
  private pull(stream: VideoStream): void {
    if (this.pulling.has(stream)) return;
    this.pulling.add(stream);
    const run = async () => {
      try {
        while (this.watched(stream)) {
          let packet: Packet;
          try {
            packet = await this.fetchFrame(stream);
          } catch (error) {
            console.warn("Could not fetch a video frame:", error);
            await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
            continue;
          }
          // Empty or malformed: nothing new to show.
          const frame = parseVideoPacket(packet);
          if (frame !== null && frame.stream === stream) {
            this.latest.set(stream, frame);
            for (const listener of this.listeners.get(stream) ?? []) listener(frame);
          }
          // Never faster than the window paints, even if the core answers at once.
          await this.waitForPaint();
        }
      } finally {
        // In the same tick as the last check: a subscriber arriving later starts a new loop.
        this.pulling.delete(stream);
      }
    };
    void run();
  }
}
