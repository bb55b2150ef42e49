import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { ChatScreen } from "../chat/ChatScreen";
import type { ChatSummary, ThreadMessage } from "../core";
import { fakeCore } from "./fakeCore";

/** The Chat pane on its own, with these chats (and these threads) in the fake core. */
export async function renderChat(chats: ChatSummary[], threads: Record<string, ThreadMessage[]> = {}) {
  fakeCore.getChats.mockResolvedValue(chats);
  fakeCore.getThread.mockImplementation((chatId) =>
    Promise.resolve({ chatId, messages: threads[chatId] ?? [], hasOlder: false }),
  );
  const user = userEvent.setup();
  const view = render(
    <FluentProvider theme={webLightTheme}>
      <ChatScreen />
    </FluentProvider>,
  );
  if (chats.length > 0) await screen.findAllByTestId("chat-row");
  else await screen.findAllByText("Start a chat");
  return { user, ...view };
}

/** Click a chat's row and wait for its thread. */
export async function openChat(user: ReturnType<typeof userEvent.setup>, chatId: string) {
  const row = screen.getAllByTestId("chat-row").find((r) => r.dataset.chatId === chatId);
  if (row === undefined) throw new Error(`no row for chat ${chatId}`);
  await user.click(row);
  await act(() => Promise.resolve());
  return screen.findByTestId("thread");
}

export const rowTitles = () =>
  screen.getAllByTestId("chat-row").map((row) => within(row).getByTestId("chat-row-title").textContent);

export const messageKeys = () => screen.queryAllByTestId("message").map((m) => m.dataset.key);
