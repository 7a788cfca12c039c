// The contract between workflow code and the activities that do a plan's work. Workflows call
// activities by these names through proxyActivities; workers register factories that implement them
// (activities/index.ts). Everything here is plain JSON, because it crosses into workflow history:
// never put a secret value in these types, only references (see StepBody.secrets).
import type { GateCheck, ModelPrice, NotifyEvent, StepBody, Webhook } from '../plan/schema.ts';
import type { ScopeBudget } from './agent-spend.ts';
import type { CacheOutcome, CacheRequest, InspectInput, InspectResult } from './cache-types.ts';

/** Who is running a step, for log paths, idempotency keys and container/compose names. */
export interface StepContext {
  /** The metaOrchestrator's workflow id (`sparky-<plan>-<run>`): the run's identity. */
  runWorkflowId: string;
  planName: string;
  phaseId: string;
  domainId: string;
  workstreamId: string;
  stepId: string;
  /** Stable across retries of this step in this run: `<runWorkflowId>/<workstream>/<step>[/compensate]`. */
  idempotencyKey: string;
  /** True when this execution undoes an earlier step (saga compensation). */
  compensation?: boolean;
  /** Plan-level `env`, already merged with the step's own `env` by the workflow. */
  env?: Record<string, string>;
  /** The pinned GPU when the step runs on a pinned queue (docker run --gpus device=<n>). */
  gpu?: { host: string; index: number };
  /**
   * Attempts the step took before a person's `retry` started this execution: attempt numbers (the log's
   * headers, SPARKY_ATTEMPT) continue from here instead of starting at 1 again.
   */
  attemptsBefore?: number;
  /** The person's retry that started this execution: the log marks it before the attempt it starts. */
  retriedBy?: StepRetry;
  /**
   * Agent steps of a workstream a gate's rejection sent back: the reviewer's words ("rework requested
   * by bob: …"), which the agent's next attempt is told (activities/agent.ts). Set for agent steps only.
   */
  rework?: { reason: string; since: string };
  /** Agent steps only: what the workflow supervises them with (docs/agents.md). Absent for other kinds. */
  agent?: AgentSupervision;
}

/** What an agent step gets from the workflow besides its own fields. */
export interface AgentSupervision {
  /** The workstream's, phase's and run's budgets it runs under, with what each spent elsewhere. */
  budgets?: ScopeBudget[];
  /** Codex: the plan's price for the step's model (USD per million tokens). */
  price?: ModelPrice;
  /** A person's answer to the question the session stopped at (`sparky answer`): told on resume. */
  answer?: AgentAnswer;
}

/** An answer to an agent's question: who, what, when (workflow time), and the question it answers. */
export interface AgentAnswer { by: string; answer: string; question: string; at: string }

/**
 * What an agent step's failure carries (ApplicationFailure details[0]): its session's spend, and why it
 * stopped where a person must act — `stalled` (with the last event), `budget` (which one, the figures),
 * `question` (the question) — which the workflow turns into the workstream's attention cause.
 */
export interface AgentFailureDetails {
  sessionId?: string;
  turns: number;
  tokens: number;
  costUsd?: number;
  cause: 'verify' | 'max-turns' | 'budget' | 'denied' | 'stalled' | 'failed' | 'question';
  lastEvent?: { event: string; at?: string };
  budget?: { scope: string; limit: { usd?: number; tokens?: number; turns?: number }; spent: { usd: number; tokens: number; turns: number } };
  question?: string;
}

/** A person's `retry` of a step in attention: who, when (workflow time), and why. */
export interface StepRetry {
  by: string;
  at: string;
  comment?: string;
  /** The retry ran a workstream a gate's rejection reopened (rework), not a failed step. */
  rework?: boolean;
}

/** Marks a runStep failure with the attempt that failed (workers/worker-options.ts), as a failure detail. */
export interface FailedAttemptDetail { sparkyAttempt: number }

export interface StepActivityInput {
  /** The step with `${{ outputs.… }}` references already substituted by the workflow. */
  step: StepBody;
  ctx: StepContext;
  /** A cached step (plan/cache-key.ts): the worker takes a hit or runs and stores (activities/cache.ts). */
  cache?: CacheRequest;
}

