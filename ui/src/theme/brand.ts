import {
  createDarkTheme,
  createLightTheme,
  teamsHighContrastTheme,
  type BrandVariants,
  type Theme,
} from "@fluentui/react-components";
import type { ResolvedTheme } from "./themeResolution";

/**
 * Convene's accent: a deep teal. 80 (#057D75) is the light theme's brand
 * colour and keeps 5:1 contrast with white text; 110 is the dark theme's
 * brand foreground (5:1 on the dark surfaces).
 */
export const conveneBrand: BrandVariants = {
  10: "#051413",
  20: "#072220",
  30: "#07312E",
  40: "#06413D",
  50: "#05514C",
  60: "#04625C",
  70: "#036F68",
  80: "#057D75",
  90: "#118880",
  100: "#23958D",
  110: "#35A79F",
  120: "#40BFB7",
  130: "#62CBC4",
  140: "#83D8D2",
  150: "#A7E6E2",
  160: "#D2F4F2",
};

const lightTheme: Theme = createLightTheme(conveneBrand);

const darkTheme: Theme = {
  ...createDarkTheme(conveneBrand),
  // Fluent's guidance for custom brands: lighter brand text on dark surfaces.
  colorBrandForeground1: conveneBrand[110],
  colorBrandForeground2: conveneBrand[120],
};

export const conveneThemes: Record<ResolvedTheme, Theme> = {
  light: lightTheme,
  dark: darkTheme,
  // High contrast keeps Fluent's own palette: its colours are chosen for
  // legibility, not for branding.
  highContrast: teamsHighContrastTheme,
};
