// Lint exists mainly for one rule: workflow code must stay deterministic. Temporal replays workflow
// code from history, so workflows/ (and common/, which workflows import) may not touch I/O, clocks,
// randomness or Node built-ins except through @temporalio/workflow.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const ioPackages = ['execa', 'zeromq', '@msgpack/msgpack', 'yaml', 'commander', 'log-update',
  '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing', 'playwright-core'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.sparky/**', 'inference/**', 'bench/results/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {},
  },
  {
    files: ['workflows/**/*.ts', 'common/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioPackages].map((name) => ({
          name, message: 'workflow code must be deterministic: no Node built-ins or I/O libraries (use activities)',
        })),
        patterns: [
          { group: ['../activities/*', '../workers/*', '../host/*', '../cli/*', '../plan/load*'],
            message: 'workflow code may not import activities, workers, host settings, the CLI or file loaders' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'no process access in workflow code' },
        { name: 'setInterval', message: 'use workflow.sleep / condition' },
        { name: 'fetch', message: 'I/O belongs in activities' },
        { name: 'require', message: 'use static imports' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'use workflow.uuid4 (Temporal seeds it; Math.random reads the same but says less)' },
      ],
    },
  },
);
