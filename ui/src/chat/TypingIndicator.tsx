import { Caption1, makeStyles, tokens } from "@fluentui/react-components";
import type { TypingPerson } from "./chatState";

const useStyles = makeStyles({
  line: {
    minHeight: "20px",
    padding: `0 ${tokens.spacingHorizontalXXL}`,
    color: tokens.colorNeutralForeground3,
    fontStyle: "italic",
  },
});

export function typingText(people: readonly TypingPerson[]): string {
  const names = people.map((t) => t.person.displayName);
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

/** "Bob is typing…" above the composer; a live region, so it stays in the tree when empty. */
export function TypingIndicator({ people }: { people: readonly TypingPerson[] }) {
  const styles = useStyles();
  return (
    <Caption1 block className={styles.line} aria-live="polite" data-testid="typing-indicator">
      {typingText(people)}
    </Caption1>
  );
}
