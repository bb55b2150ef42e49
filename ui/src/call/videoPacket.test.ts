import { describe, expect, it, vi } from "vitest";
import type { VideoStream } from "../core";
import { videoPacket } from "../test/callFixtures";
import { VideoFeed } from "./videoFeed";
import { parseVideoPacket } from "./videoPacket";

describe("parseVideoPacket", () => {
  it("reads the stream, the little-endian size and the pixels without copying", () => {
    const buffer = new ArrayBuffer(5 + 300 * 2 * 4);
    const bytes = new Uint8Array(buffer);
    bytes.set([1, 0x2c, 0x01, 0x02, 0x00]); // stream 1, 300 × 2
    bytes[5] = 255;
    bytes[buffer.byteLength - 1] = 7;

    const frame = parseVideoPacket(buffer);
    expect(frame).not.toBeNull();
    expect(frame).toMatchObject({ stream: "local", width: 300, height: 2 });
    expect(frame?.rgba.length).toBe(300 * 2 * 4);
    expect(frame?.rgba[0]).toBe(255);
    expect(frame?.rgba[frame.rgba.length - 1]).toBe(7);
    expect(frame?.rgba.buffer).toBe(buffer);
  });

  it("accepts typed arrays with an offset and plain number arrays", () => {
    const inner = new Uint8Array(videoPacket("remote", 1, 1, 9));
    const padded = new Uint8Array(inner.length + 3);
    padded.set(inner, 3);
    expect(parseVideoPacket(padded.subarray(3))).toMatchObject({ stream: "remote", width: 1, height: 1 });
    expect(parseVideoPacket(Array.from(inner))?.rgba[3]).toBe(9);
  });

  it("drops short or empty packets, and packets of a stream it does not know", () => {
    expect(parseVideoPacket(new ArrayBuffer(3))).toBeNull();
    expect(parseVideoPacket(videoPacket("remote", 0, 4))).toBeNull();
    expect(parseVideoPacket(videoPacket("remote", 4, 4).slice(0, 20))).toBeNull();
    const unknown = new Uint8Array(videoPacket("remote", 1, 1));
    unknown[0] = 7;
    expect(parseVideoPacket(unknown)).toBeNull();
  });
});

/** A core whose answers the test gives one by one. */
function scriptedCore() {
  const requests: { stream: VideoStream; answer: (packet: ArrayBuffer) => void; fail: (error: Error) => void }[] = [];
  const fetchFrame = vi.fn(
    (stream: VideoStream) =>
      new Promise<ArrayBuffer>((answer, fail) => {
        requests.push({ stream, answer, fail });
      }),
  );
  /** The oldest unanswered request, once the feed has made one. */
  const next = async () => {
    await vi.waitFor(() => expect(requests.length).toBeGreaterThan(0));
    const request = requests.shift();
    if (request === undefined) throw new Error("no request");
    return request;
  };
  return { fetchFrame, next, pending: () => requests.length };
}

const painted = () => Promise.resolve();

describe("VideoFeed", () => {
  it("asks for a stream's frames only while someone watches it, one request at a time", async () => {
    const core = scriptedCore();
    const feed = new VideoFeed(core.fetchFrame, painted);
    expect(core.fetchFrame).not.toHaveBeenCalled();

    const remote = vi.fn();
    const stop = feed.subscribe("remote", remote);
    feed.subscribe("remote", vi.fn());
    (await core.next()).answer(videoPacket("remote", 2, 2));
    await vi.waitFor(() => expect(remote).toHaveBeenCalledOnce());
    const second = await core.next();
    expect(second.stream).toBe("remote");
    expect(core.pending()).toBe(0);
    // An empty answer (nothing new within a second) is no frame; the feed asks again.
    second.answer(new ArrayBuffer(0));
    (await core.next()).answer(videoPacket("remote", 4, 2));
    await vi.waitFor(() => expect(remote).toHaveBeenCalledTimes(2));
    expect(remote).toHaveBeenLastCalledWith(expect.objectContaining({ width: 4, height: 2 }));
    expect(core.fetchFrame).not.toHaveBeenCalledWith("local");
    stop();
  });

  it("goes on after a failed request instead of stalling", async () => {
    const core = scriptedCore();
    const feed = new VideoFeed(core.fetchFrame, painted);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const local = vi.fn();
    feed.subscribe("local", local);

    (await core.next()).fail(new Error("ipc hiccup"));
    (await core.next()).answer(videoPacket("local", 2, 2));
    await vi.waitFor(() => expect(local).toHaveBeenCalledOnce());
    expect(warn).toHaveBeenCalledOnce();
  });

  it("stops asking when the last viewer goes, and starts again for a new one with the newest frame", async () => {
    const core = scriptedCore();
    const feed = new VideoFeed(core.fetchFrame, painted);
    const stop = feed.subscribe("remote", vi.fn());
    const request = await core.next();
    stop();
    request.answer(videoPacket("remote", 6, 2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(core.fetchFrame).toHaveBeenCalledOnce();

    const late = vi.fn();
    feed.subscribe("remote", late);
    expect(late).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ width: 6, height: 2 }));
    await core.next();
    expect(core.fetchFrame).toHaveBeenCalledTimes(2);

    feed.clear();
    const afterClear = vi.fn();
    feed.subscribe("remote", afterClear);
    expect(afterClear).not.toHaveBeenCalled();
  });
});
