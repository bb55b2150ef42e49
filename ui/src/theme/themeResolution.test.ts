import { describe, expect, it } from "vitest";
import { isThemePreference, resolveTheme, type SystemAppearance } from "./themeResolution";

const light: SystemAppearance = { prefersDark: false, highContrast: false };
const dark: SystemAppearance = { prefersDark: true, highContrast: false };
const highContrast: SystemAppearance = { prefersDark: false, highContrast: true };
const darkHighContrast: SystemAppearance = { prefersDark: true, highContrast: true };

describe("resolveTheme", () => {
  it("follows the system's light or dark mode by default", () => {
    expect(resolveTheme("system", light)).toBe("light");
    expect(resolveTheme("system", dark)).toBe("dark");
  });

  it("uses high contrast when the system forces colours or asks for more contrast, even in dark mode", () => {
    expect(resolveTheme("system", highContrast)).toBe("highContrast");
    expect(resolveTheme("system", darkHighContrast)).toBe("highContrast");
  });

  it("lets an explicit choice win over the system", () => {
    expect(resolveTheme("light", dark)).toBe("light");
    expect(resolveTheme("light", darkHighContrast)).toBe("light");
    expect(resolveTheme("dark", light)).toBe("dark");
    expect(resolveTheme("dark", highContrast)).toBe("dark");
    expect(resolveTheme("highContrast", light)).toBe("highContrast");
  });
});

describe("isThemePreference", () => {
  it("accepts the four choices and nothing else (e.g. a corrupted stored value)", () => {
    for (const value of ["system", "light", "dark", "highContrast"]) expect(isThemePreference(value)).toBe(true);
    for (const value of ["", "Dark", "sepia", null, undefined, 3]) expect(isThemePreference(value)).toBe(false);
  });
});
