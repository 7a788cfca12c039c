// Durability: the CPU worker process (`tsx workers/cpu.ts`, a real separate process) is killed with
// SIGKILL in the middle of a step; a new worker process takes over and the run completes. The step's
// heartbeat timeout lets the server notice the dead worker and retry the step on the new one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { domainWorkflowId } from '../../common/ids.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { lines, serverAddress, status, tempDir, workstreamOf } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

let env: TestWorkflowEnvironment;
const workers: ResultPromise[] = [];

before(async () => { env = await startDevServer(); });
after(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  await Promise.allSettled(workers);
  await env?.teardown();
});

function spawnWorker(taskQueue: string, logDir: string): ResultPromise {
  const child = execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'cpu.ts')], {
    cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore',
    env: { TEMPORAL_ADDRESS: serverAddress(env), SPARKY_TASK_QUEUE: taskQueue, SPARKY_LOG_DIR: logDir },
  });
  workers.push(child);
  return child;
}

test('SIGKILL of the worker process mid-step: a restarted worker completes the run', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'work.log');
  const taskQueue = uniqueTaskQueue('crash');
  const plan = { name: 'crash', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
    { id: 'W1', steps: [
      { id: 'long', kind: 'shell', heartbeatTimeout: '3s', retry: { maximumAttempts: 5, initialInterval: '200ms' },
        run: ['sh', '-c', `echo start >> ${log}; sleep 3; echo end >> ${log}`] },
      { id: 'after', kind: 'shell', run: ['sh', '-c', `echo after >> ${log}`] },
    ] },
  ] }] }] };
  const first = spawnWorker(taskQueue, path.join(dir, 'logs'));
  const handle = await env.client.workflow.start('metaOrchestrator', {
    taskQueue, workflowId: 'sparky-crash-1', args: [{ plan, options: { cpuTaskQueue: taskQueue } }],
  });
  await eventually('the step started', () => lines(log), (l) => l.includes('start'), 90_000);
  first.kill('SIGKILL');
  const killed = await first;
  assert.equal(killed.signal, 'SIGKILL', String(killed.all));
  // With its worker dead nothing can answer a status query, so read the histories: the step was
  // scheduled and has not completed, and the run is still running.
  const domain = await env.client.workflow.getHandle(domainWorkflowId(handle.workflowId, 'p1', 'd1')).fetchHistory();
  assert.ok(domain.events!.some((e) => e.activityTaskScheduledEventAttributes), 'the step was never scheduled');
  assert.ok(!domain.events!.some((e) => e.activityTaskCompletedEventAttributes), 'the step completed although its worker was killed mid-step');
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  spawnWorker(taskQueue, path.join(dir, 'logs'));
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  const l = await lines(log);
  // The step ran again on the new worker (its first try's process may or may not have outlived the worker).
  assert.ok(l.filter((x) => x === 'start').length >= 2, l.join(','));
  assert.equal(l[l.length - 1], 'after');
  const s = await status(env, handle.workflowId);
  assert.ok((workstreamOf(s, 'W1').steps[0].attempts ?? 0) >= 2, 'the status shows the retry');
});

test('SIGTERM shuts the worker process down gracefully (exit 0)', async () => {
  const dir = await tempDir();
  const child = spawnWorker(uniqueTaskQueue('term'), path.join(dir, 'logs'));
  let out = '';
  child.all?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  await eventually('the worker serving', async () => out, (o) => o.includes('sparky cpu worker:'), 90_000);
  child.kill('SIGTERM');
  const result = await child;
  assert.equal(result.exitCode, 0, out);
  assert.match(out, /sparky cpu worker: stopped/);
});
