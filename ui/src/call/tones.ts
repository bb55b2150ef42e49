// Ring and ringback tones synthesised with WebAudio: two sine oscillators
// through a gain that opens and closes on a cadence. Nothing to download,
// nothing to ship. Silent (and harmless) where WebAudio is missing (jsdom).

export interface TonePattern {
  /** The frequencies played together, Hz. */
  frequencies: readonly number[];
  /** Bursts of sound within one cycle: [start, length] in seconds. */
  bursts: readonly (readonly [number, number])[];
  /** Length of one cycle, seconds. */
  cycle: number;
  /** Peak gain, 0–1. */
  volume: number;
}

/** Someone calls us: 440 + 480 Hz, 2 s on, 4 s off. */
export const RING_PATTERN: TonePattern = { frequencies: [440, 480], bursts: [[0, 2]], cycle: 6, volume: 0.2 };

/** We call someone and their device rings: a softer double burst every 3 s. */
export const RINGBACK_PATTERN: TonePattern = {
  frequencies: [400, 450],
  bursts: [
    [0, 0.4],
    [0.6, 0.4],
  ],
  cycle: 3,
  volume: 0.08,
};

type AudioContextConstructor = new () => AudioContext;

function audioContextClass(): AudioContextConstructor | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as { AudioContext?: AudioContextConstructor; webkitAudioContext?: AudioContextConstructor };
  return w.AudioContext ?? w.webkitAudioContext ?? null;
}

const RAMP_S = 0.02;

/** Play `pattern` until the returned function is called. Never throws. */
export function playTone(pattern: TonePattern): () => void {
  const Context = audioContextClass();
  if (Context === null) return () => {};
  let context: AudioContext;
  try {
    context = new Context();
  } catch (error) {
    console.warn("Could not play a call tone:", error);
    return () => {};
  }
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const gain = context.createGain();
    gain.gain.value = 0;
    gain.connect(context.destination);
    const oscillators = pattern.frequencies.map((frequency) => {
      const oscillator = context.createOscillator();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start();
      return oscillator;
    });
    const scheduleCycle = () => {
      const start = context.currentTime + 0.05;
      const volume = pattern.volume / Math.max(1, pattern.frequencies.length);
      for (const [at, length] of pattern.bursts) {
        gain.gain.setValueAtTime(0, start + at);
        gain.gain.linearRampToValueAtTime(volume, start + at + RAMP_S);
        gain.gain.setValueAtTime(volume, start + at + length - RAMP_S);
        gain.gain.linearRampToValueAtTime(0, start + at + length);
      }
    };
    // Autoplay rules may start the context suspended; a resume is all we can do.
    void context.resume().catch(() => undefined);
    scheduleCycle();
    timer = setInterval(scheduleCycle, pattern.cycle * 1000);
    return () => {
      clearInterval(timer);
      for (const oscillator of oscillators) {
        try {
          oscillator.stop();
        } catch {
          // Already stopped.
        }
      }
      void context.close().catch(() => undefined);
    };
  } catch (error) {
    console.warn("Could not play a call tone:", error);
    clearInterval(timer);
    void context.close().catch(() => undefined);
    return () => {};
  }
}
