import { useEffect, useRef } from "react";
import { reportUiReady } from "../core";

/**
 * Tell the core, once, that the first screen is on screen: two animation
 * frames after the first commit, so the browser has painted it.
 */
export function useReportUiReady(): void {
  const reported = useRef(false);

  useEffect(() => {
    if (reported.current) return;
    let second = 0;
    const first = requestAnimationFrame(() => {
      second = requestAnimationFrame(() => {
        if (reported.current) return;
        reported.current = true;
        void reportUiReady();
      });
    });
    return () => {
      cancelAnimationFrame(first);
      cancelAnimationFrame(second);
    };
  }, []);
}
