import { useSyncExternalStore } from "react";
import type { SystemAppearance } from "./themeResolution";

export const DARK_QUERY = "(prefers-color-scheme: dark)";
export const FORCED_COLORS_QUERY = "(forced-colors: active)";
export const MORE_CONTRAST_QUERY = "(prefers-contrast: more)";

function mediaQuery(query: string): MediaQueryList | undefined {
  return typeof window.matchMedia === "function" ? window.matchMedia(query) : undefined;
}

/** Whether a media query matches now; re-renders when the OS setting changes. */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const list = mediaQuery(query);
      list?.addEventListener("change", onChange);
      return () => list?.removeEventListener("change", onChange);
    },
    () => mediaQuery(query)?.matches ?? false,
  );
}

/** The OS's appearance settings, live. */
export function useSystemAppearance(): SystemAppearance {
  const prefersDark = useMediaQuery(DARK_QUERY);
  const forcedColors = useMediaQuery(FORCED_COLORS_QUERY);
  const moreContrast = useMediaQuery(MORE_CONTRAST_QUERY);
  return { prefersDark, highContrast: forcedColors || moreContrast };
}
