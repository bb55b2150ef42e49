import { useState } from "react";
import { makeStyles, tokens } from "@fluentui/react-components";
import { useAppInfo } from "../appInfo/useAppInfo";
import { useConnectionStatus } from "../connection/useConnectionStatus";
import { SettingsScreen, type ThemeChoice } from "../settings/SettingsScreen";
import { SignInScreen } from "../signIn/SignInScreen";
import { useReportUiReady } from "../startup/useReportUiReady";
import { AppRail } from "./AppRail";
import type { Pane } from "./panes";
import { SkipLink } from "./SkipLink";

const MAIN_ID = "main-content";

const useStyles = makeStyles({
  frame: {
    position: "relative",
    display: "flex",
    height: "100%",
    overflow: "hidden",
    backgroundColor: tokens.colorNeutralBackground2,
    color: tokens.colorNeutralForeground1,
  },
  main: {
    flexGrow: 1,
    minWidth: 0,
    overflow: "auto",
    // Focused only programmatically (skip link); its content has the rings.
    outlineStyle: "none",
  },
});

/** The window: app bar on the left, the current pane beside it. */
export function AppFrame({ theme }: { theme: ThemeChoice }) {
  const styles = useStyles();
  const [pane, setPane] = useState<Pane>("chat");
  const { appInfo, reload } = useAppInfo();
  const connection = useConnectionStatus();
  useReportUiReady();

  return (
    <div className={styles.frame}>
      <SkipLink targetId={MAIN_ID} />
      <AppRail current={pane} onNavigate={setPane} />
      <main id={MAIN_ID} tabIndex={-1} className={styles.main} data-testid="main-pane">
        {pane === "settings" ? (
          <SettingsScreen theme={theme} appInfo={appInfo} onReloadAppInfo={reload} />
        ) : (
          <SignInScreen purpose={pane} appInfo={appInfo} onReloadAppInfo={reload} connection={connection} />
        )}
      </main>
    </div>
  );
}
