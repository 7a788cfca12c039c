// domainOrchestrator: one child workflow per domain per phase. Runs the domain's workstreams in
// dependency order, at most `maxParallel` at once, each workstream's steps in order as activities.
// Dependencies on workstreams of other domains in the same phase are satisfied by the parent's
// `dependencyFinished` signal (see docs/orchestration.md). Every transition is reported to the parent.
// Big domains continue-as-new after `continueAsNewAfter` workstreams, carrying what is done.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, continueAsNew, isCancellation, setHandler,
} from '@temporalio/workflow';
import type { Domain, Step } from '../plan/schema.ts';
import {
  dependencyFinishedSignal, domainStatusQuery, haltDomainSignal, pauseSignal, resumeSignal,
} from './messages.ts';
import { gpuOfPinnedQueue, resolvePool, type QueueTarget } from './pools.ts';
import { Reporter } from './reporter.ts';
import type { RunContext } from './run-context.ts';
import { now, summariseOutputs, type StepStatus } from './status.ts';
import {
  activityOptions, errorMessage, failedAttempts, runStepActivity, stepContext, substituteStep,
} from './steps.ts';

export interface DomainCarry {
  /** Workstreams that finished (succeeded) in earlier runs of this child. */
  done: string[];
  externalDone: string[];
  /** stickyGpu: workstream → the pinned queue its first GPU step landed on. */
  pinned: Record<string, string>;
  runs: number;
}

export interface DomainInput {
  run: RunContext;
  domain: Domain;
  /** Workstreams of other domains in this phase that this domain's workstreams depend on. */
  externalDeps: string[];
  /** Outputs this domain's steps may reference, keyed `<workstream>.<step>`. */
  outputs: Record<string, Record<string, unknown>>;
  maxParallel: number;
  continueAsNewAfter: number;
  paused?: boolean;
  carry?: DomainCarry;
}

export interface DomainResult {
  domainId: string;
  state: 'succeeded' | 'halted';
  haltReason?: string;
  runs: number;
  succeeded: number;
}

