import { useMemo, useState } from "react";
import {
  Button,
  Input,
  Skeleton,
  SkeletonItem,
  Subtitle2,
  Text,
  makeStyles,
  tokens,
  useArrowNavigationGroup,
} from "@fluentui/react-components";
import { SearchRegular } from "@fluentui/react-icons";
import type { ChatSummary } from "../core";
import { DismissibleError } from "../session/DismissibleError";
import { ChatRow } from "./ChatRow";
import { NewChatDialog } from "./NewChatDialog";
import { useMinuteClock } from "./useMinuteClock";

const useStyles = makeStyles({
  pane: {
    display: "flex",
    flexDirection: "column",
    width: "320px",
    flexShrink: 0,
    minHeight: 0,
    borderRight: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  header: {
    display: "flex",
    alignItems: "center",
    justifyContent: "space-between",
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalM} 0`,
  },
  heading: { margin: 0 },
  search: { margin: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}` },
  list: {
    flexGrow: 1,
    overflowY: "auto",
    display: "flex",
    flexDirection: "column",
    gap: "2px",
    padding: `0 ${tokens.spacingHorizontalS} ${tokens.spacingVerticalS}`,
  },
  empty: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingVerticalXXL,
    textAlign: "center",
    color: tokens.colorNeutralForeground3,
  },
  skeletonRow: {
    display: "grid",
    gridTemplateColumns: "36px 1fr",
    gap: tokens.spacingHorizontalS,
    padding: tokens.spacingVerticalS,
  },
});

/** Whether a chat's title or a member's name contains the filter. */
export function matchesFilter(chat: ChatSummary, filter: string): boolean {
  const needle = filter.trim().toLocaleLowerCase();
  if (needle === "") return true;
  return [chat.title, ...chat.members.map((m) => m.displayName)].some((name) =>
    name.toLocaleLowerCase().includes(needle),
  );
}

interface ChatListProps {
  chats: ChatSummary[];
  loading: boolean;
  error: string | null;
  onDismissError: () => void;
  selectedId: string | null;
  onSelect: (chatId: string) => void;
  onStarted: (chat: ChatSummary) => void;
  /** The signed-in person's name: their own last message reads "You: …". */
  selfName: string | null;
}

/** The list pane: heading, new chat, search, and the chats newest first. Arrow keys move between rows. */
export function ChatList({
  chats,
  loading,
  error,
  onDismissError,
  selectedId,
  onSelect,
  onStarted,
  selfName,
}: ChatListProps) {
  const styles = useStyles();
  const [filter, setFilter] = useState("");
  const now = useMinuteClock();
  const arrows = useArrowNavigationGroup({ axis: "vertical", memorizeCurrent: true });
  const shown = useMemo(() => chats.filter((chat) => matchesFilter(chat, filter)), [chats, filter]);

  return (
    <section className={styles.pane} aria-label="Chats">
      <div className={styles.header}>
        <Subtitle2 as="h1" className={styles.heading}>
          Chat
        </Subtitle2>
        <NewChatDialog onStarted={onStarted} />
      </div>
      <Input
        className={styles.search}
        contentBefore={<SearchRegular aria-hidden />}
        placeholder="Search chats"
        aria-label="Search chats"
        value={filter}
        onChange={(_, data) => setFilter(data.value)}
        data-testid="chat-search"
      />
      {error !== null && <DismissibleError message={error} onDismiss={onDismissError} testId="chat-list-error" />}
      <div className={styles.list} role="list" aria-label="Chat list" data-testid="chat-list" {...arrows}>
        {loading && <ChatListSkeleton />}
        {shown.map((chat) => (
          <div role="listitem" key={chat.id}>
            <ChatRow chat={chat} selected={chat.id === selectedId} onSelect={onSelect} now={now} selfName={selfName} />
          </div>
        ))}
        {!loading && chats.length === 0 && error === null && (
          <div className={styles.empty} role="listitem">
            <Text weight="semibold">Start a chat</Text>
            <Text>Use New chat to find the people you work with.</Text>
          </div>
        )}
        {chats.length > 0 && shown.length === 0 && (
          <div className={styles.empty} role="listitem">
            <Text>No chats match “{filter.trim()}”.</Text>
            <Button appearance="transparent" onClick={() => setFilter("")}>
              Clear search
            </Button>
          </div>
        )}
      </div>
    </section>
  );
}

function ChatListSkeleton() {
  const styles = useStyles();
  return (
    <Skeleton aria-label="Loading chats" data-testid="chat-list-skeleton">
      {[0, 1, 2, 3, 4].map((i) => (
        <div key={i} className={styles.skeletonRow}>
          <SkeletonItem shape="circle" size={36} />
          <div>
            <SkeletonItem size={12} />
            <SkeletonItem size={12} style={{ width: "70%", marginTop: 6 }} />
          </div>
        </div>
      ))}
    </Skeleton>
  );
}
