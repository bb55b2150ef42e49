import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, beforeEach } from "vitest";
import { resetFakeCore } from "./fakeCore";
import { installLayoutEmulation, installResizeObserver, installViewportEmulation } from "./layout";
import { installMatchMedia, resetMediaQueries } from "./mediaQueries";

installMatchMedia();
installLayoutEmulation();
installResizeObserver();
installViewportEmulation();

beforeEach(() => {
  resetFakeCore();
  resetMediaQueries();
  window.localStorage.clear();
});

afterEach(() => {
  cleanup();
});
