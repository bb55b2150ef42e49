import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";
import { defineConfig } from "eslint/config";

export default defineConfig(
  // bindings.ts is generated from Rust by tauri-specta: never edited, never linted.
  { ignores: ["dist", "node_modules", "src/bindings.ts"] },
  {
    files: ["**/*.{ts,tsx}"],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      ecmaVersion: 2022,
      globals: globals.browser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // Only core.ts may talk to the generated bridge or to Tauri directly.
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/bindings", "./bindings", "@tauri-apps/api", "@tauri-apps/api/*"],
              message: "Go through src/core.ts: it is the one adapter to the Rust core.",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "fetch", message: "The UI never touches the network; ask the core." },
        { name: "XMLHttpRequest", message: "The UI never touches the network; ask the core." },
        { name: "WebSocket", message: "The UI never touches the network; ask the core." },
      ],
    },
  },
  {
    files: ["src/core.ts"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    files: ["*.config.{js,ts}"],
    languageOptions: { globals: globals.node },
  },
);
