import { FluentProvider, makeStaticStyles } from "@fluentui/react-components";
import { AppFrame } from "./frame/AppFrame";
import { conveneThemes } from "./theme/brand";
import { resolveTheme } from "./theme/themeResolution";
import { useSystemAppearance } from "./theme/useSystemAppearance";
import { useThemePreference } from "./theme/useThemePreference";

const useDocumentStyles = makeStaticStyles({
  "html, body, #root": { height: "100%", margin: 0 },
});

export function App() {
  useDocumentStyles();
  const [preference, choose] = useThemePreference();
  const resolved = resolveTheme(preference, useSystemAppearance());

  return (
    <FluentProvider theme={conveneThemes[resolved]} style={{ height: "100%" }} data-theme={resolved}>
      <AppFrame theme={{ preference, resolved, choose }} />
    </FluentProvider>
  );
}
