import { act, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { bob, carol, chat, longThread, message } from "../test/chatFixtures";
import { fakeCore } from "../test/fakeCore";
import { messageKeys, openChat, renderChat } from "../test/renderChat";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const c1 = chat({ id: "c1", title: "Bob Smith", members: [bob, carol], kind: "group" });

afterEach(() => {
  vi.useRealTimers();
});

describe("thread", () => {
  it("shows messages with day separators, grouped by sender, mine marked", async () => {
    const thread = [
      message({ key: "a", from: bob, createdAt: "2026-03-01T09:00:00Z" }),
      message({ key: "b", from: bob, createdAt: "2026-03-02T09:00:00Z" }),
      message({ key: "c", from: bob, createdAt: "2026-03-02T09:01:00Z" }),
      message({ key: "d", mine: true, createdAt: "2026-03-02T09:02:00Z" }),
    ];
    const { user } = await renderChat([c1], { c1: thread });
    await openChat(user, "c1");

    expect(messageKeys()).toEqual(["a", "b", "c", "d"]);
    expect(screen.getAllByTestId("day-separator")).toHaveLength(2);
    const [a, b, c, d] = screen.getAllByTestId("message");
    // The first of a group names the sender; the next one does not.
    expect(within(b).getByText("Bob Smith")).toBeInTheDocument();
    expect(within(c).queryByText("Bob Smith")).not.toBeInTheDocument();
    expect(a).toHaveAttribute("data-mine", "false");
    expect(d).toHaveAttribute("data-mine", "true");
    expect(d).toHaveAttribute("data-state", "sent");
  });

  it("renders only a window of a 10,000-message thread", async () => {
    const thread = longThread(10_000);
    const { user } = await renderChat([c1], { c1: thread });
    await openChat(user, "c1");

    const shown = screen.getAllByTestId("message");
    expect(shown.length).toBeGreaterThan(5);
    expect(shown.length).toBeLessThan(80);
  });

  it("asks for older messages by the oldest key when scrolled to the top", async () => {
    const thread = longThread(50);
    fakeCore.getChats.mockResolvedValue([c1]);
    const { user } = await renderChat([c1]);
    fakeCore.getThread.mockResolvedValue({ chatId: "c1", messages: thread, hasOlder: true });
    const scroller = await openChat(user, "c1");
    fakeCore.getThread.mockResolvedValue({ chatId: "c1", messages: longThread(10, "c1", Date.parse("2026-02-01T00:00:00Z")), hasOlder: false });

    scroller.scrollTop = 0;
    act(() => {
      scroller.dispatchEvent(new Event("scroll"));
    });
    expect(fakeCore.getThread).toHaveBeenLastCalledWith("c1", "long-0", 50);
  });

  it("replaces a message by key: sending then sent shows it once", async () => {
    const sending = message({ key: "k1", id: null, mine: true, delivery: { state: "sending" }, bodyHtml: "Hello" });
    fakeCore.sendMessage.mockResolvedValue(sending);
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");

    await user.type(screen.getByTestId("composer"), "Hello{Enter}");
    const row = await screen.findByTestId("message");
    expect(row).toHaveAttribute("data-state", "sending");
    expect(within(row).getByTestId("sending-mark")).toBeInTheDocument();

    fakeCore.pushChat({ type: "messages", chatId: "c1", messages: [{ ...sending, id: "id-1", delivery: { state: "sent" } }] });
    expect(messageKeys()).toEqual(["k1"]);
    expect(screen.getByTestId("message")).toHaveAttribute("data-state", "sent");
  });

  it("offers Retry and Discard on a failed message, with the reason", async () => {
    const failed = message({
      key: "f1",
      id: null,
      mine: true,
      delivery: { state: "failed", error: { code: "refused", message: "The message is too long." } },
    });
    const { user } = await renderChat([c1], { c1: [failed] });
    await openChat(user, "c1");

    expect(screen.getByTestId("message")).toHaveAttribute("data-state", "failed");
    expect(screen.getByText(/The message is too long\./)).toBeInTheDocument();
    await user.click(screen.getByTestId("retry-message"));
    expect(fakeCore.retryMessage).toHaveBeenCalledExactlyOnceWith("f1");
    await user.click(screen.getByRole("button", { name: "Discard" }));
    expect(fakeCore.discardMessage).toHaveBeenCalledExactlyOnceWith("f1");
  });

  it("shows edited and deleted messages, reactions that toggle mine, and Seen", async () => {
    const thread = [
      message({ key: "e", editedAt: "2026-03-02T09:05:00Z", reactions: [{ reaction: "👍", count: 2, mine: true, names: ["You", "Carol Jones"] }] }),
      message({ key: "x", deleted: true, bodyHtml: "" }),
      message({ key: "m", mine: true, createdAt: "2026-03-02T09:10:00Z" }),
    ];
    const readChat = { ...c1, readBy: [{ userId: bob.id, lastReadAt: "2026-03-02T09:11:00Z" }] };
    const { user } = await renderChat([readChat], { c1: thread });
    await openChat(user, "c1");

    const [edited, deleted, mine] = screen.getAllByTestId("message");
    expect(edited).toHaveTextContent("Edited");
    expect(deleted).toHaveTextContent("This message has been deleted");
    expect(within(deleted).queryByTestId("message-body")).not.toBeInTheDocument();
    expect(mine).toHaveTextContent("Seen");

    const reaction = within(edited).getByTestId("reaction");
    expect(reaction).toHaveAttribute("data-reaction", "👍");
    expect(reaction).toHaveAttribute("aria-pressed", "true");
    await user.click(reaction);
    expect(fakeCore.react).toHaveBeenCalledWith("c1", thread[0].id, "👍", false);
  });

  it("reacts from the message's actions", async () => {
    const thread = [message({ key: "r" })];
    const { user } = await renderChat([c1], { c1: thread });
    await openChat(user, "c1");
    await user.hover(screen.getByTestId("message"));
    await user.click(within(screen.getByTestId("message")).getByRole("button", { name: "React" }));
    await user.click(await screen.findByRole("button", { name: "❤️" }));
    expect(fakeCore.react).toHaveBeenCalledWith("c1", thread[0].id, "❤️", true);
  });

  it("is one Tab stop: arrows move between messages, Enter reaches a message's actions", async () => {
    const thread = [message({ key: "a", bodyHtml: "first" }), message({ key: "b", bodyHtml: "second" })];
    const { user } = await renderChat([c1], { c1: thread });
    await openChat(user, "c1");
    const [a, b] = screen.getAllByTestId("message");

    a.focus();
    await user.keyboard("{ArrowDown}");
    expect(b).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(within(b).getByRole("button", { name: "React" })).toHaveFocus();
    await user.keyboard("{Escape}");
    expect(b).toHaveFocus();
  });

  it("places the body only inside the bubble", async () => {
    const body = '<p><b>bold</b> <at id="0">Carol Jones</at><attachment id="a1"></attachment></p>';
    const { user } = await renderChat([c1], { c1: [message({ key: "h", bodyHtml: body, replyTo: { messageId: "q", from: "Carol Jones", preview: "<b>not html</b>" } })] });
    await openChat(user, "c1");

    const row = screen.getByTestId("message");
    const bodies = within(row).getAllByTestId("message-body");
    expect(bodies).toHaveLength(1);
    expect(bodies[0].parentElement).toBe(within(row).getByTestId("message-bubble"));
    expect(bodies[0].innerHTML).toBe(body);
    // Everything else in the row is text: the quote's preview is not parsed as HTML.
    expect(row.querySelectorAll("b")).toHaveLength(1);
    expect(within(row).getByTestId("message-quote")).toHaveTextContent("<b>not html</b>");
  });

  it("announces who is typing, and forgets them after six seconds", async () => {
    const { user } = await renderChat([c1], { c1: [message()] });
    await openChat(user, "c1");
    const line = screen.getByTestId("typing-indicator");
    expect(line).toHaveAttribute("aria-live", "polite");
    expect(line).toHaveTextContent("");

    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    fakeCore.pushChat({ type: "typing", chatId: "c1", person: bob });
    expect(line).toHaveTextContent("Bob Smith is typing…");
    fakeCore.pushChat({ type: "typing", chatId: "c1", person: carol });
    expect(line).toHaveTextContent("Bob Smith and Carol Jones are typing…");

    act(() => {
      vi.advanceTimersByTime(6001);
    });
    expect(line).toHaveTextContent("");
  });

  it("marks the chat read when it opens with the window focused, and again when a message arrives", async () => {
    vi.spyOn(document, "hasFocus").mockReturnValue(true);
    const { user } = await renderChat([{ ...c1, unreadCount: 2 }], { c1: [message({ key: "a" })] });
    await openChat(user, "c1");
    expect(fakeCore.markRead).toHaveBeenCalledWith("c1");
    const calls = fakeCore.markRead.mock.calls.length;

    // The core answers with the chat's row, now read: that does not ask again.
    fakeCore.pushChat({ type: "chats", chats: [{ ...c1, unreadCount: 0 }] });
    expect(fakeCore.markRead).toHaveBeenCalledTimes(calls);

    fakeCore.pushChat({ type: "messages", chatId: "c1", messages: [message({ key: "b", createdAt: "2026-03-02T10:00:00Z", bodyHtml: "Are you there?" })] });
    expect(fakeCore.markRead).toHaveBeenCalledTimes(calls + 1);
    expect(screen.getByTestId("new-message-announcement")).toHaveTextContent("Bob Smith: Are you there?");
  });
});
