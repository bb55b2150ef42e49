import {
  Button,
  MessageBar,
  MessageBarActions,
  MessageBarBody,
  Spinner,
  makeStyles,
  tokens,
} from "@fluentui/react-components";
import { DismissibleError } from "./DismissibleError";
import type { SignInPhase, SignInView } from "./useSession";

const useStyles = makeStyles({
  region: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalS,
  },
  // An empty live region must stay in the tree (to be heard when it fills) but take no room.
  empty: { display: "contents" },
});

const progressText: Record<Exclude<SignInPhase, "idle">, string> = {
  starting: "Opening your browser…",
  waitingForBrowser: "Finish signing in in your browser…",
};

interface SignInStatusProps {
  signIn: SignInView;
  onCancel: () => void;
  onDismissError: () => void;
}

/**
 * How an interactive sign-in is going: progress with Cancel while the browser
 * is open, or why it did not work. A live region, so screen readers hear it.
 */
export function SignInStatus({ signIn, onCancel, onDismissError }: SignInStatusProps) {
  const styles = useStyles();
  const { phase, error } = signIn;
  const empty = phase === "idle" && error === null;

  return (
    <div className={empty ? styles.empty : styles.region} aria-live="polite" aria-atomic="true">
      {phase !== "idle" && (
        <MessageBar intent="info" icon={<Spinner size="tiny" />} data-testid="sign-in-progress">
          <MessageBarBody>{progressText[phase]}</MessageBarBody>
          <MessageBarActions>
            <Button onClick={onCancel} data-testid="cancel-sign-in">
              Cancel
            </Button>
          </MessageBarActions>
        </MessageBar>
      )}
      {error !== null && (
        <DismissibleError message={error} onDismiss={onDismissError} testId="sign-in-error" />
      )}
    </div>
  );
}
