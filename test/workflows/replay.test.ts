// Determinism guard: histories of real runs recorded on earlier releases (test/fixtures/histories/<release>/,
// scripts/record-histories.ts, kept as recorded: test/fixtures/histories/README.md) replay against
// today's workflow code without a nondeterminism error, every file and every run of every release. A
// change that would break runs started on an earlier release fails here before it reaches a worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { workflowBundle } from '../../workers/workflow-bundle.ts';
import { HISTORIES_DIR, scenarios, target } from '../../scripts/record-histories.ts';
import '../helpers/temporal.ts'; // installs the quiet test logger

/** The scenarios recorded on each release: add a release here when its histories are recorded. */
const EXPECTED: Record<string, string[]> = {
  // git-rework: recorded once on 870fbe2 (release 0.1.0) for the git-flow patches (sparky-rework-reset, sparky-git-paths).
  '0.1.0': ['aborted', 'approved', 'attention', 'cancelled', 'compensated', 'continued-as-new', 'git-rework', 'parked', 'signed'],
  // Recorded on the 0.2.0 release: the signed rounds (sparky-signed-rounds), signed revisions, the step cache and dry runs.
  '0.2.0': ['aborted', 'approved', 'attention', 'cached', 'cancelled', 'compensated', 'continued-as-new', 'dry-run', 'git-rework', 'parked',
    'revised', 'rounds', 'signed'],
};

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;
const semver = (v: string) => SEMVER.exec(v)!.slice(1).map(Number);
const older = (a: string, b: string) => { const [x, y] = [semver(a), semver(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };
const entries = readdirSync(HISTORIES_DIR).filter((f) => !f.startsWith('.') && f !== 'README.md');
const releases = entries.filter((f) => statSync(path.join(HISTORIES_DIR, f)).isDirectory()).sort(older);
const version = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Recorded { scenario: string; runs: { workflowId: string; runId: string; history: unknown }[] }
const load = (release: string, file: string): Recorded => JSON.parse(readFileSync(path.join(HISTORIES_DIR, release, file), 'utf8'));
const filesOf = (release: string) => readdirSync(path.join(HISTORIES_DIR, release)).filter((f) => f.endsWith('.json')).sort();

async function replay(runs: Recorded['runs']) {
  const results = [];
  const histories = runs.map((r) => ({ workflowId: r.workflowId, history: historyFromJSON(r.history) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(result);
  return results;
}

test('histories are kept per release: one folder per release up to this one, each with its expected scenarios', () => {
  assert.deepEqual(entries.filter((f) => !releases.includes(f)), [], 'only release folders (and the README) in test/fixtures/histories');
  for (const r of releases) assert.match(r, SEMVER, `${r}: a release folder is named after package.json's version`);
  assert.deepEqual(releases, Object.keys(EXPECTED).sort(older), 'every recorded release is listed in EXPECTED, and every listed one is kept');
  for (const r of releases) {
    assert.ok(older(r, version) <= 0, `${r} is newer than package.json's version ${version}`);
    assert.deepEqual(filesOf(r), EXPECTED[r].map((s) => `${s}.json`), `the scenarios of ${r}`);
    for (const f of filesOf(r)) assert.equal(load(r, f).scenario, f.replace(/\.json$/, ''), `${r}/${f}`);
  }
  // The recorder still records every scenario of the latest release (a new release may add some).
  const recorded = scenarios.map((s) => s.name);
  for (const s of EXPECTED[releases.at(-1)!]) assert.ok(recorded.includes(s), `scripts/record-histories.ts no longer records ${s}`);
});

for (const release of releases) {
  for (const file of filesOf(release)) {
    test(`replays ${release}/${file} deterministically (every run)`, async () => {
      const { runs } = load(release, file);
      const results = await replay(runs);
      assert.equal(results.length, runs.length);
      for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
    });
  }
}

test('the guard catches nondeterminism (a history whose child workflow type no longer matches the code)', async () => {
  const { runs } = load(releases.at(-1)!, 'approved.json');
  const meta = runs.find((r) => !r.workflowId.includes('/'))!;
  const tampered = JSON.parse(JSON.stringify(meta.history).replaceAll('"domainOrchestrator"', '"someOtherWorkflow"'));
  const [result] = await replay([{ ...meta, history: tampered }]);
  assert.ok(result.error, 'replay of a tampered history must fail');
  assert.match(result.error.name + result.error.message, /Determinism|nondetermin/i);
});

test('scripts/record-histories.ts refuses to overwrite a release folder, and records scenario subsets only into a scratch folder', () => {
  const names = scenarios.map((s) => s.name);
  assert.throws(() => target([], releases[0], names),
    new RegExp(`test/fixtures/histories/${releases[0].replaceAll('.', '\\.')} exists: the histories recorded on release ${releases[0].replaceAll('.', '\\.')} are kept as they are, so that runs started on it keep replaying`));
  assert.throws(() => target(['approved'], '9.9.9', names), /a release folder holds every scenario: record approved alone into a scratch folder with --out <dir>/);
  assert.throws(() => target(['--out', HISTORIES_DIR], '9.9.9', names), /exists: give --out a folder that does not exist yet/);
  assert.throws(() => target(['--out'], '9.9.9', names), /--out needs a folder/);
  assert.throws(() => target(['--out', '/nonexistent/x', 'nope'], '9.9.9', names), /unknown scenario\(s\) nope: the scenarios are approved, compensated/);
  assert.deepEqual(target([], '9.9.9', names), { dir: path.join(HISTORIES_DIR, '9.9.9'), label: 'test/fixtures/histories/9.9.9', only: [] });
  assert.deepEqual(target(['--out', '/nonexistent/x', 'signed'], '9.9.9', names).only, ['signed']);
});
