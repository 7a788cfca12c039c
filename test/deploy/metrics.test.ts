// The worker processes as deployed (docker-compose runs `tsx workers/cpu.ts` and `tsx workers/gpu.ts`):
// each serves Temporal SDK metrics for Prometheus, and the GPU worker can use an inference server it
// does not start (one container per GPU), running a real inference step through it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Plan } from '../../plan/schema.ts';
import { startInferenceServer, type InferenceServerHandle } from '../../host/inference-server.ts';
import { freePort } from '../../host/ports.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { startDevServer } from '../helpers/temporal.ts';
import { sleep } from '../helpers/wait.ts';

let env: TestWorkflowEnvironment;
let inference: InferenceServerHandle;
const children: ResultPromise[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-metrics-'));

function spawnWorker(file: string, extraEnv: Record<string, string>): ResultPromise {
  const child = execa(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), [file], {
    cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore',
    env: { TEMPORAL_ADDRESS: env.address, SPARKY_DATA_DIR: dir, SPARKY_LOG_DIR: path.join(dir, 'logs'), ...extraEnv },
  });
  children.push(child);
  return child;
}

async function metricsText(port: number, child: ResultPromise, timeoutMs = 60_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      const text = await res.text();
      if (res.ok && text.includes('temporal_')) return text;
    } catch { /* not up yet */ }
    if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}): ${(await child).all}`);
    if (Date.now() > end) throw new Error(`no Temporal metrics on :${port}`);
    await sleep(300);
  }
}

before(async () => {
  env = await startDevServer();
  inference = await startInferenceServer({ serverId: 'external-gpu0', logFile: path.join(dir, 'inference.log') });
});

after(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.allSettled(children);
  await inference?.stop();
  await env?.teardown();
});

test('the CPU and GPU worker processes serve Temporal SDK metrics; the GPU worker runs a step on an external inference server', async () => {
  const cpuPort = await freePort(); const gpuPort = await freePort();
  const cpu = spawnWorker('workers/cpu.ts', { SPARKY_METRICS_PORT: String(cpuPort) });
  const gpu = spawnWorker('workers/gpu.ts', {
    SPARKY_METRICS_PORT: String(gpuPort), SPARKY_GPUS: '0', SPARKY_HOST: 'metrics',
    SPARKY_INFERENCE_ENDPOINT: inference.endpoint, SPARKY_INFERENCE_PROGRESS_ENDPOINT: inference.progressEndpoint,
  });
  await metricsText(cpuPort, cpu);
  await metricsText(gpuPort, gpu);

  const plan: Plan = {
    name: 'metrics-demo',
    phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'ws', steps: [
      { id: 'uname', kind: 'shell', run: ['uname', '-s'] },
      { id: 'gemm', kind: 'inference', op: 'gemm', params: { size: 64, dtype: 'float32', iterations: 2 }, pool: 'gpu' },
    ] }] }] }],
  };
  const handle = await env.client.workflow.start('metaOrchestrator', { taskQueue: 'sparky', workflowId: `metrics-${Date.now()}`, args: [{ plan }] });
  await handle.result();
  const status = await handle.query<RunStatus>('status');
  const gemm = status.phases[0].domains[0].workstreams[0].steps[1];
  assert.equal(gemm.state, 'succeeded');
  assert.equal(gemm.taskQueue, 'sparky-gpu');

  // After real work, both endpoints count it.
  const cpuText = await metricsText(cpuPort, cpu);
  const gpuText = await metricsText(gpuPort, gpu);
  assert.match(cpuText, /temporal_workflow_completed\S*\{[^}]*workflow_type="metaOrchestrator"/);
  assert.match(cpuText, /worker="cpu"/);
  assert.match(gpuText, /temporal_activity_execution_latency\S*\{[^}]*activity_type="runStep"/);
  assert.match(gpuText, /worker="gpu"/);
});
