// Upgrades while runs wait (Worker Versioning, ADR 0005), on the real dev server: a run waits at a gate on
// build A; workers of a build B whose workflow code is incompatible start beside A's and B becomes
// current; the gate is approved and the run completes on A without a nondeterminism error; a new run
// lands on B.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { startCpuWorker } from '../../workers/cpu.ts';
import { buildOf, makeCurrent } from '../../workers/deployment.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { workflowBuildId, workflowBundle } from '../../workers/workflow-bundle.ts';
import { startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { append, gateOf, lines, status, tempDir } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

const env = await startDevServer();
const taskQueue = uniqueTaskQueue('versioned');
const name = `sparky-test-${randomUUID().slice(0, 8)}`;
const running: { worker: Worker; done: Promise<void> }[] = [];
after(async () => {
  for (const r of running) r.worker.shutdown();
  await Promise.allSettled(running.map((r) => r.done));
  await env.teardown();
});

async function serve(buildId: string, workflowsPath?: string) {
  const worker = await startCpuWorker({
    connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, logDir: await tempDir('sparky-logs-'),
    deployment: { name, buildId }, ...(workflowsPath ? { workerOptions: { workflowBundle: await workflowBundle(workflowsPath) } } : {}),
  });
  running.push({ worker, done: worker.run() });
}

test('a run pinned to build A completes on A after incompatible build B becomes current; a new run lands on B', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const buildA = workflowBuildId();
  const fixture = path.join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'build-b.ts');
  const buildB = workflowBuildId(fixture);
  assert.notEqual(buildA, buildB, 'a change of workflow code is a new build');

  await serve(buildA);
  await makeCurrent(env.client, { name, buildId: buildA });
  const plan = (id: string, gate: boolean) => ({ name: id, phases: [
    { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [append('w', log, `${id}-1`)] }] }],
      ...(gate ? { gate: { id: 'g1', approval: { approvers: ['alice'] } } } : {}) },
    { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [append('w', log, `${id}-2`)] }] }] },
  ] });
  const start = (id: string, gate: boolean) => env.client.workflow.start('metaOrchestrator',
    { taskQueue, workflowId: id, args: [{ plan: plan(id, gate), options: { cpuTaskQueue: taskQueue } }] });

  const onA = await start('sparky-versioned-a', true);
  await eventually('gate waiting on A', () => status(env, onA.workflowId), (s) => gateOf(s, 'g1').state === 'waiting');
  assert.equal(buildOf((await onA.describe()).raw), buildA);

  await serve(buildB, fixture);
  await makeCurrent(env.client, { name, buildId: buildB });
  await onA.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });
  assert.equal((await onA.result()).state, 'completed');
  assert.equal(buildOf((await onA.describe()).raw), buildA, 'the run stayed on its build');
  const history = await onA.fetchHistory();
  const failedTasks = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes);
  assert.equal(failedTasks.length, 0, 'no workflow task failed (no nondeterminism)');

  const onB = await start('sparky-versioned-b', false);
  assert.equal((await onB.result()).state, 'completed');
  const described = await onB.describe();
  assert.equal(buildOf(described.raw), buildB, 'a new run starts on the current build');
  assert.equal(described.memo?.sparkyBuild, 'B', "B's code ran it");
  assert.deepEqual((await lines(log)).sort(), ['sparky-versioned-a-1', 'sparky-versioned-a-2', 'sparky-versioned-b-1', 'sparky-versioned-b-2']);
});
