import { useEffect, useState } from "react";
import { formatDuration } from "./callState";

/** mm:ss since `sinceMs` (unix ms), ticking each second. */
export function CallDuration({ sinceMs, className }: { sinceMs: number; className?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const text = formatDuration(now - sinceMs);
  return (
    <span className={className} data-testid="call-duration" role="timer" aria-label={`Call duration ${text}`}>
      {text}
    </span>
  );
}
