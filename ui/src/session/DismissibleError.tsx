import { Button, MessageBar, MessageBarActions, MessageBarBody } from "@fluentui/react-components";
import { DismissRegular } from "@fluentui/react-icons";

interface DismissibleErrorProps {
  message: string;
  onDismiss: () => void;
  testId: string;
}

/** An error in the core's words, which the person can put away. */
export function DismissibleError({ message, onDismiss, testId }: DismissibleErrorProps) {
  return (
    <MessageBar intent="error" layout="multiline" data-testid={testId}>
      <MessageBarBody>{message}</MessageBarBody>
      <MessageBarActions
        containerAction={
          <Button appearance="transparent" aria-label="Dismiss" icon={<DismissRegular />} onClick={onDismiss} />
        }
      />
    </MessageBar>
  );
}
