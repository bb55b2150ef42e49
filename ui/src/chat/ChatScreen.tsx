import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Text, Title3, makeStyles, tokens } from "@fluentui/react-components";
import { ChatMultipleRegular } from "@fluentui/react-icons";
import {
  deleteMessage,
  discardMessage,
  editMessage,
  react,
  retryMessage,
  sendMessage,
  sendTyping,
  type ChatSummary,
  type ThreadMessage,
} from "../core";
import { describeCoreError } from "../coreError";
import { DismissibleError } from "../session/DismissibleError";
import { ChatHeader } from "./ChatHeader";
import { ChatList } from "./ChatList";
import { emptyThread } from "./chatState";
import { Composer } from "./Composer";
import { composeHtml, draftFromHtml, emptyDraft, toDraft, type ComposerDraft } from "./composerText";
import type { MessageHandlers } from "./MessageRow";
import { Thread } from "./Thread";
import { TypingIndicator } from "./TypingIndicator";
import { useChatStore } from "./useChatStore";
import { useMarkRead } from "./useMarkRead";

/** Tell the others "typing" at most this often. */
export const TYPING_THROTTLE_MS = 3000;

const useStyles = makeStyles({
  screen: { display: "flex", height: "100%", minHeight: 0 },
  main: {
    display: "flex",
    flexDirection: "column",
    flexGrow: 1,
    minWidth: 0,
    minHeight: 0,
    backgroundColor: tokens.colorNeutralBackground2,
  },
  empty: {
    display: "flex",
    flexDirection: "column",
    alignItems: "center",
    justifyContent: "center",
    gap: tokens.spacingVerticalS,
    flexGrow: 1,
    color: tokens.colorNeutralForeground3,
    textAlign: "center",
    padding: tokens.spacingHorizontalXXL,
  },
  emptyIcon: { fontSize: "48px", color: tokens.colorBrandForeground2 },
  welcome: { margin: 0, color: tokens.colorNeutralForeground1 },
});

interface Editing {
  chatId: string;
  message: ThreadMessage;
  draft: ComposerDraft;
}

/**
 * The Chat pane: the list on the left, the open chat (thread, typing line,
 * composer) on the right. `active` is false while another pane is shown: it
 * stays mounted but does not mark messages read.
 */
