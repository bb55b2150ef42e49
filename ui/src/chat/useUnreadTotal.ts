import { useEffect, useState } from "react";
import { getChats, onChatEvent } from "../core";

/**
 * Unread messages over all chats, for the app bar's badge: the chat list's
 * counts at first, then every `unread` total the core pushes.
 */
export function useUnreadTotal(accountId: string | null): number {
  // The total belongs to the account it was counted for.
  const [total, setTotal] = useState({ accountId, count: 0 });

  useEffect(() => {
    if (accountId === null) return;
    let mounted = true;
    let pushed = false;
    const unsubscribe = onChatEvent((event) => {
      if (mounted && event.type === "unread") {
        pushed = true;
        setTotal({ accountId, count: event.total });
      }
    });
    getChats().then(
      (chats) => {
        if (mounted && !pushed) setTotal({ accountId, count: chats.reduce((sum, chat) => sum + chat.unreadCount, 0) });
      },
      () => {
        // The chat pane says why the list could not load; the badge just waits for events.
      },
    );
    return () => {
      mounted = false;
      unsubscribe();
    };
  }, [accountId]);

  return accountId !== null && total.accountId === accountId ? total.count : 0;
}
