import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { chat, message } from "../test/chatFixtures";
import { fakeCore, sampleAccount } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";
import { openChat } from "../test/renderChat";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

describe("the Chat pane in the app", () => {
  it("keeps the open chat and its draft through a visit to Settings, and marks nothing read meanwhile", async () => {
    vi.spyOn(document, "hasFocus").mockReturnValue(true);
    const c1 = chat({ id: "c1" });
    fakeCore.getCurrentAccount.mockResolvedValue(sampleAccount);
    fakeCore.getChats.mockResolvedValue([c1]);
    fakeCore.getThread.mockResolvedValue({ chatId: "c1", messages: [message({ key: "a" })], hasOlder: false });
    const { user } = await renderApp();
    await screen.findAllByTestId("chat-row");
    await openChat(user, "c1");
    await user.type(screen.getByTestId("composer"), "draft in progress");

    await user.click(screen.getByTestId("rail-settings"));
    expect(screen.getByTestId("settings-screen")).toBeInTheDocument();
    expect(screen.queryByRole("textbox", { name: /Message/ })).not.toBeInTheDocument();
    const marked = fakeCore.markRead.mock.calls.length;
    fakeCore.pushChat({ type: "messages", chatId: "c1", messages: [message({ key: "b", createdAt: "2026-03-02T10:00:00Z" })] });
    expect(fakeCore.markRead).toHaveBeenCalledTimes(marked);

    await user.click(screen.getByTestId("rail-chat"));
    expect(screen.getByTestId("composer")).toHaveValue("draft in progress");
    expect(fakeCore.getThread).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(fakeCore.markRead).toHaveBeenCalledTimes(marked + 1));
  });
});
