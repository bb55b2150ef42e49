/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The Tauri shell loads `ui/dist` in production and this dev server (port 1420,
// fixed: tauri.conf.json's devUrl points at it) under `tauri dev`.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    // The app icon lives in the repository's icons/ folder, beside ui/.
    fs: { allow: [".", "../icons"] },
  },
  preview: {
    port: 1421,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK and WebView2 of the supported platforms.
    target: ["es2022", "safari16", "chrome110"],
    // Everything is bundled locally; nothing is inlined as a remote reference.
    assetsInlineLimit: 0,
    sourcemap: false,
    // One bundle read from local disk by the webview: size matters less than
    // a single request, so don't warn at Vite's web-oriented 500 kB.
    chunkSizeWarningLimit: 1024,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
    css: false,
    // Each test starts from a fresh fake core, media queries and storage
    // (src/test/setup.ts), so files can share workers: a fresh jsdom and module graph per file cost
    // three quarters of the run.
    pool: "threads",
    isolate: false,
  },
});
