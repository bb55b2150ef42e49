import { useEffect } from "react";
import { markRead, type ChatSummary, type ThreadMessage } from "../core";
import { useWindowFocused } from "./useWindowFocused";

/**
 * Mark the open chat read when it opens, when someone else's message arrives
 * in it, or when the window gets the focus back — only while the window is
 * focused, since an unseen message is not read.
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

  useEffect(() => {
    if (chatId === null || !focused) return;
    markRead(chatId).catch((error: unknown) => console.warn("Could not mark the chat read:", error));
  }, [chatId, focused, lastFromOthers, unread]);
}
