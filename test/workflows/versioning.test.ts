// Upgrades while runs wait (Worker Versioning, ADR 0005), on the real dev server:
// - a run waits at a gate on build A; workers of a build B whose workflow code is incompatible start
//   beside A's and B becomes current; the run completes on A without a nondeterminism error; a new run
//   lands on B;
// - `sparky dev`'s workers after an upgrade (workers/builds.ts): a run pinned to an older build and a
//   run from before versioning both complete, each on code it can replay;
// - workers/cpu.ts is versioned by default: started without SPARKY_DEPLOYMENT it registers build
//   workflowBuildId() of deployment `sparky` (`temporal worker deployment describe`) and makes it current
//   when the deployment has none (its pollers show in `temporal task-queue describe` only with
//   --legacy-mode); SPARKY_UNVERSIONED=1 is the only way to an unversioned worker.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { execa } from 'execa';
import { startCpuWorker } from '../../workers/cpu.ts';
import { serveBuilds } from '../../workers/builds.ts';
import { buildOf, makeCurrent } from '../../workers/deployment.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { workflowBuildId, workflowBundle } from '../../workers/workflow-bundle.ts';
import { startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { append, gateOf, lines, serverAddress, status, tempDir, temporal } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

const env = await startDevServer();
const namespace = env.namespace ?? 'default';
const running: { worker: Worker; done: Promise<void> }[] = [];
after(async () => {
  for (const r of running) if (r.worker.getState() === 'RUNNING') r.worker.shutdown();
  await Promise.allSettled(running.map((r) => r.done));
  await env.teardown();
});
const FIXTURE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'workflows', 'build-b.ts');

function run(worker: Worker): { worker: Worker; done: Promise<void> } {
  const r = { worker, done: worker.run() };
  running.push(r);
  return r;
}
async function stop(r: { worker: Worker; done: Promise<void> }): Promise<void> {
  r.worker.shutdown();
  await r.done;
}

const plan = (id: string, log: string, gate: boolean) => ({ name: id, phases: [
  { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [append('w', log, `${id}-1`)] }] }],
    ...(gate ? { gate: { id: 'g1', approval: { approvers: ['alice'] } } } : {}) },
  { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [append('w', log, `${id}-2`)] }] }] },
] });
const start = (taskQueue: string, id: string, log: string, gate: boolean) => env.client.workflow.start('metaOrchestrator',
  { taskQueue, workflowId: id, args: [{ plan: plan(id, log, gate), options: { cpuTaskQueue: taskQueue } }] });
const gateWaiting = (id: string) => eventually(`${id}: gate waiting`, () => status(env, id), (s) => gateOf(s, 'g1').state === 'waiting');
async function failedWorkflowTasks(id: string): Promise<number> {
  const history = await env.client.workflow.getHandle(id).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
}

test('a run pinned to build A completes on A after incompatible build B becomes current; a new run lands on B', async () => {
  const taskQueue = uniqueTaskQueue('versioned');
  const name = `sparky-test-${randomUUID().slice(0, 8)}`;
  const serve = async (buildId: string, codePath?: string) => run(await startCpuWorker({
    connection: env.nativeConnection, namespace, taskQueue, logDir: await tempDir('sparky-logs-'), deployment: { name, buildId, codePath },
  }));
  const log = path.join(await tempDir(), 'done.log');
  const buildA = await workflowBuildId();
  const b = await workflowBundle(FIXTURE);
  const buildB = b.buildId;
  assert.notEqual(buildA, buildB, 'a change of workflow code is a new build');

  await serve(buildA);
  await makeCurrent(env.client, { name, buildId: buildA });
  const onA = await start(taskQueue, 'sparky-versioned-a', log, true);
  await gateWaiting(onA.workflowId);
  assert.equal(buildOf((await onA.describe()).raw), buildA);

  await serve(buildB, b.codePath);
  await makeCurrent(env.client, { name, buildId: buildB });
  await onA.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });
  assert.equal((await onA.result()).state, 'completed');
  assert.equal(buildOf((await onA.describe()).raw), buildA, 'the run stayed on its build');
  assert.equal(await failedWorkflowTasks(onA.workflowId), 0, 'no workflow task failed (no nondeterminism)');

  const onB = await start(taskQueue, 'sparky-versioned-b', log, false);
  assert.equal((await onB.result()).state, 'completed');
  const described = await onB.describe();
  assert.equal(buildOf(described.raw), buildB, 'a new run starts on the current build');
  assert.equal(described.memo?.sparkyBuild, 'B', "B's code ran it");
  assert.deepEqual((await lines(log)).sort(), ['sparky-versioned-a-1', 'sparky-versioned-a-2', 'sparky-versioned-b-1', 'sparky-versioned-b-2']);
});

