import { act, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { sampleAppInfo } from "../test/fakeCore";
import { setMediaQuery } from "../test/mediaQueries";
import { renderApp } from "../test/renderApp";
import { DARK_QUERY, FORCED_COLORS_QUERY, MORE_CONTRAST_QUERY } from "../theme/useSystemAppearance";
import { THEME_STORAGE_KEY } from "../theme/useThemePreference";

vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));

const appliedTheme = () => document.querySelector("[data-theme]")?.getAttribute("data-theme");

async function openSettings() {
  const app = await renderApp();
  await app.user.click(screen.getByRole("button", { name: "Settings" }));
  return app;
}

describe("settings", () => {
  it("shows the app version and the server in About", async () => {
    await openSettings();
    await waitFor(() => expect(screen.getByTestId("app-version")).toHaveTextContent("Version 0.1.0"));
    expect(screen.getByTestId("about-server-url")).toHaveTextContent(sampleAppInfo.settings.serverUrl);
  });

  it("follows the system theme by default, live", async () => {
    await openSettings();
    expect(screen.getByRole("radio", { name: "System" })).toBeChecked();
    expect(appliedTheme()).toBe("light");

    act(() => setMediaQuery(DARK_QUERY, true));
    expect(appliedTheme()).toBe("dark");
    expect(screen.getByText("Follows your device's appearance; now dark.")).toBeInTheDocument();

    act(() => setMediaQuery(FORCED_COLORS_QUERY, true));
    expect(appliedTheme()).toBe("highContrast");

    act(() => {
      setMediaQuery(FORCED_COLORS_QUERY, false);
      setMediaQuery(MORE_CONTRAST_QUERY, true);
    });
    expect(appliedTheme()).toBe("highContrast");
  });

  it("applies and remembers an explicit choice", async () => {
    const { user, unmount } = await openSettings();
    act(() => setMediaQuery(DARK_QUERY, true));

    await user.click(screen.getByRole("radio", { name: "Light" }));
    expect(appliedTheme()).toBe("light");
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBe("light");

    await user.click(screen.getByRole("radio", { name: "High contrast" }));
    expect(appliedTheme()).toBe("highContrast");

    unmount();
    await openSettings();
    expect(screen.getByRole("radio", { name: "High contrast" })).toBeChecked();
    expect(appliedTheme()).toBe("highContrast");
  });

  it("ignores a stored value it doesn't know", async () => {
    window.localStorage.setItem(THEME_STORAGE_KEY, "sepia");
    await openSettings();
    expect(screen.getByRole("radio", { name: "System" })).toBeChecked();
  });
});
