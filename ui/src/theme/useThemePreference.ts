import { useCallback, useState } from "react";
import { isThemePreference, type ThemePreference } from "./themeResolution";

export const THEME_STORAGE_KEY = "convene.theme";

function readStoredPreference(): ThemePreference {
  try {
    const stored = window.localStorage.getItem(THEME_STORAGE_KEY);
    return isThemePreference(stored) ? stored : "system";
  } catch {
    // Storage can be unavailable; the default is the right answer then.
    return "system";
  }
}

/** The theme the user chose in Settings, remembered across launches. */
export function useThemePreference(): [ThemePreference, (next: ThemePreference) => void] {
  const [preference, setPreference] = useState<ThemePreference>(readStoredPreference);

  const choose = useCallback((next: ThemePreference) => {
    setPreference(next);
    try {
      window.localStorage.setItem(THEME_STORAGE_KEY, next);
    } catch {
      // Not remembered this time, but still applied.
    }
  }, []);

  return [preference, choose];
}
