import { useEffect, useState, type ReactNode } from "react";
import { makeStyles, tokens } from "@fluentui/react-components";
import { AccountMenu } from "../account/AccountMenu";
import { CallsScreen } from "../call/CallsScreen";
import { isInCallStage } from "../call/callState";
import { InCallView } from "../call/InCallView";
import { IncomingCallToast } from "../call/IncomingCallToast";
import { CallContext, useCallStore } from "../call/useCallStore";
import { ChatScreen } from "../chat/ChatScreen";
import { useUnreadTotal } from "../chat/useUnreadTotal";
import { useAppInfo } from "../appInfo/useAppInfo";
import { useConnectionStatus } from "../connection/useConnectionStatus";
import { SessionNotices } from "../session/SessionNotices";
import { SessionSkeleton } from "../session/SessionSkeleton";
import { useSession } from "../session/useSession";
import { SettingsScreen, type ThemeChoice } from "../settings/SettingsScreen";
import { SignInScreen } from "../signIn/SignInScreen";
import { useReportUiReady } from "../startup/useReportUiReady";
import { conveneThemes } from "../theme/brand";
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
    position: "relative",
    flexGrow: 1,
    minWidth: 0,
    overflow: "auto",
    // Focused only programmatically (skip link); its content has the rings.
    outlineStyle: "none",
  },
  chatPane: { height: "100%" },
  // Kept laid out (scroll positions, measured rows) but out of sight, reach and the accessibility tree.
  chatPaneAway: { position: "absolute", inset: 0, visibility: "hidden", pointerEvents: "none" },
});

/** The window: app bar on the left, the current pane beside it. */
export function AppFrame({ theme }: { theme: ThemeChoice }) {
  const styles = useStyles();
  const [pane, setPane] = useState<Pane>("chat");
  const { appInfo, reload } = useAppInfo();
  const connection = useConnectionStatus();
  const session = useSession();
  const { account } = session;
  const unread = useUnreadTotal(account?.userId ?? null);
  const calls = useCallStore();
  useReportUiReady();

  const { call, ended } = calls.state;
  // The call takes over the main pane while it goes on, and for a moment after it ends.
  const onStage =
    call !== null && isInCallStage(call.stage)
      ? { call, ended: false }
      : ended !== null && ended.place === "view"
        ? { call: ended.call, ended: true }
        : null;
  const ringing =
    call !== null && call.stage === "incoming"
      ? { call, ended: false }
      : ended !== null && ended.place === "toast"
        ? { call: ended.call, ended: true }
        : null;

  const { markMissedSeen } = calls;
  const missed = calls.state.missed;
  const showingCalls = pane === "calls" && account !== null && onStage === null;
  useEffect(() => {
    if (showingCalls && missed > 0) markMissedSeen();
  }, [showingCalls, missed, markMissedSeen]);

  let content: ReactNode;
  if (onStage !== null) {
    content = (
      <InCallView
        call={onStage.call}
        ended={onStage.ended}
        store={calls}
        theme={theme.resolved === "highContrast" ? conveneThemes.highContrast : conveneThemes.dark}
      />
    );
  } else if (pane === "settings") {
    content = <SettingsScreen theme={theme} appInfo={appInfo} onReloadAppInfo={reload} />;
  } else if (session.loading) {
    content = <SessionSkeleton />;
  } else if (account === null) {
    content = (
      <SignInScreen
        purpose={pane}
        appInfo={appInfo}
        onReloadAppInfo={reload}
        connection={connection}
        signIn={session.signIn}
        onSignIn={() => session.startSignIn(null)}
        onCancelSignIn={session.cancelSignIn}
        onDismissSignInError={session.dismissSignInError}
      />
    );
  } else if (pane === "chat") {
    // The chat screen below stays mounted while signed in.
    content = null;
  } else {
    content = <CallsScreen revision={calls.state.historyRevision} busy={call !== null || calls.placing} onCall={calls.place} />;
  }

  const chatShown = pane === "chat" && onStage === null;

  return (
    <CallContext.Provider value={calls}>
      <div className={styles.frame}>
        <SkipLink targetId={MAIN_ID} />
        <AppRail
          current={pane}
          onNavigate={setPane}
          badges={{ chat: unread, calls: pane === "calls" ? 0 : missed }}
          account={
            account === null ? undefined : (
              <AccountMenu
                account={account}
                accounts={session.accounts}
                onSwitch={session.switchAccount}
                onAddAccount={() => session.startSignIn(null)}
                onSignOut={session.signOut}
              />
            )
          }
        />
        <main id={MAIN_ID} tabIndex={-1} className={styles.main} data-testid="main-pane">
          {account !== null && <SessionNotices session={session} />}
          {!session.loading && account !== null && (
            // Stays mounted on other panes so drafts, the open chat and its scroll position survive a visit to Settings.
            <div className={chatShown ? styles.chatPane : styles.chatPaneAway} inert={!chatShown}>
              {/* Keyed by account: another account's chats start from scratch. */}
              <ChatScreen key={account.userId} active={chatShown} selfName={account.name} />
            </div>
          )}
          {content}
        </main>
        {ringing !== null && (
          <IncomingCallToast
            call={ringing.call}
            ended={ringing.ended}
            onAccept={calls.answer}
            onDecline={calls.decline}
            onDismiss={calls.dismissEnded}
          />
        )}
      </div>
    </CallContext.Provider>
  );
}