test("sparky dev's workers after an upgrade: a run of an older build drains on its cached bundle, a run from before versioning completes", async () => {
  const taskQueue = uniqueTaskQueue('drain');
  const name = `sparky-drain-${randomUUID().slice(0, 8)}`;
  const log = path.join(await tempDir(), 'done.log');
  const worker = { namespace, taskQueue, logDir: await tempDir('sparky-logs-') };
  // Before versioning: an unversioned worker, a run waiting at its gate; then that worker stops.
  const unversioned = run(await startCpuWorker({ connection: env.nativeConnection, ...worker }));
  const early = await start(taskQueue, 'sparky-drain-unversioned', log, true);
  await gateWaiting(early.workflowId);
  assert.equal(buildOf((await early.describe()).raw), undefined, 'a run from before versioning has no build');
  await stop(unversioned);
  // An older build (the fixture's code) is current; a run pinned to it waits; its worker stops.
  const older = await workflowBundle(FIXTURE);
  const olderWorker = run(await startCpuWorker({ connection: env.nativeConnection, ...worker, deployment: { name, ...older } }));
  await makeCurrent(env.client, { name, buildId: older.buildId });
  const pinned = await start(taskQueue, 'sparky-drain-pinned', log, true);
  await gateWaiting(pinned.workflowId);
  assert.equal(buildOf((await pinned.describe()).raw), older.buildId);
  await stop(olderWorker);

  // `sparky dev` starts on today's code: its build, a drain worker for the older build, one for the early run.
  const today = await workflowBundle();
  const builds = await serveBuilds({ connection: env.nativeConnection, client: env.client, current: { name, ...today }, worker });
  assert.equal(builds.workers.length, 3, builds.lines.join('\n'));
  assert.match(builds.lines.join('\n'), new RegExp(`draining +${older.buildId}: 1 open run`));
  assert.match(builds.lines.join('\n'), /unversioned +1 open run from before Worker Versioning/);
  for (const w of builds.workers) run(w);
  await makeCurrent(env.client, { name, buildId: today.buildId });

  for (const h of [early, pinned]) {
    await h.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });
    assert.equal((await h.result()).state, 'completed', h.workflowId);
    assert.equal(await failedWorkflowTasks(h.workflowId), 0, `${h.workflowId}: no workflow task failed`);
  }
  const pinnedAfter = await pinned.describe();
  assert.equal(buildOf(pinnedAfter.raw), older.buildId, 'the pinned run stayed on its build');
  assert.equal(pinnedAfter.memo?.sparkyBuild, 'B', "the older build's code (from the cache) ran it");
  const fresh = await start(taskQueue, 'sparky-drain-new', log, false);
  assert.equal((await fresh.result()).state, 'completed');
  assert.equal(buildOf((await fresh.describe()).raw), today.buildId, 'a new run starts on the new build');
});

/** workers/cpu.ts as deployed: a process of its own, with the environment given and no versioning variables otherwise. */
function cpuWorkerProcess(extra: Record<string, string>) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^SPARKY_(DEPLOYMENT|UNVERSIONED|BUILD_ID|MAKE_CURRENT)$/.test(k)));
  const child = execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'cpu.ts')], {
    cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', extendEnv: false, timeout: 120_000,
    env: { ...base, TEMPORAL_ADDRESS: serverAddress(env), TEMPORAL_NAMESPACE: namespace, ...extra },
  });
  let out = '';
  child.all!.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  return { child, output: () => out };
}

