import { describe, expect, it, vi } from "vitest";
import { videoPacket } from "../test/callFixtures";
import { VideoFeed } from "./videoFeed";
import { LOCAL_STREAM, REMOTE_STREAM, parseVideoPacket } from "./videoPacket";

describe("parseVideoPacket", () => {
  it("reads the stream, the little-endian size and the pixels without copying", () => {
    const buffer = new ArrayBuffer(5 + 300 * 2 * 4);
    const bytes = new Uint8Array(buffer);
    bytes.set([1, 0x2c, 0x01, 0x02, 0x00]); // stream 1, 300 × 2
    bytes[5] = 255;
    bytes[buffer.byteLength - 1] = 7;

    const frame = parseVideoPacket(buffer);
    expect(frame).not.toBeNull();
    expect(frame).toMatchObject({ stream: LOCAL_STREAM, width: 300, height: 2 });
    expect(frame?.rgba.length).toBe(300 * 2 * 4);
    expect(frame?.rgba[0]).toBe(255);
    expect(frame?.rgba[frame.rgba.length - 1]).toBe(7);
    expect(frame?.rgba.buffer).toBe(buffer);
  });

  it("accepts typed arrays with an offset and plain number arrays", () => {
    const inner = new Uint8Array(videoPacket(REMOTE_STREAM, 1, 1, 9));
    const padded = new Uint8Array(inner.length + 3);
    padded.set(inner, 3);
    expect(parseVideoPacket(padded.subarray(3))).toMatchObject({ stream: 0, width: 1, height: 1 });
    expect(parseVideoPacket(Array.from(inner))?.rgba[3]).toBe(9);
  });

  it("drops short or empty packets", () => {
    expect(parseVideoPacket(new ArrayBuffer(3))).toBeNull();
    expect(parseVideoPacket(videoPacket(0, 0, 4))).toBeNull();
    expect(parseVideoPacket(videoPacket(0, 4, 4).slice(0, 20))).toBeNull();
  });
});

describe("VideoFeed", () => {
  it("hands frames to the stream's listeners and replays the newest to a late one", () => {
    const feed = new VideoFeed();
    const remote = vi.fn();
    const local = vi.fn();
    feed.subscribe(REMOTE_STREAM, remote);
    feed.subscribe(LOCAL_STREAM, local);
    feed.push(videoPacket(REMOTE_STREAM, 2, 2));
    feed.push(videoPacket(REMOTE_STREAM, 4, 2));
    expect(remote).toHaveBeenCalledTimes(2);
    expect(local).not.toHaveBeenCalled();

    const late = vi.fn();
    feed.subscribe(REMOTE_STREAM, late);
    expect(late).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ width: 4, height: 2 }));

    feed.clear();
    const afterClear = vi.fn();
    feed.subscribe(REMOTE_STREAM, afterClear);
    expect(afterClear).not.toHaveBeenCalled();
  });
});
