import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { expect } from "vitest";
import { App } from "../App";

/**
 * Start the app as a user would see it. By default waits until the core's
 * first answers are on screen (the account and settings skeletons are gone).
 */
export async function renderApp({ settle = true }: { settle?: boolean } = {}) {
  const user = userEvent.setup();
  const view = render(<App />);
  if (settle) {
    await waitFor(() => {
      expect(screen.queryByTestId("session-skeleton")).not.toBeInTheDocument();
      expect(screen.queryByTestId("organisation-skeleton")).not.toBeInTheDocument();
    });
  }
  return { user, ...view };
}