export interface StepResult {
  /** `cached`: an earlier run's result with the same key was taken; the step did not run. */
  status: 'succeeded' | 'skipped' | 'cached';
  /** Why a step was skipped (its `when` was false), in words a person reads. */
  skippedReason?: string;
  /** Values later steps and gate checks may use: `${{ outputs.<workstream>.<step>.<key> }}`. */
  outputs?: Record<string, unknown>;
  /** The per-step log file on the worker's machine (shown by `sparky logs`). */
  logPath?: string;
  /** The last bytes of stdout/stderr (bounded, for the status and error messages). */
  tail?: string;
  exitCode?: number;
  durationMs: number;
  /** Which attempt produced this result (1 = first try); set by the worker (workers/worker-options.ts). */
  attempt?: number;
  /** The task queue the step really ran on, and the pinned queue of that worker's GPU, if any. */
  taskQueue: string;
  pinnedTaskQueue?: string;
  /** Kind-specific facts (container id, image id, compose project, inference device…). */
  details?: Record<string, unknown>;
  /** Shell steps run through /bin/sh when the plan asks: made visible in the status. */
  viaShell?: boolean;
  /** What the cache did (cached steps only). */
  cache?: CacheOutcome;
}

export interface GateCheckInput {
  check: GateCheck;
  ctx: Omit<StepContext, 'stepId' | 'idempotencyKey' | 'workstreamId' | 'domainId'> & { gateId: string };
  /** Outputs of every finished step so far, keyed `<workstream>.<step>` (for `metric` checks). */
  outputs: Record<string, Record<string, unknown>>;
}

export interface GateCheckResult {
  id: string;
  kind: GateCheck['kind'];
  passed: boolean;
  /** The value that was measured (exit code, field value, metric, HTTP status), if any. */
  measured?: unknown;
  message: string;
  durationMs: number;
}

/** What a notification tells: plain facts from the workflow; the activity words them. */
export interface NotifyEventData {
  event: NotifyEvent;
  /** Workflow time of the event; the statement in a `waiting` message uses it as its time. */
  at: string;
  runWorkflowId: string;
  plan: string;
  /** For the statement to sign (common/gate-statement.ts). */
  planDigest?: string;
  /** The run's state and what it waits for, in words (status.waitingFor). */
  state?: string;
  waitingFor?: string;
  gate?: {
    id: string; state?: string; approvers: string[]; required: number; approvals: string[];
    escalated?: boolean; deadline?: string; checksDigest?: string;
    /** The gate's round (runs of release 0.2): the statement to sign names it. */
    round?: number;
    /** Approvers whose decisions must be signed. */
    signedApprovers?: string[];
  };
  decision?: { approver: string; decision: string; comment?: string; fingerprint?: string };
  error?: string;
  /**
   * An agent's question (event `attention` when it is asked, `escalated` when nobody answered in time):
   * which step, the question, whom it is for (empty: anyone), its deadline, and who it escalated to.
   */
  question?: { step: string; text: string; to: string[]; deadline?: string; escalatedTo?: string[] };
}

export interface NotifyInput {
  /** The webhooks as the plan gives them: URLs from the environment are resolved by the activity. */
  webhooks: Webhook[];
  event: NotifyEventData;
}

/** Never a failure: a dead webhook is reported here (and in the status), it does not fail the run. */
export interface NotifyResult {
  sent: number;
  /** Each webhook that could not be told, named without its secret (`$HOOK_URL` or the URL's origin). */
  failed: { webhook: string; error: string; attempts: number }[];
}

/** Activity names and signatures, as the workflows see them. */
export interface SparkyActivities {
  runStep(input: StepActivityInput): Promise<StepResult>;
  runGateCheck(input: GateCheckInput): Promise<GateCheckResult>;
  notify(input: NotifyInput): Promise<NotifyResult>;
  /**
   * The host task queue of the worker that runs it (`<cpu queue>-host-<host>`), or none: a workstream
   * without a worktree whose steps keep state on their host (agent sessions) is placed with it.
   */
  claimHost(input: Record<string, never>): Promise<{ hostTaskQueue?: string }>;
  /** A dry run: what the step would do (skipped by `when`, a cache hit, or run), changing nothing. */
  inspectStep(input: InspectInput): Promise<InspectResult>;
}
