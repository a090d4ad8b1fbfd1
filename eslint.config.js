// One lint configuration for the whole workspace: ESLint's and typescript-eslint's recommended rules.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/.turbo/**", "**/outputs/**", "**/coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Node everywhere; the Barchart source also runs functions inside the page (browser globals).
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // `_unused` marks a value deliberately ignored (e.g. destructured away).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
    },
  },
  {
    // kysely's migrations must not depend on the current schema's type: Kysely<any> is its documented form.
    files: ["**/migrations.ts", "**/*-migration.ts", "**/test-support/raw-database.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
