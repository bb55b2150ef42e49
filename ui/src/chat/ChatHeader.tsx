import { Avatar, Caption1, Subtitle2, makeStyles, tokens } from "@fluentui/react-components";
import { CallButtons } from "../call/CallButtons";
import type { ChatSummary } from "../core";

const useStyles = makeStyles({
  header: {
    display: "flex",
    alignItems: "center",
    gap: tokens.spacingHorizontalM,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalXXL}`,
    borderBottom: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground1,
  },
  titles: { display: "flex", flexDirection: "column", flexGrow: 1, minWidth: 0 },
  title: { margin: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  members: { color: tokens.colorNeutralForeground3, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
});

/** The open chat's name and members, and the call buttons (1:1 chats). */
export function ChatHeader({ chat }: { chat: ChatSummary }) {
  const styles = useStyles();
  const people = chat.members.map((m) => m.displayName).join(", ");
  return (
    <header className={styles.header}>
      <Avatar name={chat.title} size={32} color="colorful" shape={chat.kind === "oneOnOne" ? "circular" : "square"} aria-hidden />
      <div className={styles.titles}>
        <Subtitle2 as="h2" className={styles.title} data-testid="chat-title">
          {chat.title}
        </Subtitle2>
        {chat.kind !== "oneOnOne" && people !== "" && <Caption1 className={styles.members}>{people}</Caption1>}
      </div>
      <CallButtons chat={chat} />
    </header>
  );
}
