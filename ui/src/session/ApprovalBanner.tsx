import { Button, MessageBar, MessageBarActions, MessageBarBody } from "@fluentui/react-components";
import type { Approval } from "./useSession";

interface ApprovalBannerProps {
  approval: Approval;
  /** A sign-in is already running: the button waits for it. */
  signingIn: boolean;
  onContinue: (loginHint: string) => void;
}

/**
 * The account stays signed in, but the organisation's sign-in wants the person once more (to approve a
 * permission Convene asks for, or for a policy such as multi-factor); what needs it waits meanwhile.
 */
export function ApprovalBanner({ approval, signingIn, onContinue }: ApprovalBannerProps) {
  const { account, purpose } = approval;
  return (
    <MessageBar intent="info" layout="multiline" data-testid="approval-needed">
      <MessageBarBody>
        To {purpose}, Convene needs your approval for {account.username}. Continue in your browser; you stay signed
        in.
      </MessageBarBody>
      <MessageBarActions>
        <Button disabledFocusable={signingIn} onClick={() => onContinue(account.username)}>
          Continue
        </Button>
      </MessageBarActions>
    </MessageBar>
  );
}
