// Lint rules for spotguard. The one that matters most: pure planners import no I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioPackages = [
  '@kubernetes/client-node', 'undici', 'pino', 'prom-client', 'commander',
  'node:*', 'fs', 'fs/*', 'http', 'https', 'net', 'child_process', 'os', 'path', 'dns', 'crypto',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'manifests/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'enums are not erasable: use a union of string literals' }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'read process.env only where configuration is parsed (cli/, core/config/)' }],
    },
  },
  {
    // process.env is read in one place: config parsing, the CLI entry, and test/bench tooling.
    files: ['core/config/**', 'cli/**', 'test/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // Pure planners: plain snapshots and `now` in, data out. No I/O.
    files: ['agent/plan/**/*.ts', 'controller/steering/**/*.ts', 'controller/risk/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ioPackages, message: 'planners are pure: no I/O imports (see STYLE.md, "Decide, then execute")' }],
      }],
    },
  },
);