test('workers/cpu.ts is versioned by default: deployment sparky, the bundle\'s build, current when none was; SPARKY_UNVERSIONED=1 opts out', { timeout: 180_000 }, async () => {
  const log = path.join(await tempDir(), 'done.log');
  const buildId = await workflowBuildId();
  const taskQueue = uniqueTaskQueue('default-versioned');
  const w = cpuWorkerProcess({ SPARKY_TASK_QUEUE: taskQueue, SPARKY_LOG_DIR: await tempDir('sparky-logs-') });
  try {
    await eventually('the worker to make its build current', async () => w.output(), (o) => o.includes(`${buildId} is the current build of sparky`) || w.child.exitCode !== null, 90_000);
    assert.match(w.output(), new RegExp(`deployment sparky, build ${buildId}`));
    const described = await temporal(env, ['worker', 'deployment', 'describe', '--name', 'sparky', '--output', 'json']);
    assert.equal(described.exitCode, 0, described.all);
    const info = JSON.parse(described.stdout);
    assert.equal(info.routingConfig?.currentVersionBuildID, buildId, described.stdout);
    assert.ok((info.versionSummaries as { BuildID: string }[]).some((v) => v.BuildID === buildId), described.stdout);
    // docs/operations.md: `temporal task-queue describe` lists a versioned worker's pollers only with --legacy-mode.
    const identity = `${w.child.pid}@${os.hostname()}`;
    const legacy = await eventually('the poller in legacy mode', () => temporal(env, ['task-queue', 'describe', '--task-queue', taskQueue, '--legacy-mode']),
      (r) => r.exitCode === 0 && r.stdout.includes(identity));
    assert.match(legacy.stdout, new RegExp(`CurrentVersionBuildID +${buildId}`));
    const plain = await temporal(env, ['task-queue', 'describe', '--task-queue', taskQueue]);
    assert.equal(plain.exitCode, 0, plain.all);
    assert.ok(!plain.stdout.includes(identity), `without --legacy-mode the pollers are not listed:\n${plain.stdout}`);
    const h = await start(taskQueue, 'sparky-default-versioned', log, false);
    assert.equal((await h.result()).state, 'completed');
    assert.equal(buildOf((await h.describe()).raw), buildId, 'the run is pinned to the worker\'s build');
  } finally {
    w.child.kill('SIGTERM');
    await w.child;
  }
  assert.match(w.output(), /sparky cpu worker: stopped/);

  // Unversioned only when asked; asked twice over (unversioned and a deployment) is an error that says so.
  const plainQueue = uniqueTaskQueue('unversioned');
  const u = cpuWorkerProcess({ SPARKY_UNVERSIONED: '1', SPARKY_TASK_QUEUE: plainQueue, SPARKY_LOG_DIR: await tempDir('sparky-logs-') });
  try {
    await eventually('the unversioned worker', async () => u.output(), (o) => o.includes('task queue') || u.child.exitCode !== null, 90_000);
    assert.match(u.output(), /unversioned \(SPARKY_UNVERSIONED=1\)/);
    const h = await start(plainQueue, 'sparky-unversioned', log, false);
    assert.equal((await h.result()).state, 'completed');
    assert.equal(buildOf((await h.describe()).raw), undefined, 'an unversioned worker pins nothing');
  } finally {
    u.child.kill('SIGTERM');
    await u.child;
  }
  const bad = await cpuWorkerProcess({ SPARKY_UNVERSIONED: '1', SPARKY_DEPLOYMENT: 'sparky' }).child;
  assert.equal(bad.exitCode, 1, bad.all);
  assert.match(bad.all ?? '', /SPARKY_UNVERSIONED=1 asks for an unversioned worker, but SPARKY_DEPLOYMENT asks for a versioned one: unset one or the other/);
});
