import { describe, expect, it } from "vitest";
import { bob, carol, chat, message } from "../test/chatFixtures";
import { TYPING_MS, chatReducer, initialChatState, upsertChats, upsertMessages } from "./chatState";
import { typingText } from "./TypingIndicator";

describe("upsertMessages", () => {
  it("replaces a message by key: sending → sent does not duplicate it", () => {
    const sending = message({ key: "k1", id: null, mine: true, delivery: { state: "sending" } });
    const sent = { ...sending, id: "id-k1", delivery: { state: "sent" as const } };
    const thread = upsertMessages(upsertMessages([], [sending]), [sent]);
    expect(thread).toEqual([sent]);
  });

  it("never takes a sent message back to sending when the send's answer comes after the event", () => {
    const sending = message({ key: "k1", id: null, mine: true, delivery: { state: "sending" } });
    const sent = { ...sending, id: "id-k1", delivery: { state: "sent" as const } };
    const thread = upsertMessages(upsertMessages([], [sent]), [sending]);
    expect(thread).toEqual([sent]);
  });

  it("shows one service message once, under the key it arrives with last", () => {
    const synced = message({ key: "m:id-1", id: "id-1", mine: true });
    const reconciled = { ...synced, key: "local-1" };
    expect(upsertMessages([synced], [reconciled]).map((m) => m.key)).toEqual(["local-1"]);
  });

  it("keeps messages oldest first whatever order they arrive in", () => {
    const a = message({ key: "a", createdAt: "2026-03-02T09:00:00Z" });
    const b = message({ key: "b", createdAt: "2026-03-02T09:00:00.500Z" });
    const c = message({ key: "c", createdAt: "2026-03-02T09:01:00Z" });
    expect(upsertMessages([c], [b, a]).map((m) => m.key)).toEqual(["a", "b", "c"]);
  });
});

describe("upsertChats", () => {
  it("replaces rows by id and keeps the newest activity first", () => {
    const older = chat({ id: "a", updatedAt: "2026-03-01T09:00:00Z" });
    const newer = chat({ id: "b", updatedAt: "2026-03-02T09:00:00Z" });
    const bumped = { ...older, updatedAt: "2026-03-03T09:00:00Z" };
    expect(upsertChats([newer, older], [bumped]).map((c) => c.id)).toEqual(["a", "b"]);
  });
});

describe("typing", () => {
  it("lasts six seconds unless repeated, and ends when the person writes", () => {
    let state = chatReducer(initialChatState, { type: "typing", chatId: "c1", person: bob, now: 0 });
    state = chatReducer(state, { type: "typing", chatId: "c1", person: carol, now: 1000 });
    state = chatReducer(state, { type: "typingExpired", now: TYPING_MS + 1 });
    expect(state.typing.c1?.map((t) => t.person.id)).toEqual([carol.id]);

    state = chatReducer(state, { type: "messagesChanged", chatId: "c1", messages: [message({ from: carol })] });
    expect(state.typing.c1).toEqual([]);
  });
});

describe("typingText", () => {
  it("names a typist the signal left nameless from the chat's members, or says Someone", () => {
    const nameless = { ...bob, displayName: "" };
    expect(typingText([{ person: nameless, until: 1 }], [bob])).toBe("Bob Smith is typing…");
    expect(typingText([{ person: nameless, until: 1 }], [])).toBe("Someone is typing…");
  });
});
