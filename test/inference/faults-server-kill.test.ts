// Fault injection: the inference server is SIGKILLed in the middle of a job and started again on the
// same endpoints. The activity's attempt loses its server, fails retryably, Temporal retries it, the
// retry (same job id) reaches the new server process, and the step completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities/index.ts';
import { InferenceClient } from '../../activities/inference-client.ts';
import type { StepResult } from '../../common/activity-types.ts';
import { startInferenceServer, type InferenceServerHandle } from '../../host/inference-server.ts';
import { createWorker, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { fixtureWorkflows, inferenceInput } from './helpers.ts';
import { eventually, sleep } from '../helpers/wait.ts';

let env: TestWorkflowEnvironment;
let server: InferenceServerHandle;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('inference-kill');
const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-inference-kill-'));

before(async () => {
  [env, server] = await Promise.all([startDevServer(), startInferenceServer({ serverId: 'killable' })]);
  worker = await createWorker(env, {
    taskQueue, workflowsPath: fixtureWorkflows,
    activities: createActivities({
      logDir,
      // No client-side retries: the activity attempt itself fails and Temporal retries it.
      inference: { endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 1_500, retries: 0 },
    }),
  });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running;
  await server?.stop();
  await env?.teardown();
});

test('SIGKILL of the inference server mid-job: the activity retries and the step completes', { timeout: 120_000 }, async () => {
  const probe = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 1_000 });
  try {
    const firstPid = (await probe.ping()).pid;
    const input = inferenceInput({ id: 'gemm', op: 'gemm', params: { size: 256, iterations: 1500 } });
    const handle = await env.client.workflow.start('inferenceStepFixture', {
      taskQueue, workflowId: `${input.ctx.runWorkflowId}-wf`, args: [{ input, options: { maximumAttempts: 10, startToCloseTimeout: '60s' } }],
    });
    await eventually('the job to run on the server', () => probe.status(), (s) => s.in_flight === 1);
    await server.kill('SIGKILL');
    await sleep(500);
    await server.restart();
    const result: StepResult = await handle.result();
    assert.equal(result.status, 'succeeded');
    assert.ok((result.outputs?.tflops as number) > 0);
    const secondPid = (await probe.waitReady(10_000)).pid;
    assert.notEqual(secondPid, firstPid, 'a new server process answered');
    const log = readFileSync(result.logPath!, 'utf8');
    assert.ok((log.match(/--- attempt/g)?.length ?? 0) >= 2, log);
    assert.match(log, /UNREACHABLE/);
    // The new server ran the job exactly once.
    assert.equal(((await probe.status()).jobs as Record<string, number>).ok, 1);
  } finally {
    probe.close();
  }
});
