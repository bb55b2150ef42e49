import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { fakeCore } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const railItem = (name: string) => screen.getByRole("button", { name });

describe("app bar", () => {
  it("starts on Chat, marked as the current page", async () => {
    await renderApp();
    expect(screen.getByRole("navigation", { name: "App bar" })).toBeInTheDocument();
    expect(railItem("Chat")).toHaveAttribute("aria-current", "page");
    expect(railItem("Calls")).not.toHaveAttribute("aria-current");
    expect(railItem("Settings")).not.toHaveAttribute("aria-current");
    expect(screen.getByTestId("sign-in-screen")).toHaveTextContent("Sign in to see your chats.");
  });

  it("moves focus with the arrow keys and opens a pane with Enter", async () => {
    const { user } = await renderApp();

    railItem("Chat").focus();
    await user.keyboard("{ArrowDown}");
    expect(railItem("Calls")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(railItem("Settings")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(railItem("Chat")).toHaveFocus();
    await user.keyboard("{ArrowUp}");
    expect(railItem("Settings")).toHaveFocus();

    // Moving focus alone does not switch panes.
    expect(railItem("Chat")).toHaveAttribute("aria-current", "page");

    await user.keyboard("{Enter}");
    expect(railItem("Settings")).toHaveAttribute("aria-current", "page");
    expect(railItem("Chat")).not.toHaveAttribute("aria-current");
    expect(screen.getByTestId("settings-screen")).toBeInTheDocument();
    expect(screen.queryByTestId("sign-in-screen")).not.toBeInTheDocument();
  });

  it("switches panes on click", async () => {
    const { user } = await renderApp();

    await user.click(railItem("Calls"));
    expect(railItem("Calls")).toHaveAttribute("aria-current", "page");
    expect(screen.getByTestId("sign-in-screen")).toHaveTextContent("Sign in to make and receive calls.");

    await user.click(railItem("Settings"));
    expect(railItem("Settings")).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("heading", { level: 1, name: "Settings" })).toBeInTheDocument();
  });

  it("is one Tab stop: Tab leaves it for the main pane", async () => {
    const { user } = await renderApp();

    railItem("Chat").focus();
    await user.keyboard("{ArrowDown}");
    await user.tab();

    expect(screen.getByRole("button", { name: "Sign in with work account" })).toHaveFocus();
  });

  it("offers a skip link to the main content first", async () => {
    const { user } = await renderApp();

    await user.tab();
    const skip = screen.getByRole("link", { name: "Skip to main content" });
    expect(skip).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("main-pane")).toHaveFocus();
  });
});

describe("start-up", () => {
  it("reports the first screen to the core once, after it has painted", async () => {
    const { user } = await renderApp({ settle: false });
    expect(fakeCore.reportUiReady).not.toHaveBeenCalled();

    await waitFor(() => expect(fakeCore.reportUiReady).toHaveBeenCalledTimes(1));
    await user.click(railItem("Settings"));
    await user.click(railItem("Chat"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fakeCore.reportUiReady).toHaveBeenCalledTimes(1);
  });
});
