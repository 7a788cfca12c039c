// The inference step runner: reads the step's input files, submits the job to this worker's inference
// server (activities/inference-client.ts), turns progress into heartbeats, passes activity
// cancellation on as `cancel`, writes binary results into the step's output folder and maps the
// protocol's error codes to retryable or not for Temporal.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { InferenceStep } from '../plan/schema.ts';
import { durationMs } from '../plan/durations.ts';
import { attemptInfo, currentActivity } from './context.ts';
import { InferenceClient, InferenceError, RETRYABLE_CODES, type CurveKeys, type ProgressEvent } from './inference-client.ts';
import { readInputs, writeBinaryResults } from './inference-files.ts';
import { safeSegment, stepAttemptHeader, StepLog, stepLogPath } from './logs.ts';
import type { RunnerDeps } from './runner-deps.ts';
import { count } from '../common/plural.ts';

/** How to reach this worker's inference server (the rest — logs, workdir, pinned queue — is RunnerDeps). */
export interface InferenceDeps {
  /** The inference server's request endpoint (ROUTER), e.g. tcp://127.0.0.1:5555. */
  endpoint: string;
  /** Its progress endpoint (PUB); default: the request port + 1. */
  progressEndpoint?: string;
  /** The server's id (reported in results even when a reply carries none). */
  serverId?: string;
  /** CURVE keys when the server requires them. */
  curve?: CurveKeys;
  /** Default per-attempt wait for a reply or progress (a step's `requestTimeout` overrides it). */
  requestTimeoutMs?: number;
  /** Client retries on TIMEOUT/BUSY within one activity attempt (same job id); Temporal retries the rest. */
  retries?: number;
  backoffInitialMs?: number;
  /** Share a client (tests, or several runners on one server); otherwise one is made and kept. */
  client?: InferenceClient;
  /** How often to heartbeat while waiting, so a cancel reaches the activity (default 1 s). */
  heartbeatEveryMs?: number;
}

/** The server's job id: the step's idempotency key (stable across retries), hashed when too long. */
export function jobIdFor(input: StepActivityInput): string {
  const key = `sparky/${input.ctx.idempotencyKey}`;
  return key.length <= 200 ? key : `sparky/${createHash('sha256').update(key).digest('hex')}`;
}

/** `runner.logDir` is also the root of default output folders; `runner.workdir` the base of relative inputs. */
export function createInferenceRunner(runner: RunnerDeps, deps: InferenceDeps): (input: StepActivityInput) => Promise<StepResult> {
  let client = deps.client;
  const getClient = () => (client ??= new InferenceClient({
    endpoint: deps.endpoint, progressEndpoint: deps.progressEndpoint, curve: deps.curve,
    requestTimeoutMs: deps.requestTimeoutMs, retries: deps.retries, backoffInitialMs: deps.backoffInitialMs,
  }));
  const logDir = runner.logDir;
  const workdir = runner.workdir ?? process.cwd();

  return async function runInference(input: StepActivityInput): Promise<StepResult> {
    const step = input.step as InferenceStep;
    if (step.kind !== 'inference') throw ApplicationFailure.nonRetryable(`step ${step.id} is not an inference step`, 'StepInvalid');
    let requestTimeoutMs: number | undefined;
    try {
      requestTimeoutMs = durationMs(step.requestTimeout);
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`step ${input.ctx.workstreamId}/${step.id}: requestTimeout: ${(err as Error).message}`, 'StepInvalid');
    }
    const started = Date.now();
    const activity = currentActivity();
    const { taskQueue, attempt, deadlineMs } = attemptInfo();
    const logPath = stepLogPath(logDir, input.ctx);
    const log = new StepLog(logPath);
    const note = (text: string) => log.write(`${new Date().toISOString()} ${text}\n`);
    log.write(stepAttemptHeader(input.ctx, attempt, input.ctx.compensation ? '(compensation)' : undefined));
    const jobId = jobIdFor(input);
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      const { inputs, files, bytes } = await readInputs(step.inputs, workdir);
      note(`inference ${step.op} job ${jobId} → ${deps.endpoint}; inputs: ${Object.entries(files).map(([k, v]) => `${k}=${count(v.length, 'file')}`).join(', ') || 'none'} (${bytes} bytes)`);
      let last: ProgressEvent | undefined;
      const beat = () => activity?.heartbeat({ jobId, stage: last?.stage, done: last?.done, total: last?.total, seq: last?.seq });
      heartbeat = setInterval(beat, deps.heartbeatEveryMs ?? 1_000);
      const reply = await getClient().submit({
        id: jobId, op: step.op, model: step.model, params: step.params, inputs,
        requestTimeoutMs,
        // The server stops the job when this attempt could no longer use its answer.
        jobTimeoutMs: deadlineMs,
        signal: activity?.cancellationSignal,
        // Progress feeds the heartbeat details and the step's log; a job answered within the client's
        // watchAfterMs needs neither, so it costs no subscription and no events.
        watch: 'late',
        onProgress: (event) => {
          const first = last === undefined || last.stage !== event.stage;
          last = event;
          beat();
          if (first || event.gap) note(`progress ${event.stage}${event.total ? ` ${event.done}/${event.total}` : ''}${event.gap ? ' (events missed)' : ''}`);
        },
      });
      const outputDir = step.outputDir
        ? path.resolve(workdir, step.outputDir)
        : path.join(logDir, safeSegment(input.ctx.runWorkflowId), safeSegment(input.ctx.workstreamId), `${safeSegment(input.ctx.stepId)}.out`);
      const device = String(reply.result.device ?? reply.meta.device ?? 'unknown');
      const serverId = String(reply.meta.server_id ?? deps.serverId ?? 'unknown');
      // Which server answered is an output too: later steps, gate checks and the run's status see it.
      const outputs = { ...await writeBinaryResults(reply.result, outputDir), device, serverId };
      note(`done on ${serverId} (${device}) after ${count(reply.attempts, 'attempt')}${reply.meta.dedup ? `, ${reply.meta.dedup} result` : ''}`);
      return {
        status: 'succeeded', outputs, logPath, durationMs: Date.now() - started, taskQueue, pinnedTaskQueue: runner.pinnedTaskQueue,
        details: {
          device, serverId, jobId, op: step.op, outputDir, attempts: reply.attempts,
          queuedMs: reply.meta.queued_ms, runMs: reply.meta.run_ms, batchSize: reply.meta.batch_size, dedup: reply.meta.dedup,
        },
      };
    } catch (err) {
      note(`failed: ${(err as Error).message}`);
      throw toFailure(err, jobId, activity?.cancellationSignal.aborted ?? false);
    } finally {
      clearInterval(heartbeat);
      log.close();
    }
  };
}

/** Protocol errors → Temporal failures: BUSY, TIMEOUT, INTERNAL and a lost server retry; the rest do not. */
export function toFailure(err: unknown, jobId: string, activityCancelled: boolean): Error {
  if (activityCancelled) return new CancelledFailure(`inference job ${jobId} cancelled with the activity`);
  if (!(err instanceof InferenceError)) return err as Error;
  const type = `Inference${err.code.split('_').map((w) => w[0] + w.slice(1).toLowerCase()).join('')}`; // InferenceBusy, InferenceUnknownOp…
  const message = `inference job ${jobId}: ${err.message}`;
  return RETRYABLE_CODES.has(err.code)
    ? ApplicationFailure.retryable(message, type, { code: err.code })
    : ApplicationFailure.nonRetryable(message, type, { code: err.code });
}
