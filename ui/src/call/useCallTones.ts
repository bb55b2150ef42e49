import { useEffect } from "react";
import type { CallView } from "../core";
import { RINGBACK_PATTERN, RING_PATTERN, playTone, type TonePattern } from "./tones";

function toneFor(call: CallView | null): TonePattern | null {
  if (call === null) return null;
  if (call.stage === "incoming") return RING_PATTERN;
  if (call.side === "outgoing" && (call.stage === "calling" || call.stage === "ringing")) return RINGBACK_PATTERN;
  return null;
}

/** Ring while a call rings here; ringback while we call out (the same tone goes on from calling to ringing). */
export function useCallTones(call: CallView | null): void {
  const tone = toneFor(call);
  useEffect(() => {
    if (tone === null) return;
    return playTone(tone);
  }, [tone]);
}
