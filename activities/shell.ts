// Shell steps: a program and its arguments, run without a shell unless the plan says `shell: true`
// (then `/bin/sh -c <run[0]> sparky-step <run[1..]>`, and the result says so). Exit codes map to
// retryable failures, except those the plan lists in `nonRetryableExitCodes`.
import { ApplicationFailure } from '@temporalio/common';
import path from 'node:path';
import type { StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { ShellStep } from '../plan/schema.ts';
import { attemptInfo } from './context.ts';
import { durationMs, formatMs } from '../plan/durations.ts';
import { shortTail, stepAttempt, stepAttemptHeader, StepLog, stepLogPath } from './logs.ts';
import { readOutputs } from './outputs.ts';
import { endEarlierAttempts } from './process-tree.ts';
import { DEFAULT_KILL_GRACE_MS, runProcess, type ProcessOutcome } from './run-process.ts';
import type { RunnerDeps } from './runner-deps.ts';
import { resolveSecrets } from './secrets.ts';
import { stepEnv, stepLabel } from './step-env.ts';
import { count } from '../common/plural.ts';

/** The step's deadline: its own `timeout`, or the activity's startToClose, whichever is sooner. */
export function stepDeadlineMs(timeout: string | undefined, activityDeadlineMs: number | undefined): number | undefined {
  const own = timeout ? durationMs(timeout) : undefined;
  if (own === undefined) return activityDeadlineMs;
  return activityDeadlineMs === undefined ? own : Math.min(own, activityDeadlineMs);
}

/** A failure for a process that did not exit 0, carrying the exit code and the end of its output. */
export function processFailure(label: string, outcome: ProcessOutcome, logPath: string, nonRetryableCodes: number[] = []): ApplicationFailure {
  const tail = `\n--- last output (full log: ${logPath}) ---\n${shortTail(outcome.tail)}`;
  const details = [{ exitCode: outcome.exitCode ?? null, signal: outcome.signal ?? null, logPath }];
  if (outcome.timedOut) {
    return ApplicationFailure.create({ message: `${label} timed out after ${formatMs(outcome.timeoutMs ?? outcome.elapsedMs)} (its process tree was ended)${tail}`, type: 'StepTimeout', details });
  }
  if (outcome.spawnError) {
    return ApplicationFailure.create({ message: `${label} could not start: ${outcome.spawnError}${tail}`, type: 'StepSpawnFailed', details });
  }
  if (outcome.exitCode === undefined) {
    return ApplicationFailure.create({ message: `${label} was killed by ${outcome.signal ?? 'a signal'}${tail}`, type: 'StepKilled', details });
  }
  const nonRetryable = nonRetryableCodes.includes(outcome.exitCode);
  return ApplicationFailure.create({
    message: `${label} exited with code ${outcome.exitCode}${nonRetryable ? ' (listed in nonRetryableExitCodes: not retried)' : ''}${tail}`,
    type: nonRetryable ? 'StepExitNonRetryable' : 'StepExitCode',
    nonRetryable,
    details,
  });
}

/** What a process-backed step runs: argv, where, and how its result is read. */
export interface ArgvSpec {
  file: string;
  args: string[];
  cwd: string;
  outputs?: ShellStep['outputs'];
  nonRetryableExitCodes?: number[];
  viaShell?: boolean;
  /** Facts the result's details carry (e.g. the justfile a `just` step used). */
  details?: Record<string, unknown>;
}

/**
 * Runs one argv as a step: per-step log, earlier attempts' leftovers ended, secrets resolved and
 * redacted, the step's deadline, outputs read. Shell and `just` steps both run through it.
 */
export async function runArgvStep(deps: RunnerDeps, input: StepActivityInput, spec: ArgvSpec): Promise<StepResult> {
  const { step, ctx } = input;
  const { attempt, taskQueue, deadlineMs } = attemptInfo();
  const label = stepLabel(input);
  const secrets = resolveSecrets(step.secrets, process.env, label);
  const logPath = stepLogPath(deps.logDir, ctx);
  const log = new StepLog(logPath);
  let outcome: ProcessOutcome;
  let endedEarlier = 0;
  try {
    log.write(stepAttemptHeader(ctx, attempt, ctx.compensation ? '(compensation)' : undefined));
    // Same machine, same step, earlier attempt whose worker died: its processes still run. End them
    // first, so two attempts never work on the same files at once.
    const leftovers = await endEarlierAttempts(ctx.idempotencyKey, deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    if (leftovers > 0) log.write(`[ended ${count(leftovers, 'process')} left running by an earlier attempt of this step]\n`);
    endedEarlier = leftovers;
    outcome = await runProcess({
      file: spec.file, args: spec.args, cwd: spec.cwd, log,
      env: stepEnv(input, stepAttempt(ctx, attempt), secrets.env),
      redact: secrets.redact,
      timeoutMs: stepDeadlineMs(step.timeout, deadlineMs),
      killGraceMs: deps.killGraceMs,
      tailBytes: deps.tailBytes,
    });
  } finally {
    log.close();
  }
  if (outcome.exitCode !== 0) throw processFailure(label, outcome, logPath, spec.nonRetryableExitCodes);
  const outputs = await readOutputs(spec.outputs, spec.cwd, outcome.lastStdoutLine, secrets.redact);
  return {
    status: 'succeeded',
    outputs,
    logPath,
    tail: outcome.tail,
    exitCode: 0,
    durationMs: outcome.elapsedMs,
    taskQueue,
    pinnedTaskQueue: deps.pinnedTaskQueue,
    viaShell: spec.viaShell ? true : undefined,
    details: { ...spec.details, lines: outcome.lines, bytes: outcome.bytes, attempt, ...(outcome.leftovers > 0 ? { leftoverProcessesEnded: outcome.leftovers } : {}),
      ...(endedEarlier > 0 ? { earlierAttemptProcessesEnded: endedEarlier } : {}) },
  };
}

export function createShellRunner(deps: RunnerDeps) {
  return async function runShell(input: StepActivityInput & { step: ShellStep }): Promise<StepResult> {
    const { step } = input;
    const cwd = path.resolve(deps.workdir ?? process.cwd(), step.cwd ?? '.');
    const [file, args] = step.shell
      ? ['/bin/sh', ['-c', step.run[0], 'sparky-step', ...step.run.slice(1)]]
      : [step.run[0], step.run.slice(1)];
    return runArgvStep(deps, input, { file, args, cwd, outputs: step.outputs, nonRetryableExitCodes: step.nonRetryableExitCodes, viaShell: step.shell === true });
  };
}
