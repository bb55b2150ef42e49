import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import {
  Button,
  Caption1,
  Popover,
  PopoverSurface,
  PopoverTrigger,
  Text,
  Textarea,
  Toolbar,
  ToolbarButton,
  makeStyles,
  mergeClasses,
  tokens,
} from "@fluentui/react-components";
import {
  CodeRegular,
  DismissRegular,
  EditRegular,
  EmojiRegular,
  SendRegular,
  TextBoldRegular,
  TextBulletListLtrRegular,
  TextItalicRegular,
} from "@fluentui/react-icons";
import type { Person } from "../core";
import { isBlank, mentionCandidates, mentionQuery, type ComposerDraft } from "./composerText";
import { messagePreview } from "./MessageRow";
import { COMPOSER_EMOJI } from "./reactions";

const useStyles = makeStyles({
  root: {
    position: "relative",
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXS,
    margin: `0 ${tokens.spacingHorizontalXXL} ${tokens.spacingVerticalL}`,
    padding: tokens.spacingHorizontalS,
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow4,
  },
  chip: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalS,
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    borderLeft: `3px solid ${tokens.colorBrandStroke1}`,
    backgroundColor: tokens.colorNeutralBackground3,
    borderRadius: tokens.borderRadiusSmall,
  },
  chipText: { flexGrow: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  row: { display: "flex", alignItems: "flex-end", gap: tokens.spacingHorizontalXS },
  input: { flexGrow: 1 },
  textarea: { maxHeight: "200px" },
  suggestions: {
    position: "absolute",
    bottom: "100%",
    left: tokens.spacingHorizontalS,
    minWidth: "240px",
    marginBottom: tokens.spacingVerticalXS,
    padding: tokens.spacingVerticalXS,
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow16,
    listStyleType: "none",
    zIndex: 3,
  },
  option: {
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    borderRadius: tokens.borderRadiusSmall,
    cursor: "pointer",
  },
  active: { backgroundColor: tokens.colorNeutralBackground1Selected },
  emojiGrid: { display: "grid", gridTemplateColumns: "repeat(8, 36px)", gap: "2px" },
  emoji: { fontSize: "20px", minWidth: "36px" },
});

interface ComposerProps {
  chatTitle: string;
  members: Person[];
  draft: ComposerDraft;
  onChange: (draft: ComposerDraft) => void;
  /** Enter or the send button, with a non-blank draft. */
  onSubmit: () => void;
  /** Editing a message I sent (instead of writing a new one). */
  editing: boolean;
  onCancelEdit: () => void;
  /** Called on every change of the text; the caller throttles. */
  onTyping: () => void;
}

interface Selection {
  start: number;
  end: number;
}

/**
 * Where a message is written: light markup in a textarea (see composerText),
 * a formatting toolbar with Ctrl+B / Ctrl+I, emoji, @mention suggestions from
 * the chat's members, the reply quote, and Enter to send (Shift+Enter for a
 * new line).
 */
