import { Button, MessageBar, MessageBarActions, MessageBarBody } from "@fluentui/react-components";
import type { AccountProfile } from "../core";

interface SessionExpiredBannerProps {
  account: AccountProfile;
  /** A sign-in is already running: the button waits for it. */
  signingIn: boolean;
  onSignInAgain: (loginHint: string) => void;
}

/** The account's session ended; everything else stays as it is until it signs in again. */
export function SessionExpiredBanner({ account, signingIn, onSignInAgain }: SessionExpiredBannerProps) {
  return (
    <MessageBar intent="warning" layout="multiline" data-testid="session-expired">
      <MessageBarBody>
        Your session for {account.username} has ended. Sign in again to keep using Convene.
      </MessageBarBody>
      <MessageBarActions>
        <Button disabledFocusable={signingIn} onClick={() => onSignInAgain(account.username)}>
          Sign in again
        </Button>
      </MessageBarActions>
    </MessageBar>
  );
}
