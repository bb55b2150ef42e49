import { Button, MessageBar, MessageBarActions, MessageBarBody, MessageBarTitle } from "@fluentui/react-components";

/** What to show when the core could not tell us its settings. */
export function AppInfoError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <MessageBar intent="error" layout="multiline" data-testid="app-info-error">
      <MessageBarBody>
        <MessageBarTitle>Convene couldn't load its settings.</MessageBarTitle>
        {message}
        <br />
        Try again; if it keeps happening, restart Convene.
      </MessageBarBody>
      <MessageBarActions>
        <Button onClick={onRetry}>Try again</Button>
      </MessageBarActions>
    </MessageBar>
  );
}
