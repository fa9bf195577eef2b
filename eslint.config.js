// The boundary rules here are the design's, enforced: the engine (pipeline/, models/) never
// imports electron, and the renderer never reaches for Node built-ins (it talks to the typed API).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import globals from 'globals';
import prettier from 'eslint-config-prettier';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'release/', 'test/.tmp/', 'bench/.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...pluginVue.configs['flat/recommended'],
  // Prettier owns formatting; this turns off the stylistic rules that would fight it.
  prettier,
  {
    files: ['**/*.ts', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']",
          message: 'A focused test hides the rest of the suite.',
        },
      ],
    },
  },
  {
    files: ['pipeline/**', 'models/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'pipeline/ and models/ stay Electron-free: put shell code in electron/.',
            },
          ],
          patterns: [{ group: ['electron/*'], message: 'pipeline/ and models/ stay Electron-free.' }],
        },
      ],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'The renderer has no Node: use the typed API.',
            })),
            { name: 'electron', message: 'The renderer talks to the typed API through the preload bridge.' },
          ],
          patterns: [{ group: ['node:*'], message: 'The renderer has no Node: use the typed API.' }],
        },
      ],
    },
  },
);
