import { makeStyles, tokens } from "@fluentui/react-components";
import { DismissibleError } from "./DismissibleError";
import { ApprovalBanner } from "./ApprovalBanner";
import { SessionExpiredBanner } from "./SessionExpiredBanner";
import { SignInStatus } from "./SignInStatus";
import type { SessionView } from "./useSession";

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalL} 0`,
  },
  // Nothing to say: the live regions stay (to be heard when they fill) but take no room.
  quiet: { display: "contents" },
});

/**
 * The banners at the top of the main pane while signed in: an ended session,
 * an approval the account waits for, a sign-in in progress ("Add another account", "Sign in again"), and why
 * switching or signing out failed.
 */
export function SessionNotices({ session }: { session: SessionView }) {
  const styles = useStyles();
  const { expired, approval, signIn, accountError } = session;
  const quiet =
    expired === null && approval === null && signIn.phase === "idle" && signIn.error === null && accountError === null;

  return (
    <div className={quiet ? styles.quiet : styles.root}>
      {expired !== null && (
        <SessionExpiredBanner
          account={expired}
          signingIn={signIn.phase !== "idle"}
          onSignInAgain={session.startSignIn}
        />
      )}
      {expired === null && approval !== null && (
        <ApprovalBanner approval={approval} signingIn={signIn.phase !== "idle"} onContinue={session.startSignIn} />
      )}
      <SignInStatus signIn={signIn} onCancel={session.cancelSignIn} onDismissError={session.dismissSignInError} />
      <div aria-live="polite" className={styles.quiet}>
        {accountError !== null && (
          <DismissibleError message={accountError} onDismiss={session.dismissAccountError} testId="account-error" />
        )}
      </div>
    </div>
  );
}
