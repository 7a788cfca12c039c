// GPU-pinned pools with two fake "GPUs" (SPARKY_GPUS=0,1 on a machine without CUDA: two CPU-backed
// inference servers with different ids): a step that names a pinned queue runs there, on that GPU's
// server; `gpu` steps run on either. First through the fixture workflow, then as a real plan through
// the metaOrchestrator, where the run's status shows each step's queue and server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StepResult } from '../../common/activity-types.ts';
import { GPU_POOL_TASK_QUEUE, pinnedGpuTaskQueue } from '../../common/task-queues.ts';
import { discoverGpus, hostName, parseGpuConfig, parseNvidiaSmi } from '../../host/gpus.ts';
import { startCpuWorker } from '../../workers/cpu.ts';
import { startGpuPool, type GpuPool } from '../../workers/gpu.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { createWorker, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { fixtureWorkflows, inferenceInput } from './helpers.ts';

const host = `fake${randomUUID().slice(0, 6)}`;
const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-pool-'));
let env: TestWorkflowEnvironment;
let pool: GpuPool;
let workflowWorker: Worker;
let workflowRunning: Promise<void>;
const workflowQueue = uniqueTaskQueue('pool-wf');

before(async () => {
  env = await startDevServer();
  pool = await startGpuPool({
    connection: env.nativeConnection, namespace: env.namespace ?? 'default', host, logDir,
    gpus: await discoverGpus({ SPARKY_GPUS: '0,1' }),
  });
  workflowWorker = await createWorker(env, { taskQueue: workflowQueue, workflowsPath: fixtureWorkflows });
  workflowRunning = workflowWorker.run();
});

after(async () => {
  workflowWorker?.shutdown();
  await workflowRunning;
  await pool?.stop();
  await env?.teardown();
});

test('GPU discovery: nvidia-smi CSV, SPARKY_GPUS lists, host names', () => {
  assert.deepEqual(parseNvidiaSmi('0, GPU-aaa, NVIDIA H100 80GB HBM3, 81559\n1, GPU-bbb, NVIDIA H100 80GB HBM3, 81559 MiB\n'), [
    { index: 0, uuid: 'GPU-aaa', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 },
    { index: 1, uuid: 'GPU-bbb', name: 'NVIDIA H100 80GB HBM3', memoryMiB: 81559 },
  ]);
  assert.deepEqual(parseGpuConfig('none'), []);
  assert.deepEqual(parseGpuConfig('[{"index": 3, "name": "A"}]').map((g) => [g.index, g.name]), [[3, 'A']]);
  assert.throws(() => parseGpuConfig('x'), /SPARKY_GPUS/);
  assert.equal(hostName({ SPARKY_HOST: 'My Box_1' }), 'my-box_1');
});

test('two fake GPUs: two servers with their own ids, each pinned queue served', () => {
  assert.equal(pool.members.length, 2);
  assert.deepEqual(pool.members.map((m) => m.taskQueue), [pinnedGpuTaskQueue(host, 0), pinnedGpuTaskQueue(host, 1)]);
  assert.deepEqual(pool.members.map((m) => m.server.serverId), [`${host}-gpu0`, `${host}-gpu1`]);
  assert.notEqual(pool.members[0].server.endpoint, pool.members[1].server.endpoint);
  assert.match(pool.describe(), new RegExp(`${host}-gpu1`));
});

async function runOn(taskQueue: string, id: string): Promise<StepResult> {
  const input = inferenceInput({ id, op: 'gemm', params: { size: 64, iterations: 3 } });
  return env.client.workflow.execute('inferenceStepFixture', {
    taskQueue: workflowQueue, workflowId: `${input.ctx.runWorkflowId}-wf`, args: [{ input, options: { taskQueue } }],
  });
}

test('a step on a pinned queue runs on that GPU\'s worker and server', { timeout: 60_000 }, async () => {
  for (const index of [1, 0, 1]) {
    const queue = pinnedGpuTaskQueue(host, index);
    const result = await runOn(queue, `pinned-${index}`);
    assert.equal(result.taskQueue, queue);
    assert.equal(result.pinnedTaskQueue, queue);
    assert.equal(result.details?.serverId, `${host}-gpu${index}`);
  }
  const anyGpu = await runOn(GPU_POOL_TASK_QUEUE, 'pool');
  assert.equal(anyGpu.taskQueue, GPU_POOL_TASK_QUEUE);
  assert.ok([`${host}-gpu0`, `${host}-gpu1`].includes(String(anyGpu.details?.serverId)));
  assert.equal(anyGpu.details?.serverId, String(anyGpu.pinnedTaskQueue).endsWith('-0') ? `${host}-gpu0` : `${host}-gpu1`);
});

test('a plan spread over two pinned GPUs: each step runs on the queue it names, visible in the status', { timeout: 120_000 }, async () => {
  const cpuQueue = uniqueTaskQueue('pool-cpu');
  const cpu = await startCpuWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: cpuQueue, logDir });
  const cpuRunning = cpu.run();
  try {
    const gemm = (pool?: string) => ({ id: 'gemm', kind: 'inference', op: 'gemm', params: { size: 64, iterations: 2 }, ...(pool ? { pool } : {}) });
    const plan = {
      name: 'two-gpus',
      pools: { left: { host, gpu: 0 }, right: { host, gpu: 1 } },
      phases: [{ id: 'render', domains: [{ id: 'model', workstreams: [
        { id: 'on-left', steps: [gemm('left')] },
        { id: 'on-right', steps: [gemm('right')] },
        { id: 'literal', steps: [gemm(`gpu:${host}:1`)] },
        { id: 'anywhere', steps: [gemm('gpu')] },
      ] }] }],
    };
    const workflowId = `sparky-two-gpus-${randomUUID().slice(0, 8)}`;
    const handle = await env.client.workflow.start('metaOrchestrator', { taskQueue: cpuQueue, workflowId, args: [{ plan, options: { cpuTaskQueue: cpuQueue } }] });
    await handle.result();
    const status = await handle.query<RunStatus>('status');
    assert.equal(status.state, 'completed');
    const steps = Object.fromEntries(status.phases[0].domains[0].workstreams.map((w) => [w.id, w.steps[0]]));
    assert.equal(steps['on-left'].taskQueue, pinnedGpuTaskQueue(host, 0));
    assert.equal(steps['on-left'].outputs?.serverId, `${host}-gpu0`);
    assert.equal(steps['on-right'].taskQueue, pinnedGpuTaskQueue(host, 1));
    assert.equal(steps['on-right'].outputs?.serverId, `${host}-gpu1`);
    assert.equal(steps.literal.taskQueue, pinnedGpuTaskQueue(host, 1));
    assert.equal(steps.literal.outputs?.serverId, `${host}-gpu1`);
    assert.equal(steps.anywhere.taskQueue, GPU_POOL_TASK_QUEUE);
    assert.match(String(steps.anywhere.outputs?.serverId), new RegExp(`^${host}-gpu[01]$`));
  } finally {
    cpu.shutdown();
    await cpuRunning;
  }
});
