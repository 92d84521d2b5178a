import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const rawIpc = {
  paths: [
    { name: 'electron', importNames: ['ipcMain'], message: 'Use the typed wrappers in src/main/ipc.' },
    { name: 'electron', importNames: ['ipcRenderer'], message: 'Use the typed preload API (src/preload).' },
  ],
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.cache/**', '.scratch/**', '.bench/**', 'tests/e2e/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': ['error', rawIpc],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The only places allowed to touch raw IPC.
    files: ['src/main/ipc/electronTransport.ts', 'src/preload/index.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Services are pure Node: Electron lives only in the composition root, the IPC wrappers and the preload.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/ipc/**', 'src/main/engine/utilityProcessHost.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Services are pure Node: electron belongs to src/main/index.ts and src/main/ipc (README → Architecture).' }] },
      ],
    },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}', 'src/bridge-client/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer reaches main only through window.api.' }],
          patterns: [{ group: ['node:*', '../main/*', '../../main/*'], message: 'The renderer has no Node access.' }],
        },
      ],
    },
  },
);
