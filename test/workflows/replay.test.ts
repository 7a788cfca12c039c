// Determinism guard: histories of real runs (test/fixtures/histories, recorded by
// scripts/record-histories.ts; git-rework.json once, on the release before the git-flow patches)
// replay against today's workflow code without a nondeterminism error.
// A change that would break running workflows fails here before it reaches a worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { workflowBundle } from '../../workers/workflow-bundle.ts';
import '../helpers/temporal.ts'; // installs the quiet test logger

const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

interface Recorded { scenario: string; runs: { workflowId: string; runId: string; history: unknown }[] }
const load = (file: string): Recorded => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));

async function replay(runs: Recorded['runs']) {
  const results = [];
  const histories = runs.map((r) => ({ workflowId: r.workflowId, history: historyFromJSON(r.history) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories)) results.push(result);
  return results;
}

test('recorded histories exist for the main scenarios', () => {
  assert.deepEqual(files, ['aborted.json', 'approved.json', 'attention.json', 'cancelled.json', 'compensated.json', 'continued-as-new.json', 'git-rework.json', 'parked.json', 'signed.json']);
});

for (const file of files) {
  test(`replays ${file} deterministically`, async () => {
    const { runs } = load(file);
    const results = await replay(runs);
    assert.equal(results.length, runs.length);
    for (const r of results) assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
  });
}

test('the guard catches nondeterminism (a history whose child workflow type no longer matches the code)', async () => {
  const { runs } = load('approved.json');
  const meta = runs.find((r) => !r.workflowId.includes('/'))!;
  const tampered = JSON.parse(JSON.stringify(meta.history).replaceAll('"domainOrchestrator"', '"someOtherWorkflow"'));
  const [result] = await replay([{ ...meta, history: tampered }]);
  assert.ok(result.error, 'replay of a tampered history must fail');
  assert.match(result.error.name + result.error.message, /Determinism|nondetermin/i);
});
