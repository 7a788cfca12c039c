// Shared setup for the runner tests: a real dev server, a real worker running the fixture workflows
// with the real activities, and step inputs with a fresh run id each.
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateCheckInput, GateCheckResult, StepActivityInput, StepContext, StepResult } from '../../common/activity-types.ts';
import type { GateCheck, StepBody } from '../../plan/schema.ts';
import { createActivities, type ActivityDeps } from '../../activities/index.ts';
import type { FixtureOptions } from '../fixtures/workflows/runner-steps.ts';
import { createWorker, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { waitFor } from '../helpers/wait.ts';

export const fixtureWorkflows = fileURLToPath(new URL('../fixtures/workflows/runner-steps.ts', import.meta.url));

export interface RunnerHarness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  logDir: string;
  worker: Worker;
  /** Runs one step through the fixture workflow; returns the handle's id too for history checks. */
  runStep(step: StepBody, options?: FixtureOptions, ctx?: Partial<StepContext>): Promise<StepResult>;
  startStep(step: StepBody, options?: FixtureOptions, ctx?: Partial<StepContext>): Promise<{ workflowId: string; input: StepActivityInput }>;
  runCheck(check: GateCheck, outputs?: GateCheckInput['outputs']): Promise<GateCheckResult>;
  stop(): Promise<void>;
}

export function stepInput(step: StepBody, ctx: Partial<StepContext> = {}): StepActivityInput {
  const runWorkflowId = ctx.runWorkflowId ?? `sparky-test-${randomUUID().slice(0, 8)}`;
  const workstreamId = ctx.workstreamId ?? 'ws';
  return {
    step,
    ctx: {
      runWorkflowId, planName: 'test', phaseId: 'phase', domainId: 'domain', workstreamId, stepId: step.id,
      idempotencyKey: `${runWorkflowId}/${workstreamId}/${step.id}`, ...ctx,
    },
  };
}

export async function startRunnerHarness(deps: Partial<ActivityDeps> = {}, options: { activities?: boolean } = {}): Promise<RunnerHarness> {
  const env = await startDevServer();
  const taskQueue = uniqueTaskQueue('runners');
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-logs-'));
  const worker = await createWorker(env, {
    taskQueue,
    workflowsPath: fixtureWorkflows,
    activities: options.activities === false ? undefined : createActivities({ logDir, killGraceMs: 1_000, ...deps }),
  });
  const running = worker.run();
  const startStep = async (step: StepBody, fixture: FixtureOptions = {}, ctx: Partial<StepContext> = {}) => {
    const input = stepInput(step, ctx);
    const workflowId = `${input.ctx.runWorkflowId}-${step.id}-${randomUUID().slice(0, 4)}`;
    await env.client.workflow.start('runStepFixture', { taskQueue, workflowId, args: [{ input, options: fixture }] });
    return { workflowId, input };
  };
  return {
    env, taskQueue, logDir, worker, startStep,
    async runStep(step, fixture, ctx) {
      const { workflowId } = await startStep(step, fixture, ctx);
      return env.client.workflow.getHandle(workflowId).result();
    },
    runCheck(check, outputs = {}) {
      const input: GateCheckInput = { check, outputs, ctx: { runWorkflowId: `sparky-test-${randomUUID().slice(0, 8)}`, planName: 'test', phaseId: 'phase', gateId: 'gate' } };
      return env.client.workflow.execute('gateCheckFixture', { taskQueue, workflowId: `check-${check.id}-${randomUUID().slice(0, 8)}`, args: [{ input }] });
    },
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** Pids from `<dir>/*.pid` files that are still alive (zombies count as dead). */
export function alivePids(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  });
}

/** A worker in its own process (test/fixtures/step-worker.ts) on `taskQueue`, once it is polling. */
export async function spawnStepWorker(h: RunnerHarness, taskQueue: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('../fixtures/step-worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, h.env.address, h.env.namespace ?? 'default', taskQueue, h.logDir],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += String(d); });
  await waitFor('the worker process to start', () => {
    if (child.exitCode !== null) throw new Error(`the worker process exited with ${child.exitCode}: ${output}`);
    return output.includes('worker ready');
  }, 60_000);
  return child;
}

/** The ApplicationFailure behind a failed fixture workflow (workflow → activity → application). */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(() => assert.fail('the step should have failed'), (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${error}`);
  let cause: unknown = error.cause;
  while (cause && !(cause instanceof ApplicationFailure)) cause = (cause as Error).cause;
  assert.ok(cause instanceof ApplicationFailure, `no ApplicationFailure in ${error.cause}`);
  return cause;
}
