// Lint, with the layer rules of DESIGN §2 as errors:
//   shared imports nothing; renderer imports only shared (and svelte);
//   the engine never imports electron; only engine/runtime imports onnxruntime-node;
//   the engine's code (not its tests) never imports test support, so the build leaves it out.
// test/lint-layers.test.ts plants violations and checks each is caught.
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const ORT = { name: 'onnxruntime-node', message: 'only src/main/engine/runtime may import onnxruntime-node (DESIGN §2)' };
const ELECTRON = { name: 'electron', message: 'the engine runs under plain Node (CLI, worker, tests): never import electron here' };
// Test support lives in test/support/ (or, beside code, in *testing.ts / test-*.ts files that
// tsconfig.cli.json leaves out of dist/); an import from engine code would pull it into the build.
const TEST_SUPPORT = {
  regex: '(^|/)test/support/|testing(\\.js)?$|/test-[^/]*$',
  message: 'test support is for tests: engine code never imports it (it stays out of dist/)',
};
const ENGINE_TESTS = ['src/main/engine/**/*.test.ts', 'src/main/engine/**/*testing.ts', 'src/main/engine/**/test-*.ts'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'resources/**', '.gpu/**', 'scripts/**/*.py'] },
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // svelte's wrapper of no-inner-declarations crashes on CommonJS scope.
    rules: { '@typescript-eslint/no-require-imports': 'off', 'svelte/no-inner-declarations': 'off' },
  },
  // Order matters: later blocks override the rule for narrower paths.
  {
    files: ['src/**', 'bench/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ORT] }] },
  },
  {
    files: ['src/main/engine/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ORT, ELECTRON], patterns: [TEST_SUPPORT] }] },
  },
  {
    files: ['src/main/engine/runtime/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON], patterns: [TEST_SUPPORT] }] },
  },
  {
    files: ENGINE_TESTS,
    ignores: ['src/main/engine/runtime/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ORT, ELECTRON] }] },
  },
  {
    files: ENGINE_TESTS.map((p) => p.replace('engine/**', 'engine/runtime/**')),
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON] }] },
  },
  {
    files: ['src/shared/**'],
    ignores: ['src/shared/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./)', message: 'src/shared is pure types and helpers: it imports nothing outside src/shared (DESIGN §2)' }] },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    // Tests may import vitest; the app never imports them (checked by the build: they are not reachable from main.ts).
    ignores: ['src/renderer/**/*.test.ts', 'src/renderer/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(?!\\.|svelte(/|$))', message: 'the renderer imports only src/shared, its own files and svelte (DESIGN §2)' },
            { regex: '/(main|preload)/', message: 'the renderer talks to the engine only through EngineApi (src/shared), never main or preload code' },
          ],
        },
      ],
    },
  },
);
