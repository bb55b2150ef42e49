// Chats, people and messages as the core sends them, for the chat tests.
import type { ChatSummary, Person, ThreadMessage } from "../core";

export const me: Person = { id: "u-me", displayName: "Adele Vance", userPrincipalName: "adele.vance@contoso.example" };
export const bob: Person = { id: "u-bob", displayName: "Bob Smith", userPrincipalName: "bob@contoso.example" };
export const carol: Person = { id: "u-carol", displayName: "Carol Jones", userPrincipalName: "carol@contoso.example" };

export function chat(overrides: Partial<ChatSummary> & { id: string }): ChatSummary {
  return {
    kind: "oneOnOne",
    title: "Bob Smith",
    members: [bob],
    lastMessage: null,
    unreadCount: 0,
    updatedAt: "2026-03-02T09:00:00Z",
    readBy: [],
    ...overrides,
  };
}

let counter = 0;

export function message(overrides: Partial<ThreadMessage> = {}): ThreadMessage {
  counter += 1;
  const mine = overrides.mine ?? false;
  return {
    key: `m-${counter}`,
    id: `id-${counter}`,
    chatId: "c1",
    from: mine ? me : bob,
    mine,
    createdAt: "2026-03-02T09:00:00Z",
    editedAt: null,
    deleted: false,
    bodyHtml: `<p>Message ${counter}</p>`,
    delivery: { state: "sent" },
    reactions: [],
    replyTo: null,
    ...overrides,
  };
}

/** `count` messages one minute apart, alternating senders every ten, ending at `end`. */
export function longThread(count: number, chatId = "c1", end = Date.parse("2026-03-02T09:00:00Z")): ThreadMessage[] {
  return Array.from({ length: count }, (_, i) =>
    message({
      key: `long-${i}`,
      id: `long-id-${i}`,
      chatId,
      mine: Math.floor(i / 10) % 2 === 1,
      createdAt: new Date(end - (count - i) * 60_000).toISOString(),
      bodyHtml: `<p>Line ${i}</p>`,
    }),
  );
}
