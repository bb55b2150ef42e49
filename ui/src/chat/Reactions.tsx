import { Button, Popover, PopoverSurface, PopoverTrigger, makeStyles, mergeClasses, tokens } from "@fluentui/react-components";
import { EmojiAddRegular } from "@fluentui/react-icons";
import type { ReactionCount } from "../core";
import { QUICK_REACTIONS } from "./reactions";

const useStyles = makeStyles({
  row: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalXS, marginTop: "2px" },
  chip: {
    display: "inline-flex",
    alignItems: "center",
    gap: "4px",
    padding: `0 ${tokens.spacingHorizontalS}`,
    minHeight: "22px",
    borderRadius: tokens.borderRadiusCircular,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground1,
    fontFamily: tokens.fontFamilyBase,
    fontSize: tokens.fontSizeBase200,
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover },
  },
  mine: {
    border: `${tokens.strokeWidthThin} solid ${tokens.colorCompoundBrandStroke}`,
    backgroundColor: tokens.colorBrandBackground2,
  },
  picker: { display: "flex", gap: "2px", padding: tokens.spacingHorizontalXS },
  emoji: { fontSize: "20px", minWidth: "36px" },
});

interface ReactionsProps {
  reactions: ReactionCount[];
  onToggle: (reaction: string, on: boolean) => void;
}

/** The reactions under a bubble; clicking one adds or removes mine. */
export function Reactions({ reactions, onToggle }: ReactionsProps) {
  const styles = useStyles();
  if (reactions.length === 0) return null;
  return (
    <div className={styles.row} role="group" aria-label="Reactions">
      {reactions.map((r) => {
        const who = r.names.length > 0 ? `: ${r.names.join(", ")}` : "";
        return (
          <button
            key={r.reaction}
            type="button"
            className={mergeClasses(styles.chip, r.mine && styles.mine)}
            aria-pressed={r.mine}
            aria-label={`${r.reaction} ${r.count}${who}`}
            title={r.names.join(", ")}
            data-testid="reaction"
            data-reaction={r.reaction}
            onClick={() => onToggle(r.reaction, !r.mine)}
          >
            <span aria-hidden>{r.reaction}</span>
            <span aria-hidden>{r.count}</span>
          </button>
        );
      })}
    </div>
  );
}

interface ReactionPickerProps {
  reactions: ReactionCount[];
  onToggle: (reaction: string, on: boolean) => void;
}

/** The "React" action: the six quick reactions in a popover. */
export function ReactionPicker({ reactions, onToggle }: ReactionPickerProps) {
  const styles = useStyles();
  const mine = new Set(reactions.filter((r) => r.mine).map((r) => r.reaction));
  return (
    <Popover trapFocus withArrow positioning="above">
      <PopoverTrigger disableButtonEnhancement>
        <Button size="small" appearance="subtle" icon={<EmojiAddRegular />} aria-label="React" title="React" />
      </PopoverTrigger>
      <PopoverSurface className={styles.picker} aria-label="Reactions">
        {QUICK_REACTIONS.map((reaction) => (
          <Button
            key={reaction}
            appearance={mine.has(reaction) ? "primary" : "subtle"}
            className={styles.emoji}
            aria-label={reaction}
            aria-pressed={mine.has(reaction)}
            data-testid="reaction-option"
            data-reaction={reaction}
            onClick={() => onToggle(reaction, !mine.has(reaction))}
          >
            {reaction}
          </Button>
        ))}
      </PopoverSurface>
    </Popover>
  );
}
