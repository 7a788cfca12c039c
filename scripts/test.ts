// `npm test`: type check, the workflow determinism lint, the Python tests of inference/, then every
// test/**/*.test.ts file with Node's test runner against the real parts. Type check and lint are
// stages, not tests: the summary lists the stages on their own line, then ends with the line CI reads,
// counting tests only: `N passed, N failed, N skipped` (with `; N stage(s) failed: …` when one did).
//   tsx scripts/test.ts [--only <substring>[,<substring>…]] [--skip-static]
// `--only` selects test files (Node and Python alike) whose path contains one of the substrings.
import { execa } from 'execa';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, VENV_PYTHON } from '../host/paths.ts';
import { exitCode, isSelected, summaryLines, type StageResult, type Totals } from './test-report.ts';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]?.split(',') : undefined;
const selected = (file: string) => isSelected(path.relative(PROJECT_ROOT, file), only);
const skipStatic = args.includes('--skip-static') || only !== undefined;
const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
const stages: StageResult[] = [];

function findTests(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fixtures' ? [] : findTests(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Runs one stage; `parse` adds the tests it reports to the totals and says whether it reported at all. */
async function stage(name: string, file: string, argv: string[], parse?: (out: string) => boolean): Promise<void> {
  console.log(`\n── ${name} ──`);
  const child = execa(file, argv, { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore' });
  child.all?.pipe(process.stdout);
  const result = await child;
  const failedBefore = totals.failed;
  const reported = parse ? parse(result.all ?? '') : true;
  // A runner that exits non-zero for its failed tests has them counted already; any other non-zero
  // exit (or no report at all) is the stage's own failure.
  const explained = totals.failed > failedBefore;
  const why = !reported ? `ended before reporting, exit ${result.exitCode}`
    : result.exitCode !== 0 && !explained ? `exit ${result.exitCode}` : undefined;
  stages.push({ name, ok: why === undefined, why });
  if (why) console.log(`✖ ${name} failed (${why})`);
}

const num = (out: string, re: RegExp) => Number(out.match(re)?.[1] ?? 0);

if (!skipStatic) {
  await stage('typecheck', 'node_modules/.bin/tsc', ['--noEmit', '-p', '.']);
  await stage('lint', 'node_modules/.bin/eslint', ['--max-warnings', '0', '.']);
}

const pyTestDir = path.join(PROJECT_ROOT, 'inference', 'tests');
const pyTests = existsSync(pyTestDir)
  ? readdirSync(pyTestDir).sort().filter((f) => f.startsWith('test_') && f.endsWith('.py')).map((f) => path.join(pyTestDir, f)).filter(selected)
  : [];
if (pyTests.length > 0) {
  await stage('pytest', VENV_PYTHON, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', ...pyTests], (out) => {
    totals.passed += num(out, /(\d+) passed/);
    totals.failed += num(out, /(\d+) failed/) + num(out, /(\d+) errors?\b/);
    totals.skipped += num(out, /(\d+) skipped/);
    return /\d+ passed|\d+ failed|\d+ errors?\b/.test(out);
  });
}

/**
 * Files that may take longer than a normal file's 5 minutes: the real Temporal cluster (its first run
 * builds the server from the Go module proxy, 8–17 minutes on 2 cores; then faults and an mTLS run).
 * They run after the others, one at a time, with a 60-minute limit.
 */
const LONG = [/test\/deploy\/cluster\.test\.ts$/];
const isLong = (file: string) => LONG.some((re) => re.test(file));

const nodeStage = (name: string, list: string[], timeoutMs: number, concurrency: string | number) => stage(name, process.execPath,
  // --test-force-exit: a file whose tests all finished but left a handle open must not hang CI;
  // --test-timeout: no file (and no test) may take longer than this.
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-force-exit', `--test-timeout=${timeoutMs}`,
    `--test-concurrency=${concurrency}`, ...list],
  (out) => {
    totals.passed += num(out, /ℹ pass (\d+)/);
    totals.failed += num(out, /ℹ fail (\d+)/) + num(out, /ℹ cancelled (\d+)/);
    totals.skipped += num(out, /ℹ skipped (\d+)/) + num(out, /ℹ todo (\d+)/);
    return /ℹ tests \d+/.test(out);
  });

const files = findTests(path.join(PROJECT_ROOT, 'test')).filter(selected);
const normal = files.filter((f) => !isLong(f));
const long = files.filter(isLong);
// Two files at a time: each starts its own dev server and workers, and these machines have 2 cores.
if (normal.length > 0) await nodeStage('node --test', normal, 300_000, process.env.SPARKY_TEST_CONCURRENCY ?? 2);
if (long.length > 0) await nodeStage('node --test (long: one at a time)', long, 60 * 60_000, 1);

console.log(`\n${summaryLines(totals, stages).join('\n')}`);
process.exitCode = exitCode(totals, stages);
