// A stand-in for src/core.ts, so tests drive the UI the way the Rust core
// would: answer commands, push connection events, and record what was asked.
// Use it with: vi.mock("../core", () => import("../test/fakeCore").then((m) => m.fakeCoreModule));
import { act } from "@testing-library/react";
import { vi } from "vitest";
import type * as Core from "../core";
import type { AppInfo, ConnectionState, ConnectionStatus } from "../core";

export const sampleAppInfo: AppInfo = {
  version: "0.1.0",
  settings: {
    serverUrl: "https://convene.example.org",
    authority: "https://convene.example.org/contoso/v2.0",
    tenant: "contoso",
    clientId: "00000000-0000-0000-0000-000000000001",
  },
};

export function connectionStatus(state: ConnectionState, details: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return {
    state,
    server: sampleAppInfo.settings.serverUrl,
    serverVersion: state === "reachable" ? "0.1.0" : null,
    error: state === "unreachable" ? "connection refused" : null,
    ...details,
  };
}

function createFakeCore() {
  const listeners = new Set<(status: ConnectionStatus) => void>();
  return {
    listeners,
    getAppInfo: vi.fn<typeof Core.getAppInfo>(() => Promise.resolve(sampleAppInfo)),
    getConnectionStatus: vi.fn<typeof Core.getConnectionStatus>(() => Promise.resolve(connectionStatus("reachable"))),
    checkConnectionNow: vi.fn<typeof Core.checkConnectionNow>(() => Promise.resolve()),
    reportUiReady: vi.fn<typeof Core.reportUiReady>(() => Promise.resolve()),
    onConnectionChange: vi.fn<typeof Core.onConnectionChange>((listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    }),
    /** The core pushes a connection event, as the connection monitor does. */
    pushConnection(status: ConnectionStatus) {
      act(() => {
        for (const listener of listeners) listener(status);
      });
    },
  };
}

/** The fake in use by the current test; replaced before each test. */
export let fakeCore = createFakeCore();

export function resetFakeCore(): void {
  fakeCore = createFakeCore();
}

/** What vi.mock("../core") resolves to: every export delegates to the current fake. */
export const fakeCoreModule: typeof Core = {
  getAppInfo: () => fakeCore.getAppInfo(),
  getConnectionStatus: () => fakeCore.getConnectionStatus(),
  checkConnectionNow: () => fakeCore.checkConnectionNow(),
  reportUiReady: () => fakeCore.reportUiReady(),
  onConnectionChange: (listener) => fakeCore.onConnectionChange(listener),
};
