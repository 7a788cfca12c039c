// One step as one activity: the task queue from its pool, the plan's timeouts and retry policy, the
// outputs of earlier steps substituted into it, and the context activities need (log paths, keys).
import { ActivityCancellationType, ActivityFailure, ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { FailedAttemptDetail, SparkyActivities, StepActivityInput, StepContext, StepResult } from '../common/activity-types.ts';
import type { RetryPolicy, StepBody } from '../plan/schema.ts';
import { findOutputRefs, substituteOutputs } from '../plan/outputs.ts';
import { durationMs } from './durations.ts';
import type { RunContext } from './run-context.ts';
import { DEFAULT_HEARTBEAT_TIMEOUT, DEFAULT_STEP_TIMEOUT } from './run-context.ts';

export const DEFAULT_RETRY: RetryPolicy = { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' };

export function retryOptions(retry: RetryPolicy | undefined): NonNullable<ActivityOptions['retry']> {
  const r = { ...DEFAULT_RETRY, ...retry };
  return {
    maximumAttempts: r.maximumAttempts,
    initialInterval: durationMs(r.initialInterval),
    backoffCoefficient: r.backoffCoefficient,
    maximumInterval: durationMs(r.maximumInterval),
    nonRetryableErrorTypes: r.nonRetryableErrorTypes,
  };
}

export function activityOptions(step: StepBody, run: RunContext, taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: durationMs(step.timeout ?? run.defaults.timeout ?? DEFAULT_STEP_TIMEOUT),
    heartbeatTimeout: durationMs(step.heartbeatTimeout ?? run.defaults.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT),
    retry: retryOptions(step.retry ?? run.defaults.retry),
    // A cancelled run waits until its running steps have really stopped before compensating them.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: `${step.kind} ${step.id}`,
  };
}

export function stepContext(run: RunContext, domainId: string, workstreamId: string, step: StepBody,
  extra: Partial<StepContext> = {}): StepContext {
  const env = { ...run.env, ...step.env };
  return {
    runWorkflowId: run.runWorkflowId, planName: run.planName, phaseId: run.phaseId, domainId, workstreamId,
    stepId: step.id, idempotencyKey: `${run.runWorkflowId}/${workstreamId}/${step.id}${extra.compensation ? '/compensate' : ''}`,
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...extra,
  };
}

/**
 * The step with output references filled in; an unknown reference fails the step, not the worker.
 * `skipped` (`<workstream>.<step>` → who skipped it and why) turns "no outputs" into the real reason.
 */
export function substituteStep(step: StepBody, outputs: Record<string, Record<string, unknown>>,
  skipped: Record<string, string> = {}): StepBody {
  try {
    return substituteOutputs(step, outputs);
  } catch (err) {
    const missing = findOutputRefs(step).map((r) => `${r.workstream}.${r.step}`).filter((key) => skipped[key] !== undefined);
    const why = missing.length ? ` (it needs the outputs of ${missing.map((k) => `${k}, which was ${skipped[k]}`).join('; ')})` : '';
    throw ApplicationFailure.nonRetryable(`step ${step.id}: ${(err as Error).message}${why}`, 'SparkyOutputReference');
  }
}

export async function runStepActivity(input: StepActivityInput, options: ActivityOptions): Promise<StepResult> {
  const { runStep } = proxyActivities<SparkyActivities>(options);
  return runStep(input);
}

/**
 * Attempts a failed step took: the attempt the worker stamped on the failure (workers/worker-options.ts),
 * else the retry policy's limit when that was what stopped it.
 */
export function failedAttempts(err: unknown, options: ActivityOptions): number | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const stamped = err.cause instanceof ApplicationFailure
    ? (err.cause.details ?? []).find((d): d is FailedAttemptDetail => typeof (d as FailedAttemptDetail | null)?.sparkyAttempt === 'number')
    : undefined;
  if (stamped) return stamped.sparkyAttempt;
  if (err.cause instanceof ApplicationFailure && err.cause.nonRetryable) return undefined;
  if (String(err.retryState) === 'MAXIMUM_ATTEMPTS_REACHED') return options.retry?.maximumAttempts;
  return undefined;
}
