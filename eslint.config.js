// The boundary rules here are the design's, enforced: the engine (pipeline/, models/) never
// imports electron, and the renderer never reaches for Node built-ins (it talks to the typed API).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import vueParser from 'vue-eslint-parser';
import globals from 'globals';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));

/**
 * The layer order, lowest first: a module may import its own layer and those below it, never
 * one above. `pipeline/api/contract.ts` (the API's pure types, what every layer and the renderer
 * speak) sits with the base utilities. models/ is a peer of pipeline's ingest and steps and
 * imports only pipeline's lower layers, so pipeline/ and models/ never import each other both
 * ways; nothing imports workflows.ts, which assembles the steps.
 */
const base = ['./pipeline/store', './pipeline/base', './pipeline/api/contract.ts'];
const engine = ['./pipeline/engine'];
const domain = [
  './pipeline/ingest',
  './pipeline/steps',
  './pipeline/search',
  './pipeline/understand',
  './pipeline/workflows.ts',
  './pipeline/episode-input.ts',
  './models',
];
const shells = ['./pipeline/commands', './pipeline/cli.ts', './electron', './renderer'];
const above = (layer) =>
  `sits below ${layer} in the layer order (README, "Layers"): move the shared code down, or pass it in.`;
const apiExceptContract = { from: './pipeline/api', except: ['./contract.ts'] };
const layerZones = [
  ...base.map((target) => ({
    target,
    from: [...engine, ...domain, ...shells],
    message: above('engine, ingest/models/steps, api and the shells'),
  })),
  ...base
    .filter((t) => t !== './pipeline/api/contract.ts')
    .map((target) => ({ target, from: './pipeline/api', message: above('api') })),
  {
    target: './pipeline/api/contract.ts',
    from: './pipeline/api',
    except: ['./contract.ts'],
    message: above('api'),
  },
  { target: engine, from: [...domain, ...shells], message: above('ingest/models/steps and the shells') },
  { target: engine, ...apiExceptContract, message: above('api') },
  ...domain.map((target) => ({ target, ...apiExceptContract, message: above('api') })),
  { target: domain, from: shells, message: above('the shells (commands, electron, renderer)') },
  { target: './pipeline/api', from: shells, message: above('the shells (commands, electron, renderer)') },
  {
    target: './models',
    from: [
      './pipeline/ingest',
      './pipeline/steps',
      './pipeline/search',
      './pipeline/understand',
      './pipeline/workflows.ts',
      './pipeline/episode-input.ts',
    ],
    message:
      "models/ imports only pipeline's lower layers (store, base, engine, the contract): pipeline's steps use models, never the other way round.",
  },
  {
    target: ['./pipeline', './models'],
    from: './pipeline/workflows.ts',
    message: 'workflows.ts assembles the steps; nothing imports it (EpisodeInput lives in episode-input.ts).',
  },
];

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
    files: [
      'pipeline/**/*.ts',
      'models/**/*.ts',
      'electron/**/*.ts',
      'renderer/**/*.ts',
      'renderer/**/*.vue',
    ],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.vue'] })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
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
