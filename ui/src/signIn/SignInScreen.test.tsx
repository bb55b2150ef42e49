import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { ConnectionState, ConnectionStatus } from "../core";
import { connectionStatus, fakeCore, sampleAppInfo } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const connectionBadge = () => screen.getByTestId("connection-state");
const signInButton = () => screen.getByTestId("sign-in-button");

describe("sign-in screen", () => {
  it("says what Convene is and which organisation and server it will use", async () => {
    await renderApp();

    const signIn = screen.getByTestId("sign-in-screen");
    expect(within(signIn).getByRole("heading", { level: 1, name: "Convene" })).toBeInTheDocument();
    expect(within(signIn).getByText("Works with Microsoft Teams work accounts.")).toBeInTheDocument();
    expect(screen.getByTestId("server-url")).toHaveTextContent(sampleAppInfo.settings.serverUrl);
    expect(screen.getByTestId("tenant")).toHaveTextContent("contoso");
    expect(screen.getByTestId("authority")).toHaveTextContent(sampleAppInfo.settings.authority);
  });

  it.each<[ConnectionState, string]>([
    ["checking", "Checking…"],
    ["reachable", "Connected"],
    ["reconnecting", "Reconnecting…"],
    ["unreachable", "Can't reach the server"],
  ])("shows the %s state as “%s”", async (state, text) => {
    fakeCore.getConnectionStatus.mockResolvedValue(connectionStatus(state));
    await renderApp();

    await waitFor(() => expect(connectionBadge()).toHaveAttribute("data-state", state));
    expect(connectionBadge()).toHaveTextContent(text);
  });

  it("says why the server can't be reached and offers to try again", async () => {
    fakeCore.getConnectionStatus.mockResolvedValue(
      connectionStatus("unreachable", { error: "Connection refused (os error 111)" }),
    );
    const { user } = await renderApp();

    expect(await screen.findByText("Connection refused (os error 111)")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(fakeCore.checkConnectionNow).toHaveBeenCalledTimes(1);
  });

  it("offers no retry while the server answers", async () => {
    await renderApp();
    await waitFor(() => expect(connectionBadge()).toHaveAttribute("data-state", "reachable"));
    expect(screen.queryByRole("button", { name: "Try again" })).not.toBeInTheDocument();
  });

  it("follows the status the core pushes, live, in a polite live region", async () => {
    await renderApp();
    await waitFor(() => expect(connectionBadge()).toHaveTextContent("Connected"));
    expect(connectionBadge().closest("[aria-live='polite']")).not.toBeNull();

    fakeCore.pushConnection(connectionStatus("reconnecting"));
    expect(connectionBadge()).toHaveAttribute("data-state", "reconnecting");
    expect(connectionBadge()).toHaveTextContent("Reconnecting…");

    fakeCore.pushConnection(connectionStatus("unreachable", { error: "timed out after 5 s" }));
    expect(connectionBadge()).toHaveTextContent("Can't reach the server");
    expect(screen.getByText("timed out after 5 s")).toBeInTheDocument();

    fakeCore.pushConnection(connectionStatus("reachable"));
    expect(connectionBadge()).toHaveTextContent("Connected");
    expect(screen.queryByText("timed out after 5 s")).not.toBeInTheDocument();
  });

  it("keeps a pushed status when the first read answers late with an older one", async () => {
    let answerFirstRead: (status: ConnectionStatus) => void = () => undefined;
    fakeCore.getConnectionStatus.mockReturnValue(new Promise((resolve) => (answerFirstRead = resolve)));
    await renderApp();

    fakeCore.pushConnection(connectionStatus("reachable"));
    answerFirstRead(connectionStatus("checking"));
    await Promise.resolve();

    expect(connectionBadge()).toHaveAttribute("data-state", "reachable");
  });

  it("says so when the core can't be asked, and recovers with the next pushed status", async () => {
    fakeCore.getConnectionStatus.mockRejectedValue("the connection monitor is not running");
    await renderApp();

    await waitFor(() => expect(connectionBadge()).toHaveAttribute("data-state", "unknown"));
    expect(connectionBadge()).toHaveTextContent("Status unknown");
    expect(screen.getByTestId("connection-detail")).toHaveTextContent("the connection monitor is not running");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();

    fakeCore.pushConnection(connectionStatus("reachable"));
    expect(connectionBadge()).toHaveAttribute("data-state", "reachable");
    expect(screen.queryByTestId("connection-detail")).toHaveTextContent("Server version 0.1.0");
  });

  it("subscribes once on mount and unsubscribes on unmount", async () => {
    const { unmount } = await renderApp();
    expect(fakeCore.onConnectionChange).toHaveBeenCalledTimes(1);
    expect(fakeCore.listeners.size).toBe(1);

    unmount();
    expect(fakeCore.listeners.size).toBe(0);
  });

  it("disables signing in while the server is unreachable", async () => {
    fakeCore.getConnectionStatus.mockResolvedValue(connectionStatus("unreachable"));
    await renderApp();

    await waitFor(() => expect(signInButton()).toBeDisabled());
    fakeCore.pushConnection(connectionStatus("reachable"));
    expect(signInButton()).toBeEnabled();
  });

  it("shows a skeleton while the settings load", async () => {
    fakeCore.getAppInfo.mockReturnValue(new Promise(() => undefined));
    await renderApp({ settle: false });

    expect(await screen.findByTestId("organisation-skeleton")).toBeInTheDocument();
    expect(screen.queryByTestId("server-url")).not.toBeInTheDocument();
    expect(signInButton()).toBeDisabled();
  });

  it("says what happened when the settings can't be read, and recovers on Try again", async () => {
    fakeCore.getAppInfo.mockRejectedValueOnce("the settings file is not valid TOML");
    const { user } = await renderApp();

    const error = await screen.findByTestId("app-info-error");
    expect(error).toHaveTextContent("Convene couldn't load its settings.");
    expect(error).toHaveTextContent("the settings file is not valid TOML");
    expect(signInButton()).toBeDisabled();

    await user.click(within(error).getByRole("button", { name: "Try again" }));
    expect(await screen.findByTestId("server-url")).toHaveTextContent(sampleAppInfo.settings.serverUrl);
    expect(fakeCore.getAppInfo).toHaveBeenCalledTimes(2);
  });
});
