import { Caption1, makeStyles, tokens } from "@fluentui/react-components";
import type { Person } from "../core";
import type { TypingPerson } from "./chatState";

const useStyles = makeStyles({
  line: {
    minHeight: "20px",
    padding: `0 ${tokens.spacingHorizontalXXL}`,
    color: tokens.colorNeutralForeground3,
    fontStyle: "italic",
  },
});

/**
 * The typing line's words. A typing signal may come without a name: the
 * chat's members supply it, or "Someone".
 */
export function typingText(people: readonly TypingPerson[], members: readonly Person[] = []): string {
  const names = people.map(
    ({ person }) =>
      (person.displayName.trim() || members.find((m) => m.id === person.id)?.displayName.trim()) ?? "Someone",
  );
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "Several people are typing…";
}

/** "Bob is typing…" above the composer; a live region, so it stays in the tree when empty. */
export function TypingIndicator({ people, members }: { people: readonly TypingPerson[]; members: readonly Person[] }) {
  const styles = useStyles();
  return (
    <Caption1 block className={styles.line} aria-live="polite" data-testid="typing-indicator">
      {typingText(people, members)}
    </Caption1>
  );
}
