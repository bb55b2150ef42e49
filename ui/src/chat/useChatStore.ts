import { useCallback, useEffect, useReducer, useRef } from "react";
import { getChats, getThread, onChatEvent, type ChatSummary, type ThreadMessage } from "../core";
import { describeCoreError } from "../coreError";
import { chatReducer, emptyThread, initialChatState, nextTypingExpiry, type ChatState } from "./chatState";

/** Messages per page of a thread. */
export const PAGE_SIZE = 50;

export interface ChatStore {
  state: ChatState;
  /** Load the newest page of a chat, unless it is loaded already. */
  openThread: (chatId: string) => void;
  /** Load the page before the oldest message shown, if there is one. */
  loadOlder: (chatId: string) => void;
  /** Put a chat (from startChat) or messages (from sendMessage) in the store now, ahead of their events. */
  addChat: (chat: ChatSummary) => void;
  addMessage: (message: ThreadMessage) => void;
  dismissError: (chatId: string | null) => void;
}

/**
 * Chats and their threads, live: one chats() read, then every chats,
 * messages, incoming and typing event the core pushes.
 */
export function useChatStore(): ChatStore {
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  // Callbacks read the latest state without changing identity.
  const stateRef = useRef(state);
  useEffect(() => {
    stateRef.current = state;
  }, [state]);

  useEffect(() => {
    let mounted = true;
    const unsubscribe = onChatEvent((event) => {
      if (!mounted) return;
      switch (event.type) {
        case "chats":
          dispatch({ type: "chatsChanged", chats: event.chats });
          break;
        case "messages":
          dispatch({ type: "messagesChanged", chatId: event.chatId, messages: event.messages });
          break;
        case "incoming":
          dispatch({ type: "chatsChanged", chats: [event.chat] });
          dispatch({ type: "messagesChanged", chatId: event.chat.id, messages: [event.message] });
          break;
        case "typing":
          dispatch({ type: "typing", chatId: event.chatId, person: event.person, now: Date.now() });
          break;
        default:
          break;
      }
    });
    getChats().then(
      (chats) => mounted && dispatch({ type: "chatsLoaded", chats }),
      (error: unknown) => mounted && dispatch({ type: "chatsFailed", message: describeCoreError(error) }),
    );
    return () => {
      mounted = false;
      unsubscribe();
    };
  }, []);

  // One timer for the earliest typing line to go.
  const expiry = nextTypingExpiry(state);
  useEffect(() => {
    if (expiry === null) return;
    const timer = setTimeout(() => dispatch({ type: "typingExpired", now: Date.now() }), Math.max(0, expiry - Date.now()));
    return () => clearTimeout(timer);
  }, [expiry]);

  const inFlight = useRef(new Set<string>());
  const load = useCallback((chatId: string, older: boolean) => {
    const thread = stateRef.current.threads[chatId] ?? emptyThread;
    const before = older ? (thread.messages[0]?.key ?? null) : null;
    const request = `${chatId}|${older ? before : "newest"}`;
    if (inFlight.current.has(request)) return;
    inFlight.current.add(request);
    dispatch({ type: "threadRequested", chatId, older });
    getThread(chatId, before, PAGE_SIZE)
      .then(
        (page) => dispatch({ type: "threadLoaded", page, older }),
        (error: unknown) => dispatch({ type: "threadFailed", chatId, message: describeCoreError(error) }),
      )
      .finally(() => inFlight.current.delete(request));
  }, []);

  const openThread = useCallback(
    (chatId: string) => {
      const thread = stateRef.current.threads[chatId];
      if (thread?.loaded !== true) load(chatId, false);
    },
    [load],
  );

  const loadOlder = useCallback(
    (chatId: string) => {
      const thread = stateRef.current.threads[chatId];
      if (thread?.loaded === true && thread.hasOlder && !thread.loadingOlder) load(chatId, true);
    },
    [load],
  );

  const addChat = useCallback((chat: ChatSummary) => dispatch({ type: "chatsChanged", chats: [chat] }), []);
  const addMessage = useCallback(
    (message: ThreadMessage) => dispatch({ type: "messagesChanged", chatId: message.chatId, messages: [message] }),
    [],
  );
  const dismissError = useCallback((chatId: string | null) => dispatch({ type: "dismissErrors", chatId }), []);

  return { state, openThread, loadOlder, addChat, addMessage, dismissError };
}
