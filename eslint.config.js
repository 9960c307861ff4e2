// Code-quality lint. The layer rules of ARCHITECTURE.md are enforced by dependency-cruiser
// (.dependency-cruiser.cjs), which resolves every import to a file before judging it.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['node_modules/', 'out/', 'dist/', 'release/', 'test-results/', 'playwright-report/', 'test/import-rules/fixtures/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../*'],
              message: 'Import across folders with a package.json subpath import (#shared/…, #services/…, #rpc/…).',
            },
          ],
        },
      ],
    },
  },
  {
    // Type-aware rules: a promise nobody awaits or handles is an error that vanishes (or, in Node,
    // an unhandled rejection that ends the process); a promise where a boolean or a void callback
    // is expected is a bug.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './tsconfig.ui-tests.json', './tsconfig.e2e.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // The React hooks rules (with the React Compiler's checks): hooks in order, complete
    // dependency lists, no state set during render or synchronously in an effect.
    files: ['renderer/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
    rules: {
      ...reactHooks.configs.flat.recommended.rules,
      'react-hooks/exhaustive-deps': 'error',
      // Drover does not run the React Compiler; this only says it would skip the components that
      // use TanStack Virtual (which returns new functions each render by design).
      'react-hooks/incompatible-library': 'off',
    },
  },
);
