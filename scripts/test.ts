// `npm test`: type check, the workflow determinism lint, the Python tests of inference/, then every
// test/**/*.test.ts file with Node's test runner against the real parts. Ends with one line CI reads:
// `N passed, N failed, N skipped`.
//   tsx scripts/test.ts [--only <substring>[,<substring>…]] [--skip-static]
import { execa } from 'execa';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, VENV_PYTHON } from '../workers/paths.ts';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]?.split(',') : undefined;
const selected = (name: string) => !only || only.some((o) => name.includes(o));
const skipStatic = args.includes('--skip-static') || only !== undefined;
const totals = { passed: 0, failed: 0, skipped: 0 };

function findTests(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' ? [] : findTests(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

async function stage(name: string, file: string, argv: string[], parse?: (out: string) => void): Promise<void> {
  console.log(`\n── ${name} ──`);
  const child = execa(file, argv, { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore' });
  child.all?.pipe(process.stdout);
  const result = await child;
  if (parse) parse(result.all ?? '');
  else if (result.exitCode === 0) totals.passed += 1;
  else totals.failed += 1;
  if (result.exitCode !== 0 && !parse) console.log(`✖ ${name} failed (exit ${result.exitCode})`);
}

const num = (out: string, re: RegExp) => Number(out.match(re)?.[1] ?? 0);

if (!skipStatic) {
  await stage('typecheck (tsc --noEmit)', 'node_modules/.bin/tsc', ['--noEmit', '-p', '.']);
  await stage('lint (workflow determinism)', 'node_modules/.bin/eslint', ['--max-warnings', '0', '.']);
}

if (!only || only.some((o) => 'inference'.includes(o))) {
  const pyTests = path.join(PROJECT_ROOT, 'inference', 'tests');
  if (existsSync(pyTests) && readdirSync(pyTests).some((f) => f.startsWith('test_'))) {
    await stage('inference server (pytest)', VENV_PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', pyTests], (out) => {
      totals.passed += num(out, /(\d+) passed/);
      totals.failed += num(out, /(\d+) failed/) + num(out, /(\d+) errors?\b/);
      totals.skipped += num(out, /(\d+) skipped/);
      if (!/\d+ passed|\d+ failed/.test(out)) totals.failed += 1; // pytest crashed before reporting
    });
  }
}

const files = findTests(path.join(PROJECT_ROOT, 'test')).filter((f) => selected(path.relative(PROJECT_ROOT, f)));
if (files.length > 0) {
  // Two files at a time: each starts its own dev server and workers, and these machines have 2 cores.
  await stage('node tests (node --test)', process.execPath,
    // --test-force-exit: a file whose tests all finished but left a handle open must not hang CI;
    // --test-timeout: no single test may take more than 5 minutes.
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-force-exit', '--test-timeout=300000',
      `--test-concurrency=${process.env.SPARKY_TEST_CONCURRENCY ?? 2}`, ...files],
    (out) => {
      totals.passed += num(out, /ℹ pass (\d+)/);
      totals.failed += num(out, /ℹ fail (\d+)/) + num(out, /ℹ cancelled (\d+)/);
      totals.skipped += num(out, /ℹ skipped (\d+)/) + num(out, /ℹ todo (\d+)/);
      if (!/ℹ tests \d+/.test(out)) totals.failed += 1;
    });
}

console.log(`\n${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exitCode = totals.failed > 0 ? 1 : 0;
