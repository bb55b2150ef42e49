import { afterEach, describe, expect, it, vi } from "vitest";
import { RING_PATTERN, playTone } from "./tones";

class FakeParam {
  value = 0;
  setValueAtTime = vi.fn();
  linearRampToValueAtTime = vi.fn();
}

const made: FakeContext[] = [];

class FakeContext {
  currentTime = 0;
  destination = {};
  oscillators: { frequency: FakeParam; start: ReturnType<typeof vi.fn>; stop: ReturnType<typeof vi.fn> }[] = [];
  gain = new FakeParam();
  close = vi.fn(() => Promise.resolve());
  resume = vi.fn(() => Promise.resolve());
  constructor() {
    made.push(this);
  }
  createGain() {
    return { gain: this.gain, connect: vi.fn() };
  }
  createOscillator() {
    const oscillator = { type: "", frequency: new FakeParam(), connect: vi.fn(), start: vi.fn(), stop: vi.fn() };
    this.oscillators.push(oscillator);
    return oscillator;
  }
}

afterEach(() => {
  made.length = 0;
  vi.unstubAllGlobals();
});

describe("playTone", () => {
  it("does nothing, and does not throw, where WebAudio is missing", () => {
    expect("AudioContext" in window).toBe(false);
    const stop = playTone(RING_PATTERN);
    expect(() => stop()).not.toThrow();
  });

  it("plays 440 and 480 Hz on the ring cadence and stops them", () => {
    vi.useFakeTimers();
    vi.stubGlobal("AudioContext", FakeContext);
    const stop = playTone(RING_PATTERN);
    const context = made[0];
    if (context === undefined) throw new Error("no audio context");
    expect(context.oscillators.map((o) => o.frequency.value)).toEqual([440, 480]);
    expect(context.gain.setValueAtTime).toHaveBeenCalled();
    const scheduled = context.gain.linearRampToValueAtTime.mock.calls.length;
    vi.advanceTimersByTime(RING_PATTERN.cycle * 1000);
    expect(context.gain.linearRampToValueAtTime.mock.calls.length).toBeGreaterThan(scheduled);

    stop();
    for (const oscillator of context.oscillators) expect(oscillator.stop).toHaveBeenCalled();
    expect(context.close).toHaveBeenCalled();
    vi.useRealTimers();
  });
});
