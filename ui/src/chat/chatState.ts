// The chat store's state and its pure transitions (the hook in useChatStore
// wires them to the core). Kept pure so the rules (upsert by key, order by
// time, typing expiry) are easy to test and cheap on 10,000-message threads.
import type { ChatSummary, Person, ThreadMessage, ThreadPage } from "../core";

/** How long a `typing` event counts, unless it is repeated. */
export const TYPING_MS = 6000;

export interface ThreadState {
  /** Oldest first; at most one per `key`. */
  messages: ThreadMessage[];
  /** The first page has arrived (messages pushed before that are kept too). */
  loaded: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  error: string | null;
}

export interface TypingPerson {
  person: Person;
  /** Date.now() after which the person no longer counts as typing. */
  until: number;
}

export interface ChatState {
  /** Newest activity first. */
  chats: ChatSummary[];
  chatsLoaded: boolean;
  chatsError: string | null;
  threads: Readonly<Record<string, ThreadState>>;
  typing: Readonly<Record<string, readonly TypingPerson[]>>;
}

export type ChatAction =
  | { type: "chatsLoaded"; chats: ChatSummary[] }
  | { type: "chatsFailed"; message: string }
  | { type: "chatsChanged"; chats: ChatSummary[] }
  | { type: "messagesChanged"; chatId: string; messages: ThreadMessage[] }
  | { type: "threadRequested"; chatId: string; older: boolean }
  | { type: "threadLoaded"; page: ThreadPage; older: boolean }
  | { type: "threadFailed"; chatId: string; message: string }
  | { type: "typing"; chatId: string; person: Person; now: number }
  | { type: "typingExpired"; now: number }
  | { type: "dismissErrors"; chatId: string | null };

export const initialChatState: ChatState = {
  chats: [],
  chatsLoaded: false,
  chatsError: null,
  threads: {},
  typing: {},
};

export const emptyThread: ThreadState = {
  messages: [],
  loaded: false,
  hasOlder: false,
  loadingOlder: false,
  error: null,
};

const time = (iso: string) => Date.parse(iso);

function byUpdatedDesc(a: ChatSummary, b: ChatSummary) {
  return time(b.updatedAt) - time(a.updatedAt);
}

/** Replace rows by id, add new ones, keep the list newest first. */
export function upsertChats(current: ChatSummary[], changed: ChatSummary[]): ChatSummary[] {
  const byId = new Map(current.map((chat) => [chat.id, chat]));
  for (const chat of changed) byId.set(chat.id, chat);
  return [...byId.values()].sort(byUpdatedDesc);
}

/**
 * Replace messages by `key` and add new ones, oldest first. A message whose
 * time did not change is replaced in place (sending → sent, edits,
 * reactions) so the common case does not re-sort the whole thread.
 *
 * A sent message never goes back to sending: the answer to `sendMessage`
 * (sending) can arrive after the event that says it was sent. And one
 * service message is shown once: if it arrives under another key than a
 * row already holding its id, the newer key wins.
 */
export function upsertMessages(current: ThreadMessage[], changed: ThreadMessage[]): ThreadMessage[] {
  if (changed.length === 0) return current;
  const index = new Map(current.map((message, i) => [message.key, i]));
  let next = current.slice();
  const added = new Map<string, ThreadMessage>();
  let reorder = false;
  for (const message of changed) {
    const at = index.get(message.key);
    if (at === undefined) {
      added.set(message.key, message);
    } else {
      const before = next[at];
      if (before?.delivery.state === "sent" && message.delivery.state === "sending") continue;
      if (before?.createdAt !== message.createdAt) reorder = true;
      next[at] = message;
    }
  }
  const rekeyed = new Map(changed.filter((m) => m.id !== null).map((m) => [m.id, m.key]));
  if (next.some((m) => m.id !== null && rekeyed.has(m.id) && rekeyed.get(m.id) !== m.key)) {
    next = next.filter((m) => m.id === null || !rekeyed.has(m.id) || rekeyed.get(m.id) === m.key);
    reorder = true;
  }
  if (added.size === 0 && !reorder) return next;
  const merged = next.concat([...added.values()]);
  // Appending newer messages is the common case: keep it linear.
  const sorted = merged.every((m, i) => i === 0 || time(merged[i - 1].createdAt) <= time(m.createdAt));
  return sorted ? merged : merged.sort((a, b) => time(a.createdAt) - time(b.createdAt));
}

function withThread(state: ChatState, chatId: string, change: (thread: ThreadState) => ThreadState): ChatState {
  const thread = state.threads[chatId] ?? emptyThread;
  return { ...state, threads: { ...state.threads, [chatId]: change(thread) } };
}

function withoutTypist(state: ChatState, chatId: string, personIds: Set<string>): ChatState {
  const typing = state.typing[chatId];
  if (typing === undefined || !typing.some((t) => personIds.has(t.person.id))) return state;
  return { ...state, typing: { ...state.typing, [chatId]: typing.filter((t) => !personIds.has(t.person.id)) } };
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "chatsLoaded":
      // Rows pushed while the list loaded are as new as the list: merge.
      return { ...state, chats: upsertChats(action.chats, state.chats), chatsLoaded: true, chatsError: null };
    case "chatsFailed":
      return { ...state, chatsLoaded: true, chatsError: action.message };
    case "chatsChanged":
      return { ...state, chats: upsertChats(state.chats, action.chats) };
    case "messagesChanged": {
      const next = withThread(state, action.chatId, (thread) => ({
        ...thread,
        messages: upsertMessages(thread.messages, action.messages),
      }));
      // Whoever just wrote has stopped typing.
      const writers = new Set(action.messages.filter((m) => !m.mine).map((m) => m.from.id));
      return withoutTypist(next, action.chatId, writers);
    }
    case "threadRequested":
      return withThread(state, action.chatId, (thread) =>
        action.older ? { ...thread, loadingOlder: true, error: null } : { ...thread, error: null },
      );
    case "threadLoaded":
      return withThread(state, action.page.chatId, (thread) => ({
        ...thread,
        messages: upsertMessages(thread.messages, action.page.messages),
        loaded: true,
        // A first page says whether anything is older; an older page only about itself.
        hasOlder: action.page.hasOlder,
        loadingOlder: false,
      }));
    case "threadFailed":
      return withThread(state, action.chatId, (thread) => ({
        ...thread,
        loadingOlder: false,
        error: action.message,
      }));
    case "typing": {
      const others = (state.typing[action.chatId] ?? []).filter((t) => t.person.id !== action.person.id);
      const typist = { person: action.person, until: action.now + TYPING_MS };
      return { ...state, typing: { ...state.typing, [action.chatId]: [...others, typist] } };
    }
    case "typingExpired": {
      let changed = false;
      const typing: Record<string, readonly TypingPerson[]> = {};
      for (const [chatId, people] of Object.entries(state.typing)) {
        const still = people.filter((t) => t.until > action.now);
        if (still.length !== people.length) changed = true;
        if (still.length > 0) typing[chatId] = still;
      }
      return changed ? { ...state, typing } : state;
    }
    case "dismissErrors":
      if (action.chatId === null) return { ...state, chatsError: null };
      return withThread(state, action.chatId, (thread) => ({ ...thread, error: null }));
  }
}

/** The earliest moment a typing line must go, or null when nobody types. */
export function nextTypingExpiry(state: ChatState): number | null {
  let next: number | null = null;
  for (const people of Object.values(state.typing)) {
    for (const { until } of people) if (next === null || until < next) next = until;
  }
  return next;
}
