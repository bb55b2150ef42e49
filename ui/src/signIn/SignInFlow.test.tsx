import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { CoreUserError } from "../coreError";
import { connectionStatus, fakeCore, sampleAccount } from "../test/fakeCore";
import { renderApp } from "../test/renderApp";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const signInButton = () => screen.getByTestId("sign-in-button");

async function startSigningIn() {
  const app = await renderApp();
  await waitFor(() => expect(signInButton()).toBeEnabled());
  await app.user.click(signInButton());
  fakeCore.pushSignIn({ state: "waitingForBrowser" });
  return app;
}

describe("signing in", () => {
  it("opens the browser, shows progress, then the signed-in account's name", async () => {
    await startSigningIn();
    expect(fakeCore.signIn).toHaveBeenCalledExactlyOnceWith(null);

    const progress = screen.getByTestId("sign-in-progress");
    expect(progress).toHaveTextContent("Finish signing in in your browser…");
    expect(within(progress).getByRole("progressbar")).toBeInTheDocument();
    expect(progress.closest("[aria-live='polite']")).not.toBeNull();
    expect(signInButton()).toHaveAttribute("aria-disabled", "true");

    fakeCore.pushSignIn({ state: "signedIn" });
    fakeCore.pushAccount(sampleAccount);

    expect(screen.getByTestId("account-button")).toHaveAccessibleName("Account: Adele Vance");
    expect(screen.getByTestId("chat-list")).toBeInTheDocument();
    expect(screen.getByTestId("signed-in-user")).toHaveTextContent("Adele Vance");
    expect(screen.queryByTestId("sign-in-screen")).not.toBeInTheDocument();
    expect(screen.queryByTestId("sign-in-progress")).not.toBeInTheDocument();
  });

  it("shows progress as soon as the button is pressed", async () => {
    const { user } = await renderApp();
    await user.click(signInButton());
    expect(screen.getByTestId("sign-in-progress")).toHaveTextContent("Opening your browser…");
  });

  it("cancels: asks the core to stop and quietly returns to the button", async () => {
    const { user } = await startSigningIn();

    await user.click(screen.getByTestId("cancel-sign-in"));
    expect(fakeCore.cancelSignIn).toHaveBeenCalledTimes(1);
    fakeCore.pushSignIn({ state: "cancelled" });

    await waitFor(() => expect(screen.queryByTestId("sign-in-progress")).not.toBeInTheDocument());
    expect(screen.queryByTestId("sign-in-error")).not.toBeInTheDocument();
    expect(signInButton()).toBeEnabled();
    expect(signInButton()).not.toHaveAttribute("aria-disabled", "true");
  });

  it("says why a sign-in failed, in the core's words, and offers the button again", async () => {
    await startSigningIn();

    fakeCore.pushSignIn({
      state: "failed",
      error: { code: "other", message: "Your organisation doesn't allow Convene yet. Ask your IT admin." },
    });

    const error = screen.getByTestId("sign-in-error");
    expect(error).toHaveTextContent("Your organisation doesn't allow Convene yet. Ask your IT admin.");
    expect(error.closest("[aria-live]")).not.toBeNull();
    expect(screen.queryByTestId("sign-in-progress")).not.toBeInTheDocument();
    expect(signInButton()).toBeEnabled();
    expect(signInButton()).not.toHaveAttribute("aria-disabled", "true");
  });

  it("clears the error when trying again", async () => {
    const { user } = await startSigningIn();
    fakeCore.pushSignIn({ state: "failed", error: { code: "other", message: "The browser was closed." } });

    await user.click(signInButton());
    expect(screen.queryByTestId("sign-in-error")).not.toBeInTheDocument();
    expect(fakeCore.signIn).toHaveBeenCalledTimes(2);
  });

  it("says how to fix a missing keyring when the core refuses to start", async () => {
    const message = "Convene needs a keyring to keep your sign-in. Install and unlock GNOME Keyring or KWallet.";
    fakeCore.signIn.mockRejectedValue(new CoreUserError({ code: "keyringUnavailable", message }));
    const { user } = await renderApp();

    await user.click(signInButton());

    expect(await screen.findByTestId("sign-in-error")).toHaveTextContent(message);
    expect(screen.queryByTestId("sign-in-progress")).not.toBeInTheDocument();
    expect(signInButton()).toBeEnabled();
  });

  it("stays unavailable while the server is unreachable", async () => {
    fakeCore.getConnectionStatus.mockResolvedValue(connectionStatus("unreachable"));
    await renderApp();
    await waitFor(() => expect(signInButton()).toBeDisabled());
  });

  it("shows a skeleton, not the sign-in screen, while the core says who is signed in", async () => {
    fakeCore.getCurrentAccount.mockReturnValue(new Promise(() => undefined));
    await renderApp({ settle: false });

    expect(await screen.findByTestId("session-skeleton")).toBeInTheDocument();
    expect(screen.queryByTestId("sign-in-screen")).not.toBeInTheDocument();
  });

  it("shows the sign-in screen with the reason when the account can't be read", async () => {
    fakeCore.getCurrentAccount.mockRejectedValue(
      new CoreUserError({ code: "keyringUnavailable", message: "No keyring is running." }),
    );
    await renderApp();

    expect(screen.getByTestId("sign-in-screen")).toBeInTheDocument();
    expect(screen.getByTestId("sign-in-error")).toHaveTextContent("No keyring is running.");
  });
});