export async function domainOrchestrator(input: DomainInput): Promise<DomainResult> {
  const { run, domain } = input;
  const carry: DomainCarry = input.carry ?? { done: [], externalDone: [], pinned: {}, runs: 0 };
  const runs = carry.runs + 1;
  const reporter = new Reporter(run.parentWorkflowId, run.phaseId, domain.id);
  const done = new Set(carry.done);
  const externalPending = new Set(input.externalDeps.filter((d) => !carry.externalDone.includes(d)));
  const outputs = { ...input.outputs };
  const pinned = { ...carry.pinned };
  const local = new Set(domain.workstreams.map((ws) => ws.id));
  const running = new Map<string, Promise<void>>();
  let paused = input.paused ?? false;
  let halt: string | undefined;
  let failure: { workstreamId: string; stepId: string; message: string } | undefined;
  let changes = 0; // bumped by every event; the main loop waits for it to move
  const changed = () => { changes += 1; };

  setHandler(pauseSignal, () => { paused = true; changed(); });
  setHandler(resumeSignal, () => { paused = false; changed(); });
  setHandler(haltDomainSignal, (msg) => { halt ??= msg?.reason ?? 'halted by the run'; changed(); });
  setHandler(dependencyFinishedSignal, (msg) => {
    for (const ws of msg?.workstreams ?? []) {
      externalPending.delete(ws.id);
      Object.assign(outputs, ws.outputs);
    }
    changed();
  });
  setHandler(domainStatusQuery, () => ({
    domainId: domain.id, runs, paused, halt, failure, done: done.size, total: domain.workstreams.length,
    running: [...running.keys()], waitingForOtherDomains: [...externalPending],
  }));

  reporter.push({ type: 'domain', runs });

  const stopped = () => halt !== undefined || failure !== undefined;
  const ready = (deps: string[] | undefined) =>
    (deps ?? []).every((d) => (local.has(d) ? done.has(d) : !externalPending.has(d)));

  async function runWorkstream(wsIndex: number): Promise<void> {
    const ws = domain.workstreams[wsIndex];
    reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'running', at: now() });
    for (const step of ws.steps) {
      await condition(() => !paused || stopped());
      if (stopped()) {
        reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'halted', at: now(), error: halt ?? 'domain failed' });
        return;
      }
      const status: StepStatus = { id: step.id, kind: step.kind, state: 'running', startedAt: now() };
      try {
        const target = stepTarget(step, ws.stickyGpu ? pinned[ws.id] : undefined);
        status.taskQueue = target.taskQueue;
        reporter.push({ type: 'step', workstreamId: ws.id, step: { ...status } });
        const options = activityOptions(step, run, target.taskQueue);
        try {
          const { compensate, ...body } = step;
          const result = await runStepActivity({
            step: substituteStep(body, outputs),
            ctx: stepContext(run, domain.id, ws.id, body, target.gpu ? { gpu: target.gpu } : {}),
          }, options);
          if (ws.stickyGpu && target.gpuPool && result.pinnedTaskQueue) pinned[ws.id] ??= result.pinnedTaskQueue;
          if (result.outputs) outputs[`${ws.id}.${step.id}`] = result.outputs;
          Object.assign(status, {
            state: result.status, finishedAt: now(), skippedReason: result.skippedReason, taskQueue: result.taskQueue ?? target.taskQueue,
            attempts: result.attempt ?? 1, outputs: summariseOutputs(result.outputs), viaShell: result.viaShell,
            logPath: result.logPath, durationMs: result.durationMs,
          });
          reporter.push({
            type: 'step', workstreamId: ws.id, step: { ...status }, outputs: result.outputs,
            saga: compensate && result.status === 'succeeded' ? {
              of: `${ws.id}.${step.id}`, phaseId: run.phaseId, domainId: domain.id, workstreamId: ws.id, stepId: step.id,
              compensate, taskQueue: status.taskQueue ?? target.taskQueue, finishedAt: status.finishedAt ?? now(),
            } : undefined,
          });
        } catch (err) {
          if (isCancellation(err)) throw err;
          Object.assign(status, { attempts: failedAttempts(err, options) });
          throw err;
        }
      } catch (err) {
        const cancelled = isCancellation(err);
        Object.assign(status, { state: cancelled ? 'cancelled' : 'failed', finishedAt: now(), lastError: errorMessage(err) });
        reporter.push({ type: 'step', workstreamId: ws.id, step: { ...status } });
        reporter.push({ type: 'workstream', workstreamId: ws.id, state: cancelled ? 'cancelled' : 'failed', at: now(), error: status.lastError });
        if (cancelled) throw err;
        failure ??= { workstreamId: ws.id, stepId: step.id, message: status.lastError ?? 'failed' };
        return;
      }
    }
    done.add(ws.id);
    reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'succeeded', at: now() });
  }

  function stepTarget(step: Step, pinnedQueue: string | undefined): QueueTarget {
    let target: QueueTarget;
    try {
      target = resolvePool(step.pool ?? run.defaults.pool, run, run.cpuTaskQueue);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, 'SparkyUnknownPool');
    }
    // stickyGpu: after the first GPU step, later `gpu` steps go to the GPU it ran on.
    if (target.gpuPool && pinnedQueue) return { taskQueue: pinnedQueue, gpu: gpuOfPinnedQueue(pinnedQueue) };
    return target;
  }

  let started = 0;
  try {
    for (;;) {
      if (stopped() && running.size === 0) break;
      if (done.size === domain.workstreams.length) break;
      if (!stopped() && !paused) {
        for (let i = 0; i < domain.workstreams.length; i += 1) {
          if (running.size >= input.maxParallel || started >= input.continueAsNewAfter) break;
          const ws = domain.workstreams[i];
          if (done.has(ws.id) || running.has(ws.id) || !ready(ws.dependsOn)) continue;
          started += 1;
          const promise = runWorkstream(i).finally(() => { running.delete(ws.id); changed(); });
          promise.catch(() => undefined); // a cancelled workstream is handled by the cancellation path below
          running.set(ws.id, promise);
        }
      }
      if (!stopped() && started >= input.continueAsNewAfter && running.size === 0) {
        // History stays small: hand what is done to a fresh run of this child.
        await reporter.flush();
        await condition(allHandlersFinished);
        return await continueAsNew<typeof domainOrchestrator>({
          ...input, outputs, paused,
          carry: { done: [...done], externalDone: input.externalDeps.filter((d) => !externalPending.has(d)), pinned, runs },
        });
      }
      const seen = changes;
      await condition(() => changes !== seen);
    }
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled run: running steps are cancelled with it; report what they did before going.
      await CancellationScope.nonCancellable(async () => {
        await Promise.allSettled(running.values());
        await reporter.flush();
      });
    }
    throw err;
  }
  await reporter.flush();
  if (failure) {
    throw ApplicationFailure.nonRetryable(
      `domain ${domain.id}: workstream ${failure.workstreamId} step ${failure.stepId} failed: ${failure.message}`,
      'SparkyDomainFailed', failure);
  }
  return { domainId: domain.id, state: halt ? 'halted' : 'succeeded', haltReason: halt, runs, succeeded: done.size };
}
