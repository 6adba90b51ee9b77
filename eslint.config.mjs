// @ts-check
// ESLint for the whole source tree (`npm run lint`, part of `npm test`). Bug-finding rules only: layout is
// Prettier's (`npm run format`), and eslint-config-prettier, last below, turns off any rule that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'resources/', 'node_modules/', 'bench/results/', '.twinloop/', 'tmp/'] },
  js.configs.recommended,
  // Type-aware: the rules that need types are the ones that find real bugs here (a promise nobody awaits in a
  // Node-RED handler is an unhandled rejection that stops the runtime; `${obj}` that prints [object Object]). It costs
  // one TypeScript program over the tree: about as long as `tsc --noEmit` (≈ 40–80 s on 2 busy cores), next to a
  // 12-minute suite.
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
      parserOptions: {
        // Files outside tsconfig.json's `include` get a default program.
        projectService: { allowDefaultProject: ['*.mjs', '.mocharc.cjs', 'scripts/validate-package.ts', 'scripts/*.cjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The no-unsafe-* family (from recommendedTypeChecked) stays on for everything that ships: an `any` from
      // JSON.parse, a fetch answer or an untyped module is read as `unknown` and narrowed where it enters
      // (isRecord in runtime/model/errors.ts, the pages' readAnswer in web/client/answer.ts, NodeRedModule in
      // bin/lib/embedded-node-red.ts). Specs and benches turn it off below.
      // Tidiness, not bugs: a redundant `as` or an `async` function with no `await` behaves the same.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      // Config values arrive from flow JSON as `unknown`; `String(v)` on them is deliberate (numbers and strings
      // both reach it), and an object would only print as [object Object] inside a BAD_CONFIG message.
      '@typescript-eslint/no-base-to-string': 'off',
      // Node-RED's node constructors keep `const node = this` for the event callbacks (the convention of its core nodes).
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Passing on what a `catch` caught (typed unknown) is fine; throwing a literal or a plain object is not.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // A `let` assigned once but read by a callback that may run first (a listener set up before) stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `== null` (null or undefined) is the one loose comparison allowed.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      'no-self-compare': 'error',
      'no-unreachable-loop': 'error',
      'array-callback-return': 'error',
    },
  },
  {
    // The supervisors' pages and the editor widgets run in the browser.
    files: ['web/client/**/*.ts', 'editor/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // Specs and benches load what ships, dist/, by computed path, and Node-RED's CommonJS core nodes: `require`.
      '@typescript-eslint/no-require-imports': 'off',
      // Specs reach into Node-RED node instances, the test helper's log, window.RED in the editor and JSON bodies,
      // none of which are typed; the assertions say what shape they expect. The same holds for every use of those
      // `any`s (~1,000 findings of no-unsafe-*): a spec that reads a field that is not there fails its assertion.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // A development script, not shipped: it patches Node's own untyped Module._load (and axios) around node-red-dev.
    files: ['scripts/*.cjs'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
