import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { bob, carol, chat } from "../test/chatFixtures";
import { fakeCore, sampleAccount } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";
import { renderChat, rowTitles } from "../test/renderChat";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const chats = [
  chat({ id: "c-old", title: "Project Falcon", kind: "group", members: [bob, carol], updatedAt: "2026-03-01T09:00:00Z" }),
  chat({
    id: "c-bob",
    title: "Bob Smith",
    unreadCount: 3,
    updatedAt: "2026-03-02T09:00:00Z",
    lastMessage: { from: "Bob Smith", text: "Lunch?", at: "2026-03-02T09:00:00Z" },
  }),
];

describe("chat list", () => {
  it("lists chats newest first, unread ones bold with a count", async () => {
    await renderChat(chats);
    expect(rowTitles()).toEqual(["Bob Smith", "Project Falcon"]);

    const [bobRow, falconRow] = screen.getAllByTestId("chat-row");
    expect(bobRow).toHaveAttribute("data-chat-id", "c-bob");
    expect(bobRow).toHaveAttribute("data-unread", "true");
    expect(within(bobRow).getByTestId("unread-badge")).toHaveTextContent("3");
    expect(bobRow).toHaveTextContent("Bob Smith: Lunch?");
    expect(bobRow).toHaveAccessibleName("Bob Smith, 3 unread, Bob Smith: Lunch?");
    expect(within(falconRow).queryByTestId("unread-badge")).not.toBeInTheDocument();
  });

  it("says You for my own last message", async () => {
    const { FluentProvider, webLightTheme } = await import("@fluentui/react-components");
    const { ChatScreen } = await import("./ChatScreen");
    const { render } = await import("@testing-library/react");
    fakeCore.getChats.mockResolvedValue([
      chat({ id: "c1", lastMessage: { from: "Adele Vance", text: "See you", at: "2026-03-02T09:00:00Z" } }),
    ]);
    render(
      <FluentProvider theme={webLightTheme}>
        <ChatScreen selfName="Adele Vance" />
      </FluentProvider>,
    );
    expect(await screen.findByTestId("chat-row")).toHaveTextContent("You: See you");
  });

  it("moves to the top when the core pushes a newer row", async () => {
    await renderChat(chats);
    fakeCore.pushChat({ type: "chats", chats: [{ ...chats[0], updatedAt: "2026-03-03T09:00:00Z", unreadCount: 1 }] });
    expect(rowTitles()).toEqual(["Project Falcon", "Bob Smith"]);
    expect(within(screen.getAllByTestId("chat-row")[0]).getByTestId("unread-badge")).toHaveTextContent("1");
  });

  it("filters by title and by member name", async () => {
    const { user } = await renderChat(chats);
    await user.type(screen.getByTestId("chat-search"), "carol");
    expect(rowTitles()).toEqual(["Project Falcon"]);
    await user.clear(screen.getByTestId("chat-search"));
    await user.type(screen.getByTestId("chat-search"), "bob s");
    expect(rowTitles()).toEqual(["Bob Smith", "Project Falcon"]);
    await user.type(screen.getByTestId("chat-search"), "zzz");
    expect(screen.queryAllByTestId("chat-row")).toHaveLength(0);
    expect(screen.getByText(/No chats match/)).toBeInTheDocument();
  });

  it("moves between rows with the arrow keys", async () => {
    const { user } = await renderChat(chats);
    const [first, second] = screen.getAllByTestId("chat-row");
    first.focus();
    await user.keyboard("{ArrowDown}");
    expect(second).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(second).toHaveAttribute("aria-current", "true");
    await waitFor(() => expect(fakeCore.getThread).toHaveBeenCalledWith("c-old", null, 50));
  });

  it("invites to start a chat when there is none", async () => {
    await renderChat([]);
    expect(screen.getAllByText("Start a chat").length).toBeGreaterThan(0);
  });

  it("says why the list could not load", async () => {
    fakeCore.getChats.mockRejectedValue({ code: "offline", message: "Convene cannot reach the server." });
    const { FluentProvider, webLightTheme } = await import("@fluentui/react-components");
    const { ChatScreen } = await import("./ChatScreen");
    const { render } = await import("@testing-library/react");
    render(
      <FluentProvider theme={webLightTheme}>
        <ChatScreen />
      </FluentProvider>,
    );
    expect(await screen.findByTestId("chat-list-error")).toHaveTextContent("Convene cannot reach the server.");
  });
});

