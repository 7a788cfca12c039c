// The inference step runner inside a real Temporal worker, against a real inference server: files in
// and out, progress → heartbeats, workflow cancellation → `cancel` on the server, error mapping.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, defaultPayloadConverter } from '@temporalio/common';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities/index.ts';
import { InferenceClient } from '../../activities/inference-client.ts';
import type { StepActivityInput, StepResult } from '../../common/activity-types.ts';
import { startInferenceServer, type InferenceServerHandle } from '../../host/inference-server.ts';
import { createWorker, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import type { InferenceFixtureOptions } from '../fixtures/workflows/inference-steps.ts';
import { fixtureWorkflows, inferenceInput, PLUGIN_ARGS, writeSprites } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

let env: TestWorkflowEnvironment;
let server: InferenceServerHandle;
let worker: Worker;
let running: Promise<void>;
let probe: InferenceClient;
const taskQueue = uniqueTaskQueue('inference');
const work = mkdtempSync(path.join(os.tmpdir(), 'sparky-inference-'));
const logDir = path.join(work, 'logs');

before(async () => {
  [env, server] = await Promise.all([startDevServer(), startInferenceServer({ serverId: 'activity-test', extraArgs: PLUGIN_ARGS })]);
  worker = await createWorker(env, {
    taskQueue, workflowsPath: fixtureWorkflows,
    activities: createActivities({
      logDir, workdir: work, pinned: { host: 'test', index: 0, taskQueue },
      inference: { endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, serverId: server.serverId, heartbeatEveryMs: 200 },
    }),
  });
  running = worker.run();
  probe = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint });
});

after(async () => {
  probe?.close();
  worker?.shutdown();
  await running;
  await server?.stop();
  await env?.teardown();
});

function start(input: StepActivityInput, options: InferenceFixtureOptions = {}) {
  return env.client.workflow.start('inferenceStepFixture', { taskQueue, workflowId: `${input.ctx.runWorkflowId}-wf`, args: [{ input, options }] });
}

test('pixelize: glob inputs in, PNG files and palette out, details name the server', { timeout: 60_000 }, async () => {
  writeSprites(path.join(work, 'sprites'), 3);
  const input = inferenceInput({ id: 'pixelize', op: 'pixelize', params: { width: 16, colors: 4 }, inputs: { images: 'sprites/*.png' } });
  const result: StepResult = await (await start(input)).result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.taskQueue, taskQueue);
  assert.equal(result.pinnedTaskQueue, taskQueue);
  assert.equal(result.details?.serverId, 'activity-test');
  assert.match(String(result.details?.device), /^cpu/);
  const images = result.outputs?.images as string[];
  assert.equal(images.length, 3);
  for (const file of images) {
    assert.ok(file.startsWith(path.join(logDir, input.ctx.runWorkflowId)), file);
    assert.deepEqual([...readFileSync(file).subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  }
  const palette = result.outputs?.palette as number[][];
  assert.ok(palette.length >= 1 && palette.length <= 4);
  assert.match(readFileSync(result.logPath!, 'utf8'), /done on activity-test/);
});

test('progress becomes heartbeats; cancelling the workflow cancels the job on the server', { timeout: 60_000 }, async () => {
  const input = inferenceInput({ id: 'long-gemm', op: 'gemm', params: { size: 384, iterations: 100000 } });
  const handle = await start(input, { heartbeatTimeout: '2s' });
  const details = await eventually('a heartbeat with progress', async () => {
    const pending = (await handle.describe()).raw.pendingActivities?.[0];
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    return payload ? defaultPayloadConverter.fromPayload<{ stage?: string; done?: number; jobId?: string }>(payload as never) : undefined;
  }, (d) => d?.stage === 'running' && (d.done ?? 0) > 0);
  assert.equal(details?.jobId, `sparky/${input.ctx.idempotencyKey}`);
  await handle.cancel();
  await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure);
  const status = await eventually('the server to stop the job', () => probe.status(), (s) => s.in_flight === 0);
  assert.ok(((status.jobs as Record<string, number>).CANCELLED ?? 0) >= 1, JSON.stringify(status.jobs));
  assert.equal(await probe.cancel(`sparky/${input.ctx.idempotencyKey}`), 'finished');
});

test('an unknown op fails at once, not retried', async () => {
  const input = inferenceInput({ id: 'unknown', op: 'no-such-op' });
  const handle = await start(input, { maximumAttempts: 3 });
  await assert.rejects(handle.result(), (err: unknown) => {
    const cause = (err as WorkflowFailedError).cause?.cause;
    return cause instanceof ApplicationFailure && cause.type === 'InferenceUnknownOp' && cause.nonRetryable === true;
  });
  const log = readFileSync(path.join(logDir, input.ctx.runWorkflowId, 'ws', 'unknown.log'), 'utf8');
  assert.equal(log.match(/--- attempt/g)?.length, 1);
});

test('an input that matches no file fails with its name', async () => {
  const input = inferenceInput({ id: 'missing', op: 'pixelize', inputs: { images: 'nowhere/*.png' } });
  await assert.rejects((await start(input, { maximumAttempts: 3 })).result(), (err: unknown) => {
    const cause = (err as WorkflowFailedError).cause?.cause;
    return cause instanceof ApplicationFailure && cause.type === 'InferenceInputMissing' && /inputs\.images/.test(cause.message);
  });
  assert.ok(!existsSync(path.join(logDir, input.ctx.runWorkflowId, 'ws', 'missing.out')));
});