export function Composer({ chatTitle, members, draft, onChange, onSubmit, editing, onCancelEdit, onTyping }: ComposerProps) {
  const styles = useStyles();
  const ref = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [caret, setCaret] = useState(draft.text.length);
  const [active, setActive] = useState(0);
  // The @ position whose suggestions Escape put away.
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  // Where the caret goes once React has put new text in the textarea.
  const pendingSelection = useRef<Selection | null>(null);

  useLayoutEffect(() => {
    const selection = pendingSelection.current;
    if (selection === null || ref.current === null) return;
    pendingSelection.current = null;
    ref.current.setSelectionRange(selection.start, selection.end);
  });

  // Starting an edit or a reply (from a message's actions) continues here, at the end of the text.
  const replyKey = draft.replyTo?.key ?? null;
  useEffect(() => {
    const element = ref.current;
    if (element === null || (!editing && replyKey === null)) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, [editing, replyKey]);

  const query = mentionQuery(draft.text, caret);
  const candidates = query === null || query.start === dismissedAt ? [] : mentionCandidates(members, query.query);
  const suggesting = candidates.length > 0;
  const activeIndex = Math.min(active, candidates.length - 1);

  const change = (text: string, selection: Selection, mentions = draft.mentions) => {
    pendingSelection.current = selection;
    setCaret(selection.end);
    onChange({ ...draft, text, mentions });
    onTyping();
  };

  const selection = (): Selection => {
    const element = ref.current;
    return element === null
      ? { start: draft.text.length, end: draft.text.length }
      : { start: element.selectionStart, end: element.selectionEnd };
  };

  const wrap = (marker: string) => {
    const { start, end } = selection();
    const text = draft.text;
    change(text.slice(0, start) + marker + text.slice(start, end) + marker + text.slice(end), {
      start: start + marker.length,
      end: end + marker.length,
    });
    ref.current?.focus();
  };

  const toggleList = () => {
    const { start, end } = selection();
    const text = draft.text;
    const lineStart = text.lastIndexOf("\n", start - 1) + 1;
    const lineEnd = text.indexOf("\n", end) === -1 ? text.length : text.indexOf("\n", end);
    const lines = text.slice(lineStart, lineEnd).split("\n");
    const bulleted = lines.every((line) => line.startsWith("- "));
    const next = lines.map((line) => (bulleted ? line.slice(2) : `- ${line}`)).join("\n");
    const updated = text.slice(0, lineStart) + next + text.slice(lineEnd);
    const caretAt = lineStart + next.length;
    change(updated, { start: caretAt, end: caretAt });
    ref.current?.focus();
  };

  const insert = (value: string) => {
    const { start, end } = selection();
    const at = start + value.length;
    change(draft.text.slice(0, start) + value + draft.text.slice(end), { start: at, end: at });
    ref.current?.focus();
  };

  const pick = (person: Person) => {
    if (query === null) return;
    const inserted = `@${person.displayName} `;
    const text = draft.text.slice(0, query.start) + inserted + draft.text.slice(caret);
    const at = query.start + inserted.length;
    const mentions = draft.mentions.some((p) => p.id === person.id) ? draft.mentions : [...draft.mentions, person];
    setActive(0);
    change(text, { start: at, end: at }, mentions);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.nativeEvent.isComposing) return;
    if (suggesting) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        setActive((activeIndex + step + candidates.length) % candidates.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        const person = candidates[activeIndex];
        if (person !== undefined) pick(person);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        setDismissedAt(query?.start ?? null);
        return;
      }
    }
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.shiftKey && !event.altKey && (event.key === "b" || event.key === "B")) {
      event.preventDefault();
      wrap("**");
    } else if (mod && !event.shiftKey && !event.altKey && (event.key === "i" || event.key === "I")) {
      event.preventDefault();
      wrap("_");
    } else if (event.key === "Enter" && !event.shiftKey && !mod) {
      event.preventDefault();
      if (!isBlank(draft)) onSubmit();
    } else if (event.key === "Escape") {
      if (editing) {
        event.preventDefault();
        onCancelEdit();
      } else if (draft.replyTo !== null) {
        event.preventDefault();
        onChange({ ...draft, replyTo: null });
      }
    }
  };

  const optionId = (index: number) => `${listId}-option-${index}`;
  const rows = Math.min(8, Math.max(1, draft.text.split("\n").length));

  return (
    <div className={styles.root}>
      {editing && (
        <div className={styles.chip} data-testid="editing-chip">
          <EditRegular aria-hidden />
          <Caption1 className={styles.chipText}>Editing your message. Esc cancels.</Caption1>
          <Button size="small" appearance="subtle" icon={<DismissRegular />} aria-label="Cancel editing" onClick={onCancelEdit} />
        </div>
      )}
      {!editing && draft.replyTo !== null && (
        <div className={styles.chip} data-testid="reply-chip">
          <span className={styles.chipText}>
            <Text size={200} weight="semibold">
              Replying to {draft.replyTo.from.displayName}:{" "}
            </Text>
            <Text size={200}>{messagePreview(draft.replyTo)}</Text>
          </span>
          <Button
            size="small"
            appearance="subtle"
            icon={<DismissRegular />}
            aria-label="Cancel reply"
            onClick={() => onChange({ ...draft, replyTo: null })}
          />
        </div>
      )}
      {suggesting && (
        <ul className={styles.suggestions} id={listId} role="listbox" aria-label="People to mention" data-testid="mention-suggestions">
          {candidates.map((person, index) => (
            <li
              key={person.id}
              id={optionId(index)}
              role="option"
              aria-selected={index === activeIndex}
              className={mergeClasses(styles.option, index === activeIndex && styles.active)}
              data-testid="mention-option"
              // Keep focus in the textarea.
              onMouseDown={(event) => event.preventDefault()}
              onClick={() => pick(person)}
            >
              {person.displayName}
            </li>
          ))}
        </ul>
      )}
      <Toolbar size="small" aria-label="Formatting">
        <ToolbarButton icon={<TextBoldRegular />} aria-label="Bold (Ctrl+B)" title="Bold (Ctrl+B)" onClick={() => wrap("**")} />
        <ToolbarButton icon={<TextItalicRegular />} aria-label="Italic (Ctrl+I)" title="Italic (Ctrl+I)" onClick={() => wrap("_")} />
        <ToolbarButton icon={<CodeRegular />} aria-label="Code" title="Code" onClick={() => wrap("`")} />
        <ToolbarButton icon={<TextBulletListLtrRegular />} aria-label="Bulleted list" title="Bulleted list" onClick={toggleList} />
        <Popover trapFocus withArrow positioning="above-start">
          <PopoverTrigger disableButtonEnhancement>
            <ToolbarButton icon={<EmojiRegular />} aria-label="Emoji" title="Emoji" />
          </PopoverTrigger>
          <PopoverSurface aria-label="Emoji">
            <div className={styles.emojiGrid}>
              {COMPOSER_EMOJI.map((emoji) => (
                <Button key={emoji} appearance="subtle" className={styles.emoji} aria-label={emoji} onClick={() => insert(emoji)}>
                  {emoji}
                </Button>
              ))}
            </div>
          </PopoverSurface>
        </Popover>
      </Toolbar>
      <div className={styles.row}>
        <Textarea
          className={styles.input}
          textarea={{ ref, className: styles.textarea }}
          appearance="filled-lighter"
          resize="none"
          rows={rows}
          value={draft.text}
          placeholder={editing ? "Edit your message" : `Type a message to ${chatTitle}`}
          aria-label={editing ? "Edit message" : `Message ${chatTitle}`}
          aria-autocomplete="list"
          aria-controls={suggesting ? listId : undefined}
          aria-activedescendant={suggesting ? optionId(activeIndex) : undefined}
          data-testid="composer"
          onChange={(event, data) => {
            const at = event.target.selectionStart;
            setCaret(at);
            setActive(0);
            onChange({ ...draft, text: data.value });
            onTyping();
          }}
          onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
        />
        <Button
          appearance="transparent"
          icon={editing ? <EditRegular /> : <SendRegular />}
          aria-label={editing ? "Save" : "Send"}
          title={editing ? "Save (Enter)" : "Send (Enter)"}
          disabled={isBlank(draft)}
          onClick={onSubmit}
          data-testid="send-button"
        />
      </div>
    </div>
  );
}
