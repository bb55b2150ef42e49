import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { bob, carol, chat, message } from "../test/chatFixtures";
import { fakeCore } from "../test/fakeCore";
import { openChat, renderChat } from "../test/renderChat";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const c1 = chat({ id: "c1", title: "Falcon", kind: "group", members: [bob, carol] });
const c2 = chat({ id: "c2", title: "Carol Jones", members: [carol], updatedAt: "2026-03-01T09:00:00Z" });
const composer = () => screen.getByTestId("composer");

function sending(html: string) {
  return message({ key: "s1", id: null, mine: true, bodyHtml: html, delivery: { state: "sending" } });
}

describe("composer", () => {
  it("sends on Enter, clears, and makes a new line on Shift+Enter", async () => {
    fakeCore.sendMessage.mockResolvedValue(sending("Hello"));
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");

    await user.type(composer(), "Hello{Shift>}{Enter}{/Shift}");
    expect(fakeCore.sendMessage).not.toHaveBeenCalled();
    expect(composer()).toHaveValue("Hello\n");

    await user.type(composer(), "world{Enter}");
    expect(fakeCore.sendMessage).toHaveBeenCalledExactlyOnceWith("c1", {
      html: "Hello<br>world",
      mentions: [],
      replyTo: null,
    });
    expect(composer()).toHaveValue("");
  });

  it("does not send a blank message", async () => {
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");
    await user.type(composer(), "   {Enter}");
    expect(fakeCore.sendMessage).not.toHaveBeenCalled();
    expect(screen.getByTestId("send-button")).toBeDisabled();
  });

  it("suggests members after @ and puts the mention in the draft", async () => {
    fakeCore.sendMessage.mockResolvedValue(sending("hi"));
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");

    await user.type(composer(), "Hi @jo");
    const options = within(screen.getByRole("listbox", { name: "People to mention" })).getAllByRole("option");
    expect(options.map((o) => o.textContent)).toEqual(["Carol Jones"]);
    await user.keyboard("{Enter}");
    expect(composer()).toHaveValue("Hi @Carol Jones ");
    expect(screen.queryByRole("listbox")).not.toBeInTheDocument();

    await user.type(composer(), "see **this**{Enter}");
    expect(fakeCore.sendMessage).toHaveBeenCalledExactlyOnceWith("c1", {
      html: 'Hi <at id="0">Carol Jones</at> see <b>this</b>',
      mentions: [carol],
      replyTo: null,
    });
  });

  it("makes the selection bold with Ctrl+B", async () => {
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");
    await user.type(composer(), "make it loud");
    (composer() as HTMLTextAreaElement).setSelectionRange(8, 12);
    await user.keyboard("{Control>}b{/Control}");
    expect(composer()).toHaveValue("make it **loud**");
  });

  it("says I am typing at most every three seconds", async () => {
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");
    await user.type(composer(), "several keys");
    expect(fakeCore.sendTyping).toHaveBeenCalledExactlyOnceWith("c1");
  });

  it("keeps each chat's draft when switching chats", async () => {
    const { user } = await renderChat([c1, c2]);
    await openChat(user, "c1");
    await user.type(composer(), "half a thought");
    await openChat(user, "c2");
    expect(composer()).toHaveValue("");
    await openChat(user, "c1");
    expect(composer()).toHaveValue("half a thought");
  });

  it("quotes the message replied to, and can cancel it", async () => {
    const original = message({ key: "q", id: "id-q", from: bob, bodyHtml: "<p>Lunch at noon?</p>" });
    fakeCore.sendMessage.mockResolvedValue(sending("yes"));
    const { user } = await renderChat([c1], { c1: [original] });
    await openChat(user, "c1");

    await user.hover(screen.getByTestId("message"));
    await user.click(within(screen.getByTestId("message")).getByRole("button", { name: "Reply" }));
    expect(screen.getByTestId("reply-chip")).toHaveTextContent("Replying to Bob Smith: Lunch at noon?");
    await user.click(screen.getByRole("button", { name: "Cancel reply" }));
    expect(screen.queryByTestId("reply-chip")).not.toBeInTheDocument();

    await user.hover(screen.getByTestId("message"));
    await user.click(within(screen.getByTestId("message")).getByRole("button", { name: "Reply" }));
    await user.type(composer(), "Yes{Enter}");
    expect(fakeCore.sendMessage).toHaveBeenCalledWith("c1", { html: "Yes", mentions: [], replyTo: "id-q" });
  });

  it("edits my message in the composer; Esc cancels", async () => {
    const mine = message({ key: "e", id: "id-e", mine: true, bodyHtml: "<p>teh plan</p>" });
    const { user } = await renderChat([c1], { c1: [mine] });
    await openChat(user, "c1");

    await user.hover(screen.getByTestId("message"));
    await user.click(within(screen.getByTestId("message")).getByRole("button", { name: "Edit" }));
    expect(composer()).toHaveValue("teh plan");
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("editing-chip")).not.toBeInTheDocument();
    expect(composer()).toHaveValue("");

    await user.hover(screen.getByTestId("message"));
    await user.click(within(screen.getByTestId("message")).getByRole("button", { name: "Edit" }));
    await user.clear(composer());
    await user.type(composer(), "the plan{Enter}");
    expect(fakeCore.editMessage).toHaveBeenCalledExactlyOnceWith("c1", "id-e", "the plan");
    expect(fakeCore.sendMessage).not.toHaveBeenCalled();
  });

  it("gives the words back and says why when the core refuses the message", async () => {
    fakeCore.sendMessage.mockRejectedValue({ code: "invalid", message: "This chat no longer exists." });
    const { user } = await renderChat([c1]);
    await openChat(user, "c1");
    await user.type(composer(), "Hello{Enter}");
    expect(await screen.findByTestId("chat-error")).toHaveTextContent("This chat no longer exists.");
    await waitFor(() => expect(composer()).toHaveValue("Hello"));
  });
});