export function ChatScreen({ active = true, selfName = null }: { active?: boolean; selfName?: string | null }) {
  const styles = useStyles();
  const store = useChatStore();
  const { state, openThread, loadOlder, addChat, addMessage, dismissError } = store;
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [drafts, setDrafts] = useState<Record<string, ComposerDraft>>({});
  const [editing, setEditing] = useState<Editing | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [sentRevision, setSentRevision] = useState(0);
  const lastTyping = useRef(new Map<string, number>());

  const chat = useMemo(() => state.chats.find((c) => c.id === selectedId) ?? null, [state.chats, selectedId]);
  const thread = (selectedId !== null ? state.threads[selectedId] : undefined) ?? emptyThread;
  useMarkRead(active ? chat : null, thread.messages);

  useEffect(() => {
    if (selectedId !== null) openThread(selectedId);
  }, [selectedId, openThread]);

  const select = useCallback((chatId: string) => {
    setSelectedId(chatId);
    setActionError(null);
  }, []);

  const onStarted = useCallback(
    (started: ChatSummary) => {
      addChat(started);
      select(started.id);
    },
    [addChat, select],
  );

  const loadOlderInOpenChat = useCallback(() => {
    if (selectedId !== null) loadOlder(selectedId);
  }, [selectedId, loadOlder]);

  const fail = useCallback((error: unknown) => setActionError(describeCoreError(error)), []);

  const handlers = useMemo<MessageHandlers>(
    () => ({
      onReact: (message, reaction, on) => {
        if (message.id !== null) react(message.chatId, message.id, reaction, on).catch(fail);
      },
      onReply: (message) => {
        setEditing(null);
        setDrafts((all) => ({ ...all, [message.chatId]: { ...(all[message.chatId] ?? emptyDraft), replyTo: message } }));
      },
      onEdit: (message) => {
        const { text, mentions } = draftFromHtml(message.bodyHtml);
        setEditing({ chatId: message.chatId, message, draft: { text, mentions, replyTo: null } });
      },
      onDelete: (message) => {
        if (message.id !== null) deleteMessage(message.chatId, message.id).catch(fail);
      },
      onRetry: (message) => {
        retryMessage(message.key).catch(fail);
      },
      onDiscard: (message) => {
        discardMessage(message.key).catch(fail);
      },
    }),
    [fail],
  );

  const chatEditing = editing !== null && editing.chatId === selectedId ? editing : null;
  const draft = chatEditing?.draft ?? (selectedId !== null ? drafts[selectedId] : undefined) ?? emptyDraft;

  const setDraft = (next: ComposerDraft) => {
    if (selectedId === null) return;
    if (chatEditing !== null) setEditing({ ...chatEditing, draft: next });
    else setDrafts((all) => ({ ...all, [selectedId]: next }));
  };

  const onTyping = () => {
    if (selectedId === null || chatEditing !== null) return;
    const now = Date.now();
    if (now - (lastTyping.current.get(selectedId) ?? -Infinity) < TYPING_THROTTLE_MS) return;
    lastTyping.current.set(selectedId, now);
    sendTyping(selectedId).catch((error: unknown) => console.warn("Could not say I am typing:", error));
  };

  const submit = () => {
    if (selectedId === null) return;
    setActionError(null);
    if (chatEditing !== null) {
      const { message } = chatEditing;
      setEditing(null);
      if (message.id !== null) {
        editMessage(selectedId, message.id, composeHtml(draft.text, draft.mentions).html).catch(fail);
      }
      return;
    }
    const chatId = selectedId;
    const sent = draft;
    setDrafts((all) => ({ ...all, [chatId]: emptyDraft }));
    lastTyping.current.delete(chatId);
    setSentRevision((n) => n + 1);
    sendMessage(chatId, toDraft(sent)).then(addMessage, (error: unknown) => {
      fail(error);
      // Nothing was queued: give the words back unless something new was typed.
      setDrafts((all) => ((all[chatId]?.text ?? "") === "" ? { ...all, [chatId]: sent } : all));
    });
  };

  return (
    <div className={styles.screen}>
      <ChatList
        chats={state.chats}
        loading={!state.chatsLoaded}
        error={state.chatsError}
        onDismissError={() => dismissError(null)}
        selectedId={selectedId}
        onSelect={select}
        onStarted={onStarted}
        selfName={selfName}
      />
      <section className={styles.main} aria-label={chat === null ? "No chat open" : `Chat with ${chat.title}`}>
        {chat === null ? (
          <div className={styles.empty} data-testid="no-chat-selected">
            <ChatMultipleRegular className={styles.emptyIcon} aria-hidden />
            {/* Only while shown: the Calls placeholder carries the same test id. */}
            {active && selfName !== null && (
              <Title3 as="h2" className={styles.welcome} data-testid="signed-in-user">
                Welcome, {selfName}
              </Title3>
            )}
            <Text size={400} weight="semibold">
              {state.chatsLoaded && state.chats.length === 0 ? "Start a chat" : "Pick a chat"}
            </Text>
            <Text>
              {state.chatsLoaded && state.chats.length === 0
                ? "Use New chat above the list to find the people you work with."
                : "Choose a chat from the list, or start a new one."}
            </Text>
          </div>
        ) : (
          <>
            <ChatHeader chat={chat} />
            {actionError !== null && (
              <DismissibleError message={actionError} onDismiss={() => setActionError(null)} testId="chat-error" />
            )}
            {thread.loaded && thread.error !== null && (
              <DismissibleError message={thread.error} onDismiss={() => dismissError(chat.id)} testId="thread-load-error" />
            )}
            <Thread
              key={`thread-${chat.id}`}
              thread={thread}
              readBy={chat.readBy}
              handlers={handlers}
              onLoadOlder={loadOlderInOpenChat}
              onRetryLoad={() => openThread(chat.id)}
              sentRevision={sentRevision}
            />
            <TypingIndicator people={state.typing[chat.id] ?? []} members={chat.members} />
            <Composer
              key={`composer-${chat.id}`}
              chatTitle={chat.title}
              members={chat.members}
              draft={draft}
              onChange={setDraft}
              onSubmit={submit}
              editing={chatEditing !== null}
              onCancelEdit={() => setEditing(null)}
              onTyping={onTyping}
            />
          </>
        )}
      </section>
    </div>
  );
}
