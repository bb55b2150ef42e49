import { useEffect, useRef } from "react";
import { markRead, type ChatSummary, type ThreadMessage } from "../core";
import { useWindowFocused } from "./useWindowFocused";

/**
 * Mark the open chat read when it has unread messages or someone else's
 * message arrives in it — only while the window is focused, since an unseen
 * message is not read. Each (chat, newest message from others) is marked
 * once: the core answers a markRead with a `chats` row whose count drops,
 * which must not ask again.
 */
export function useMarkRead(chat: ChatSummary | null, messages: readonly ThreadMessage[]): void {
  const focused = useWindowFocused();
  const chatId = chat?.id ?? null;
  const unread = (chat?.unreadCount ?? 0) > 0;
  let lastFromOthers: string | null = null;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (!messages[i].mine) {
      lastFromOthers = messages[i].key;
      break;
    }
  }
  const marked = useRef<string | null>(null);

  useEffect(() => {
    if (chatId === null || !focused) return;
    const mark = `${chatId}\n${lastFromOthers ?? ""}`;
    if (!unread && marked.current === mark) return;
    if (!unread && lastFromOthers === null) return;
    marked.current = mark;
    markRead(chatId).catch((error: unknown) => console.warn("Could not mark the chat read:", error));
  }, [chatId, focused, lastFromOthers, unread]);
}