describe("new chat", () => {
  it("searches people as typing pauses, and opens the chat with the one chosen", async () => {
    const started = chat({ id: "c-new", title: "Carol Jones", members: [carol], updatedAt: "2026-03-04T09:00:00Z" });
    fakeCore.searchPeople.mockResolvedValue([carol, bob]);
    fakeCore.startChat.mockResolvedValue(started);
    const { user } = await renderChat(chats);

    await user.click(screen.getByTestId("new-chat"));
    await user.type(await screen.findByTestId("people-search"), "c");
    const options = await screen.findAllByTestId("people-option");
    expect(fakeCore.searchPeople).toHaveBeenCalledTimes(1);
    expect(fakeCore.searchPeople).toHaveBeenCalledWith("c");
    expect(options[0]).toHaveAccessibleName("Chat with Carol Jones");

    await user.click(options[0]);

    expect(fakeCore.startChat).toHaveBeenCalledWith([carol.id], null);
    await waitFor(() => expect(screen.queryByTestId("people-search")).not.toBeInTheDocument());
    const row = screen.getAllByTestId("chat-row").find((r) => r.dataset.chatId === "c-new");
    expect(row).toHaveAttribute("aria-current", "true");
    expect(screen.getByTestId("chat-title")).toHaveTextContent("Carol Jones");
  });

  it("collects several people for a group chat", async () => {
    fakeCore.searchPeople.mockResolvedValue([carol, bob]);
    fakeCore.startChat.mockResolvedValue(chats[0]);
    const { user } = await renderChat(chats);

    await user.click(screen.getByTestId("new-chat"));
    await user.type(await screen.findByTestId("people-search"), "o");
    const [addCarol] = await screen.findAllByTestId("people-add");
    await user.click(addCarol);
    expect(addCarol).toHaveAttribute("aria-pressed", "true");

    const bobOption = screen.getAllByTestId("people-option")[1];
    expect(bobOption).toHaveAccessibleName("Start a group chat with Carol Jones, Bob Smith");
    await user.click(bobOption);
    expect(fakeCore.startChat).toHaveBeenCalledWith([carol.id, bob.id], null);
  });

  it("says why a chat could not be started", async () => {
    fakeCore.searchPeople.mockResolvedValue([carol]);
    fakeCore.startChat.mockRejectedValue({ code: "refused", message: "You cannot chat with this person." });
    const { user } = await renderChat(chats);
    await user.click(screen.getByTestId("new-chat"));
    await user.type(await screen.findByTestId("people-search"), "c");
    await user.click(await screen.findByTestId("people-option"));
    expect(await screen.findByTestId("new-chat-error")).toHaveTextContent("You cannot chat with this person.");
  });
});

describe("app bar badge", () => {
  it("shows the unread total the core pushes on the Chat item", async () => {
    fakeCore.getCurrentAccount.mockResolvedValue(sampleAccount);
    fakeCore.getChats.mockResolvedValue(chats);
    await renderApp();
    const rail = screen.getByTestId("rail-chat");
    await waitFor(() => expect(within(rail).getByTestId("unread-badge")).toHaveTextContent("3"));
    expect(rail).toHaveAccessibleName("Chat, 3 unread");

    fakeCore.pushChat({ type: "unread", total: 0 });
    expect(within(rail).queryByTestId("unread-badge")).not.toBeInTheDocument();
    fakeCore.pushChat({ type: "unread", total: 120 });
    expect(within(rail).getByTestId("unread-badge")).toHaveTextContent("99+");
  });
});
