import { Avatar, Body1, Caption1, Title2, makeStyles, tokens, useId } from "@fluentui/react-components";
import type { AccountProfile } from "../core";

/** The panes still waiting to be built (Chat has its own screen now). */
export type SignedInPurpose = "calls";

const comingText: Record<SignedInPurpose, string> = {
  calls: "Calls arrive in a later version of Convene.",
};

const useStyles = makeStyles({
  root: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    textAlign: "center",
    gap: tokens.spacingVerticalM,
    minHeight: "60%",
    boxSizing: "border-box",
    padding: tokens.spacingHorizontalXXL,
  },
  title: { margin: 0 },
  username: { color: tokens.colorNeutralForeground3 },
  coming: { color: tokens.colorNeutralForeground2 },
});

/** Calls while signed in, until it is built: who you are, and honestly what is next. */
export function SignedInPlaceholder({ purpose, account }: { purpose: SignedInPurpose; account: AccountProfile }) {
  const styles = useStyles();
  const titleId = useId("signed-in-title");
  return (
    <section className={styles.root} aria-labelledby={titleId} data-testid="signed-in-pane">
      <Avatar name={account.name} size={72} color="colorful" aria-hidden />
      <Title2 as="h1" id={titleId} className={styles.title} data-testid="signed-in-user">
        {account.name}
      </Title2>
      <Caption1 className={styles.username}>Signed in as {account.username}</Caption1>
      <Body1 className={styles.coming}>{comingText[purpose]}</Body1>
    </section>
  );
}
