import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { fakeCore, otherAccount, sampleAccount } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

async function renderSignedIn() {
  fakeCore.getCurrentAccount.mockResolvedValue(sampleAccount);
  fakeCore.getAccounts.mockResolvedValue([sampleAccount, otherAccount]);
  const app = await renderApp();
  await waitFor(() => expect(fakeCore.getAccounts).toHaveBeenCalled());
  return app;
}

async function openAccountMenu() {
  const app = await renderSignedIn();
  await app.user.click(screen.getByTestId("account-button"));
  return { ...app, menu: await screen.findByRole("menu") };
}

describe("signed in", () => {
  it("shows a previously signed-in account without any click", async () => {
    await renderSignedIn();

    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");
    expect(screen.getByTestId("chat-list")).toBeInTheDocument();
    // The end-to-end tests look for the name here, on the Chat pane with no chat open.
    expect(screen.getByTestId("signed-in-user")).toHaveTextContent("Welcome, Adele Vance");
    expect(screen.queryByTestId("sign-in-screen")).not.toBeInTheDocument();
    expect(fakeCore.signIn).not.toHaveBeenCalled();
  });

  it("shows the call history on Calls", async () => {
    const { user } = await renderSignedIn();
    await user.click(screen.getByRole("button", { name: "Calls" }));

    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");
    expect(screen.getByTestId("calls-tab")).toBeInTheDocument();
    expect(await screen.findByText("No calls yet")).toBeInTheDocument();
  });

  it("puts the account's initials in the app bar", async () => {
    await renderSignedIn();
    const button = screen.getByTestId("account-button");
    expect(button).toHaveAccessibleName("Account: Adele Vance");
    expect(button).toHaveTextContent("AV");
  });

  it("follows the account the core pushes", async () => {
    await renderSignedIn();
    fakeCore.pushAccount(otherAccount);
    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Megan Bowen");
  });
});

describe("account menu", () => {
  it("says who is signed in and lists the other accounts", async () => {
    const { menu } = await openAccountMenu();

    const details = screen.getByTestId("account-details");
    expect(details).toHaveTextContent("Adele Vance");
    expect(details).toHaveTextContent("adele.vance@contoso.example");
    expect(details).toHaveTextContent(sampleAccount.tenantId);

    const items = within(menu).getAllByRole("menuitem");
    expect(items).toHaveLength(3);
    expect(items[0]).toHaveAccessibleName("Switch to Megan Bowen megan.bowen@contoso.example");
    expect(items[1]).toHaveAccessibleName("Add another account");
    expect(items[2]).toHaveAccessibleName("Sign out");
  });

  it("switches to another account", async () => {
    fakeCore.switchAccount.mockResolvedValue(otherAccount);
    const { user, menu } = await openAccountMenu();

    await user.click(within(menu).getByRole("menuitem", { name: /Switch to Megan Bowen/ }));

    expect(fakeCore.switchAccount).toHaveBeenCalledExactlyOnceWith(otherAccount.userId);
    await waitFor(() => expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Megan Bowen"));
  });

  it("says so when switching fails", async () => {
    fakeCore.switchAccount.mockRejectedValue(new Error("That account is no longer on this device."));
    const { user, menu } = await openAccountMenu();

    await user.click(within(menu).getByRole("menuitem", { name: /Switch to Megan Bowen/ }));

    expect(await screen.findByTestId("account-error")).toHaveTextContent("That account is no longer on this device.");
    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");
  });

  it("adds another account through the browser", async () => {
    const { user, menu } = await openAccountMenu();

    await user.click(within(menu).getByRole("menuitem", { name: "Add another account" }));
    expect(fakeCore.signIn).toHaveBeenCalledExactlyOnceWith(null);

    fakeCore.pushSignIn({ state: "waitingForBrowser" });
    expect(screen.getByTestId("sign-in-progress")).toHaveTextContent("Finish signing in in your browser…");
    await user.click(screen.getByTestId("cancel-sign-in"));
    expect(fakeCore.cancelSignIn).toHaveBeenCalledTimes(1);
  });

  it("signs out, and the sign-in screen returns when no account is left", async () => {
    const { user } = await openAccountMenu();

    await user.click(screen.getByTestId("sign-out"));
    expect(fakeCore.signOut).toHaveBeenCalledExactlyOnceWith(sampleAccount.userId);

    fakeCore.pushAccount(null);
    expect(screen.getByTestId("sign-in-screen")).toBeInTheDocument();
    expect(screen.queryByTestId("account-button")).not.toBeInTheDocument();
    expect(screen.queryByTestId("chat-list")).not.toBeInTheDocument();
  });

  it("opens from the keyboard", async () => {
    const { user } = await renderSignedIn();
    screen.getByTestId("account-button").focus();
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("menu")).toBeInTheDocument();
  });
});

describe("approval needed", () => {
  it("keeps the account signed in and asks for the approval in the browser with its username", async () => {
    const { user } = await renderSignedIn();

    fakeCore.pushInteractionRequired(sampleAccount, "read and send your chats and see colleagues' presence");

    const banner = screen.getByTestId("approval-needed");
    expect(banner).toHaveTextContent(
      "To read and send your chats and see colleagues' presence, Convene needs your approval for adele.vance@contoso.example.",
    );
    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");

    await user.click(within(banner).getByRole("button", { name: "Continue" }));
    expect(fakeCore.signIn).toHaveBeenCalledExactlyOnceWith("adele.vance@contoso.example");

    fakeCore.pushSignIn({ state: "signedIn" });
    expect(screen.queryByTestId("approval-needed")).not.toBeInTheDocument();
  });
});

describe("session expired", () => {
  it("keeps the account shown and offers to sign in again with its username", async () => {
    const { user } = await renderSignedIn();

    fakeCore.pushSessionExpired(sampleAccount);

    const banner = screen.getByTestId("session-expired");
    expect(banner).toHaveTextContent(
      "Your session for adele.vance@contoso.example has ended. Sign in again to keep using Convene.",
    );
    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");

    await user.click(within(banner).getByRole("button", { name: "Sign in again" }));
    expect(fakeCore.signIn).toHaveBeenCalledExactlyOnceWith("adele.vance@contoso.example");
    expect(screen.getByTestId("sign-in-progress")).toBeInTheDocument();

    fakeCore.pushSignIn({ state: "signedIn" });
    expect(screen.queryByTestId("session-expired")).not.toBeInTheDocument();
    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");
  });

  it("keeps the banner when signing in again fails", async () => {
    const { user } = await renderSignedIn();
    fakeCore.pushSessionExpired(sampleAccount);

    await user.click(screen.getByRole("button", { name: "Sign in again" }));
    fakeCore.pushSignIn({ state: "failed", error: { code: "other", message: "The browser was closed." } });

    expect(screen.getByTestId("session-expired")).toBeInTheDocument();
    expect(screen.getByTestId("sign-in-error")).toHaveTextContent("The browser was closed.");
  });
});
