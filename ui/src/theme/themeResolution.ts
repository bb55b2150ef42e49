/** What the user picked in Settings. */
export type ThemePreference = "system" | "light" | "dark" | "highContrast";

/** The theme actually applied. */
export type ResolvedTheme = "light" | "dark" | "highContrast";

/** What the operating system asks for, read from media queries. */
export interface SystemAppearance {
  /** `(prefers-color-scheme: dark)` */
  prefersDark: boolean;
  /** `(forced-colors: active)` or `(prefers-contrast: more)` */
  highContrast: boolean;
}

export const themePreferences: readonly ThemePreference[] = ["system", "light", "dark", "highContrast"];

export function isThemePreference(value: unknown): value is ThemePreference {
  return typeof value === "string" && (themePreferences as readonly string[]).includes(value);
}

/**
 * An explicit choice wins; "system" follows the OS, where a high-contrast
 * request beats dark mode (it is an accessibility need, not a taste).
 */
export function resolveTheme(preference: ThemePreference, system: SystemAppearance): ResolvedTheme {
  if (preference !== "system") return preference;
  if (system.highContrast) return "highContrast";
  return system.prefersDark ? "dark" : "light";
}
