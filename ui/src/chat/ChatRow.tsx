import {
  Avatar,
  Caption1,
  CounterBadge,
  Text,
  createFocusOutlineStyle,
  makeStyles,
  mergeClasses,
  tokens,
} from "@fluentui/react-components";
import type { ChatSummary } from "../core";
import { fullTime, relativeTime } from "./time";

const useStyles = makeStyles({
  row: {
    display: "grid",
    gridTemplateColumns: "auto 1fr auto",
    gridTemplateRows: "auto auto",
    columnGap: tokens.spacingHorizontalS,
    alignItems: "center",
    width: "100%",
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    border: "none",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: "transparent",
    color: tokens.colorNeutralForeground1,
    textAlign: "start",
    fontFamily: tokens.fontFamilyBase,
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorSubtleBackgroundHover },
    ...createFocusOutlineStyle(),
  },
  selected: {
    backgroundColor: tokens.colorNeutralBackground1Selected,
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Selected },
  },
  avatar: { gridRow: "1 / span 2" },
  title: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  preview: {
    overflow: "hidden",
    textOverflow: "ellipsis",
    whiteSpace: "nowrap",
    color: tokens.colorNeutralForeground3,
  },
  unread: { fontWeight: tokens.fontWeightBold, color: tokens.colorNeutralForeground1 },
  time: { color: tokens.colorNeutralForeground3, justifySelf: "end" },
  badge: { justifySelf: "end" },
});

interface ChatRowProps {
  chat: ChatSummary;
  selected: boolean;
  onSelect: (chatId: string) => void;
  /** The list's clock, for the relative time. */
  now: Date;
  selfName: string | null;
}

/** One chat in the list: avatar, title, last message, time, unread count. */
export function ChatRow({ chat, selected, onSelect, now, selfName }: ChatRowProps) {
  const styles = useStyles();
  const unread = chat.unreadCount > 0;
  const last = chat.lastMessage;
  const author = last !== null && last.from === selfName ? "You" : last?.from;
  const preview = last === null ? "" : `${author}: ${last.text}`;
  const label = [chat.title, unread ? `${chat.unreadCount} unread` : null, preview || null]
    .filter(Boolean)
    .join(", ");
  return (
    <button
      type="button"
      className={mergeClasses(styles.row, selected && styles.selected)}
      aria-current={selected ? "true" : undefined}
      aria-label={label}
      data-testid="chat-row"
      data-chat-id={chat.id}
      data-unread={unread ? "true" : "false"}
      onClick={() => onSelect(chat.id)}
    >
      <Avatar
        className={styles.avatar}
        name={chat.title}
        size={36}
        color="colorful"
        shape={chat.kind === "oneOnOne" ? "circular" : "square"}
        aria-hidden
      />
      <Text className={mergeClasses(styles.title, unread && styles.unread)} data-testid="chat-row-title">
        {chat.title}
      </Text>
      <Caption1 className={styles.time} title={fullTime(chat.updatedAt)}>
        {relativeTime(chat.updatedAt, now)}
      </Caption1>
      <Caption1 className={mergeClasses(styles.preview, unread && styles.unread)}>{preview}</Caption1>
      {unread ? (
        <CounterBadge
          className={styles.badge}
          count={chat.unreadCount}
          size="small"
          color="brand"
          data-testid="unread-badge"
          aria-hidden
        />
      ) : (
        <span />
      )}
    </button>
  );
}
