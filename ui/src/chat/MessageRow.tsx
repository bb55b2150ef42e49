import {
  Avatar,
  Button,
  Caption1,
  Text,
  createFocusOutlineStyle,
  makeStyles,
  mergeClasses,
  tokens,
  useFocusableGroup,
} from "@fluentui/react-components";
import {
  ArrowReplyRegular,
  ClockRegular,
  DeleteRegular,
  EditRegular,
  ErrorCircleRegular,
  EyeRegular,
} from "@fluentui/react-icons";
import { useState } from "react";
import type { ThreadMessage } from "../core";
import { plainText } from "./composerText";
import { ReactionPicker, Reactions } from "./Reactions";
import { clockTime, fullTime } from "./time";

/** What a person can do to a message; the thread passes these to every row. */
export interface MessageHandlers {
  onReact: (message: ThreadMessage, reaction: string, on: boolean) => void;
  onReply: (message: ThreadMessage) => void;
  onEdit: (message: ThreadMessage) => void;
  onDelete: (message: ThreadMessage) => void;
  onRetry: (message: ThreadMessage) => void;
  onDiscard: (message: ThreadMessage) => void;
}

const useStyles = makeStyles({
  row: {
    position: "relative",
    display: "flex",
    gap: tokens.spacingHorizontalS,
    padding: `2px ${tokens.spacingHorizontalL}`,
    ...createFocusOutlineStyle({ style: { outlineOffset: "-2px" } }),
    ":hover .message-actions": { opacity: 1 },
    ":focus-within .message-actions": { opacity: 1 },
  },
  first: { paddingTop: tokens.spacingVerticalM },
  mine: { flexDirection: "row-reverse" },
  gutter: { width: "32px", flexShrink: 0 },
  column: { position: "relative", display: "flex", flexDirection: "column", maxWidth: "72%", minWidth: 0 },
  mineColumn: { alignItems: "flex-end" },
  header: { display: "flex", gap: tokens.spacingHorizontalS, alignItems: "baseline", marginBottom: "2px" },
  meta: { color: tokens.colorNeutralForeground3 },
  bubble: {
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground1,
    boxShadow: tokens.shadow2,
    overflowWrap: "anywhere",
    fontSize: tokens.fontSizeBase300,
    lineHeight: tokens.lineHeightBase300,
  },
  mineBubble: { backgroundColor: tokens.colorBrandBackground2, color: tokens.colorNeutralForeground1 },
  failedBubble: { outline: `${tokens.strokeWidthThin} solid ${tokens.colorPaletteRedBorder2}` },
  body: {
    "& p": { margin: 0 },
    "& ul": { margin: 0, paddingInlineStart: "20px" },
    "& ol": { margin: 0, paddingInlineStart: "20px" },
    "& code": { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200 },
    "& at": { color: tokens.colorBrandForeground1, fontWeight: tokens.fontWeightSemibold },
    // The quote comes from replyTo; an <attachment> marker shows nothing.
    "& attachment": { display: "none" },
    "& emoji::after": { content: "attr(alt)" },
    "& img": { maxWidth: "100%" },
  },
  deleted: { fontStyle: "italic", color: tokens.colorNeutralForeground3 },
  quote: {
    display: "block",
    marginBottom: tokens.spacingVerticalXS,
    padding: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}`,
    borderLeft: `3px solid ${tokens.colorNeutralStroke1}`,
    backgroundColor: tokens.colorNeutralBackground3,
    borderRadius: tokens.borderRadiusSmall,
    color: tokens.colorNeutralForeground2,
  },
  status: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalXS, color: tokens.colorNeutralForeground3 },
  failed: { color: tokens.colorPaletteRedForeground1, flexWrap: "wrap" },
  actions: {
    position: "absolute",
    top: 0,
    display: "flex",
    gap: "2px",
    padding: "2px",
    borderRadius: tokens.borderRadiusMedium,
    backgroundColor: tokens.colorNeutralBackground1,
    boxShadow: tokens.shadow4,
    opacity: 0,
    zIndex: 1,
  },
  // Beside the bubble, on the empty side of the row, so it hides no words.
  actionsOthers: { left: "100%", marginLeft: tokens.spacingHorizontalS },
  actionsMine: { right: "100%", marginRight: tokens.spacingHorizontalS },
});

interface MessageRowProps {
  message: ThreadMessage;
  continued: boolean;
  seen: boolean;
  handlers: MessageHandlers;
}

/** One message: avatar and name when it starts a group, the bubble, reactions, delivery, and its actions. */
export function MessageRow({ message, continued, seen, handlers }: MessageRowProps) {
  const styles = useStyles();
  const { mine, delivery } = message;
  const sent = delivery.state === "sent";
  const canAct = sent && message.id !== null && !message.deleted;
  const who = mine ? "You" : message.from.displayName;
  // One stop per message: arrows move between messages, Enter goes into its buttons, Esc comes back.
  const focusGroup = useFocusableGroup({ tabBehavior: "limited-trap-focus" });
  // The action toolbar (a popover and three or four buttons) is built only
  // once the row is hovered or focused: opening a chat renders a screenful
  // of rows, and most of them are never acted on. It stays once built, so
  // its popover can leave the row; rows scrolled away are unmounted anyway.
  const [wanted, setWanted] = useState(false);
  const want = () => setWanted(true);

  return (
    <div
      className={mergeClasses(styles.row, !continued && styles.first, mine && styles.mine)}
      data-testid="message"
      data-key={message.key}
      data-state={delivery.state}
      data-mine={mine ? "true" : "false"}
      role="article"
      aria-label={`${who}, ${fullTime(message.createdAt)}`}
      tabIndex={0}
      {...focusGroup}
      onMouseEnter={want}
      onFocus={want}
    >
      {!mine && (
        <div className={styles.gutter}>
          {!continued && <Avatar name={message.from.displayName} size={32} color="colorful" aria-hidden />}
        </div>
      )}
      <div className={mergeClasses(styles.column, mine && styles.mineColumn)}>
        {!continued && (
          <div className={styles.header}>
            {!mine && <Text weight="semibold">{message.from.displayName}</Text>}
            <Caption1 className={styles.meta} title={fullTime(message.createdAt)}>
              {clockTime(message.createdAt)}
            </Caption1>
          </div>
        )}
        <div
          className={mergeClasses(
            styles.bubble,
            mine && styles.mineBubble,
            delivery.state === "failed" && styles.failedBubble,
          )}
          data-testid="message-bubble"
        >
          {message.replyTo !== null && !message.deleted && (
            <span className={styles.quote} data-testid="message-quote">
              <Text size={200} weight="semibold" block>
                {message.replyTo.from}
              </Text>
              <Text size={200}>{message.replyTo.preview}</Text>
            </span>
          )}
          {message.deleted ? (
            <Text className={styles.deleted}>This message has been deleted</Text>
          ) : (
            <div
              className={styles.body}
              data-testid="message-body"
              // Sanitised by the core (ammonia allow-list) before it reaches the UI.
              dangerouslySetInnerHTML={{ __html: message.bodyHtml }}
            />
          )}
        </div>
        {!message.deleted && (
          <Reactions
            reactions={message.reactions}
            onToggle={(reaction, on) => canAct && handlers.onReact(message, reaction, on)}
          />
        )}
        <DeliveryLine message={message} seen={seen} handlers={handlers} />
        {canAct && wanted && (
          <div
            className={mergeClasses("message-actions", styles.actions, mine ? styles.actionsMine : styles.actionsOthers)}
            role="toolbar"
            aria-label={`Actions for the message from ${who}`}
          >
            <ReactionPicker reactions={message.reactions} onToggle={(r, on) => handlers.onReact(message, r, on)} />
            <Button
              size="small"
              appearance="subtle"
              icon={<ArrowReplyRegular />}
              aria-label="Reply"
              title="Reply"
              onClick={() => handlers.onReply(message)}
            />
            {mine && (
              <>
                <Button
                  size="small"
                  appearance="subtle"
                  icon={<EditRegular />}
                  aria-label="Edit"
                  title="Edit"
                  onClick={() => handlers.onEdit(message)}
                />
                <Button
                  size="small"
                  appearance="subtle"
                  icon={<DeleteRegular />}
                  aria-label="Delete"
                  title="Delete"
                  onClick={() => handlers.onDelete(message)}
                />
              </>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

function DeliveryLine({ message, seen, handlers }: { message: ThreadMessage; seen: boolean; handlers: MessageHandlers }) {
  const styles = useStyles();
  const { delivery } = message;
  const edited = message.editedAt !== null && !message.deleted;
  if (delivery.state === "failed") {
    return (
      <div className={mergeClasses(styles.status, styles.failed)} role="alert">
        <ErrorCircleRegular aria-hidden />
        <Caption1>Not sent: {delivery.error.message}</Caption1>
        <Button size="small" appearance="transparent" onClick={() => handlers.onRetry(message)} data-testid="retry-message">
          Retry
        </Button>
        <Button size="small" appearance="transparent" onClick={() => handlers.onDiscard(message)} data-testid="discard-message">
          Discard
        </Button>
      </div>
    );
  }
  const marks = [
    edited && "Edited",
    delivery.state === "sending" && "Sending",
    seen && "Seen",
  ].filter(Boolean);
  if (marks.length === 0) return null;
  return (
    <Caption1 className={styles.status} data-testid="message-status">
      {delivery.state === "sending" && <ClockRegular aria-hidden data-testid="sending-mark" />}
      {seen && <EyeRegular aria-hidden />}
      {marks.join(" · ")}
    </Caption1>
  );
}

/** A short description of a message for the reply chip and announcements. */
export function messagePreview(message: ThreadMessage): string {
  if (message.deleted) return "This message has been deleted";
  const text = plainText(message.bodyHtml);
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}
