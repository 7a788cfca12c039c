// Steps go to the task queue their pool names, on real workers: `cpu` → the CPU queue, `gpu` → the
// GPU pool queue `sparky-gpu`, a plan `pools` name or `gpu:<host>:<n>` → that GPU's pinned queue, and
// `stickyGpu` keeps a workstream's later `gpu` steps on the GPU its first one landed on. The "GPU"
// workers here run the real activities (shell steps) with a pinned GPU configured; no GPU is needed
// to prove where the steps went.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startDevServer } from '../helpers/temporal.ts';
import { startCpuWorker } from '../../workers/cpu.ts';
import { GPU_POOL_TASK_QUEUE, pinnedGpuTaskQueue } from '../../common/task-queues.ts';
import { cpuWorker, status, tempDir, workstreamOf } from './helpers.ts';

let env: TestWorkflowEnvironment;
const workers: Worker[] = [];
const runs: Promise<void>[] = [];
let taskQueue: string;

before(async () => {
  env = await startDevServer();
  const cpu = await cpuWorker(env);
  taskQueue = cpu.taskQueue;
  workers.push(cpu.worker);
  // One "GPU" machine `box` with GPU 1: it serves the pool queue and its pinned queue, like workers/gpu.ts.
  const pinned = { host: 'box', index: 1, taskQueue: pinnedGpuTaskQueue('box', 1) };
  for (const queue of [GPU_POOL_TASK_QUEUE, pinned.taskQueue]) {
    workers.push(await startCpuWorker({
      connection: env.nativeConnection, taskQueue: queue, logDir: await tempDir('sparky-gpu-logs-'), activityDeps: { pinned },
      workerOptions: { maxConcurrentWorkflowTaskExecutions: 2 },
    }));
  }
  runs.push(...workers.map((w) => w.run()));
});
after(async () => {
  for (const w of workers) w.shutdown();
  await Promise.allSettled(runs);
  await env?.teardown();
});

test('pools map to task queues; stickyGpu follows the first GPU step', async () => {
  const step = (id: string, pool?: string) => ({ id, kind: 'shell', run: ['true'], ...(pool ? { pool } : {}) });
  const plan = {
    name: 'routing',
    pools: { 'big-gpu': { host: 'box', gpu: 1 } },
    phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
      { id: 'plain', steps: [step('cpu'), step('named', 'big-gpu'), step('literal', 'gpu:box:1'), step('pool', 'gpu')] },
      { id: 'sticky', stickyGpu: true, steps: [step('first', 'gpu'), step('second', 'gpu'), step('cpu-between', 'cpu'), step('third', 'gpu')] },
    ] }] }],
  };
  const handle = await env.client.workflow.start('metaOrchestrator', {
    taskQueue, workflowId: 'sparky-routing-1', args: [{ plan, options: { cpuTaskQueue: taskQueue } }],
  });
  assert.equal((await handle.result()).state, 'completed');
  const s = await status(env, handle.workflowId);
  const queues = (ws: string) => workstreamOf(s, ws).steps.map((x) => x.taskQueue);
  assert.deepEqual(queues('plain'), [taskQueue, 'sparky-gpu-box-1', 'sparky-gpu-box-1', 'sparky-gpu']);
  assert.deepEqual(queues('sticky'), ['sparky-gpu', 'sparky-gpu-box-1', taskQueue, 'sparky-gpu-box-1']);
});
