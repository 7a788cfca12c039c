// The status model: what the `status` query answers and what the Web UI's current details summarise.
// The metaOrchestrator owns the one complete copy; domain children send it progress events
// (workflows/progress.ts) as their steps start and finish. Plain JSON, times in workflow time (ISO).
import type { GateCheckResult, StepRetry } from '../common/activity-types.ts';
import type { Phase, Plan } from '../plan/schema.ts';
import { approverNames } from '../common/approvers.ts';
import type { RunStarter } from '../common/signed-decision.ts';
import type { WorktreePlace } from '../common/git-flow.ts';
import type { BudgetLimits, Spend } from '../common/agent-spend.ts';
import type { CacheOutcome } from '../common/cache-types.ts';

export type RunState = 'running' | 'paused' | 'waiting' | 'attention' | 'compensating' | 'completed' | 'failed' | 'cancelled' | 'aborted';
/** `cached`: not run in this run; its result is an earlier run's with the same key (StepStatus.cache.hit says which). */
export type StepState = 'pending' | 'running' | 'succeeded' | 'cached' | 'failed' | 'skipped' | 'cancelled';
/** `skipped` (workstreams, domains, phases, gates): left out of a subset run (`--only`, `--from`), with why. */
export type WorkstreamState = 'pending' | 'running' | 'attention' | 'succeeded' | 'failed' | 'halted' | 'cancelled' | 'skipped';
export type DomainState = 'pending' | 'running' | 'succeeded' | 'failed' | 'halted' | 'cancelled' | 'skipped';
export type PhaseState = 'pending' | 'running' | 'gate' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
export type GateState = 'pending' | 'checking' | 'checks-failed' | 'waiting' | 'approved' | 'merge-conflict' | 'rejected' | 'failed' | 'skipped';

export interface StepStatus {
  id: string;
  kind: string;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  /**
   * Attempts the step took in all, counting across people's retries (the worker reports each execution's
   * attempt; the domain adds those before): a step that failed twice with 3 tries each shows 9 after a success on the first try.
   */
  attempts?: number;
  /** People's retries of this step, oldest first (who, when, comment): its log marks each one. */
  retries?: StepRetry[];
  lastError?: string;
  skippedReason?: string;
  taskQueue?: string;
  /** Output keys and short values, never whole blobs. */
  outputs?: Record<string, string>;
  viaShell?: boolean;
  logPath?: string;
  durationMs?: number;
  /** The plan revision the step ran under (0: the plan the run started with; revisePlan counts up). */
  revision?: number;
  /** Git flow: the commit holding what the step changed (its `commit`), or why there is none. */
  commit?: string;
  /** Agent steps: what the step's session spent so far (all attempts and reworks). */
  spend?: Spend;
  /**
   * A cached step: its key, and where a hit came from (run, step, when, host) — or why it ran (no entry,
   * what changed since the last one, an output gone, expired, rejected, --no-cache) and whether its
   * result was stored.
   */
  cache?: CacheOutcome;
}

/** Why a workstream waits for a person (docs/orchestration.md "Attention", docs/agents.md). */
export type AttentionCause = 'failed' | 'rework' | 'stalled' | 'budget' | 'question';

/** Why a workstream waits for a person, and for which step. */
export interface Attention {
  /** The step a retry runs again (or a skip skips). */
  step: string;
  /**
   * `failed`: the step failed for good; `rework`: a gate's rejection reopened the workstream; agent
   * steps: `stalled` (no event for stallAfter: its process tree was ended), `budget` (a budget was
   * reached: the figures in `budget`), `question` (the agent asked a person: `question`).
   */
  cause: AttentionCause;
  /** In words: the step's error (first lines) or "rework requested by bob: …". */
  reason: string;
  since: string;
  /** Git flow: where the failed step ran (worktree, branch, base commit); texts add how to bring a fix in. */
  git?: WorktreePlace;
  /** `stalled`: the agent's last event before it went quiet, and when. */
  lastEvent?: { event: string; at?: string };
  /** `budget`: which budget (`step`, `workstream WS`, `phase P`, `run`), its limits and what was spent. */
  budget?: { scope: string; limit: BudgetLimits; spent: Spend };
  /** `question`: what the agent asked, whom for (empty: anyone), and when it escalates or escalated. */
  question?: AttentionQuestion;
}

export interface WorkstreamStatus {
  id: string;
  name?: string;
  state: WorkstreamState;
  dependsOn: string[];
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  /** Set while the workstream waits for a person (state `attention`). */
  attention?: Attention;
  /** How many times a gate's rejection reopened this workstream. */
  reworks?: number;
  /** The host task queue its steps run on (chosen at its first step: where its worktree and agent sessions are). */
  host?: string;
  /** Why a subset run left it out (state `skipped`). */
  skippedReason?: string;
  steps: StepStatus[];
}

export interface DomainStatus {
  id: string;
  workflowId: string;
  state: DomainState;
  /** How many runs the child took (continue-as-new keeps big domains under the history limits). */
  runs: number;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  workstreams: WorkstreamStatus[];
}

export interface AuditEntry {
  at: string;
  surface: 'signal' | 'update' | 'timeout';
  approver: string;
  decision?: 'approve' | 'reject' | 'escalate' | 'recheck' | 'rework';
  comment?: string;
  reason?: string;
  /** The approval was automatic (onTimeout: approve). */
  automatic?: boolean;
  /** A signal that would have been refused: kept, with why, and not counted. */
  ignored?: boolean;
  ignoredReason?: string;
  /** Workstreams a rejection (or an operator's rework) sent back (the named ones; their same-phase dependents follow). */
  rework?: string[];
  /** The gate's round the decision was made in (release 0.2 and later). */
  round?: number;
  /** Votes cast before a rework reopened the phase: kept here, no longer counted. */
  void?: boolean;
  /** A signed decision: the statement time, the armored SSHSIG and the key's fingerprint (SHA256:…). */
  signedAt?: string;
  signature?: string;
  fingerprint?: string;
}

/** An operator's decision about the run (retry, skip, recheck, abort, revise), or one refused. */
export interface DecisionEntry {
  at: string;
  surface: 'signal' | 'update';
  action: 'retryStep' | 'skipStep' | 'recheckGate' | 'abort' | 'revisePlan' | 'rework' | 'answer';
  by: string;
  step?: string;
  gate?: string;
  comment?: string;
  /** The revision a revisePlan produced. */
  revision?: number;
  /** A rework's workstreams. */
  rework?: string[];
  ignored?: boolean;
  ignoredReason?: string;
}

/** One accepted plan revision: who, when, and what changed (in words). */
export interface RevisionEntry {
  revision: number;
  at: string;
  by: string;
  comment?: string;
  changes: string[];
  /** A revision of approvals, keys, git, notify or baseDir: who signed it, per gate whose quorum it needed. */
  signedBy?: { gate: string; approvers: { name: string; fingerprint: string }[] }[];
}

export interface GateStatus {
  id: string;
  phaseId: string;
  state: GateState;
  checks: GateCheckResult[];
  approvers: string[];
  required: number;
  /** Approvers whose approval counts now (distinct, from the current approver list). */
  approvals: string[];
  escalated: boolean;
  /**
   * Which round of votes the gate is in (runs of release 0.2 and later): 1 at its first wait, one more
   * at every fresh quorum (after a rework), escalation, or revision of its checks. Signed statements
   * name it, so a vote from an earlier round never counts again.
   */
  round?: number;
  /** When the current round began (a statement made earlier is stale). */
  waitingSince?: string;
  deadline?: string;
  decidedAt?: string;
  audit: AuditEntry[];
  /** sha256 of the check results: the `checks-digest` line of the statement approvers sign. */
  checksDigest?: string;
  /** Approvers (of the current list) whose decisions must be signed. */
  signedApprovers?: string[];
  preventSelfApproval?: boolean;
  /** Git flow: approved, but merging a branch into the base conflicts (state `merge-conflict`, attention). */
  mergeConflict?: { workstreamId: string; branch: string; base: string; files: string[] };
  /** A subset run: checks not run because they read the work of a workstream left out (or why the gate was not asked: state `skipped`). */
  skippedChecks?: { id: string; reason: string }[];
  skippedReason?: string;
}

/** Git flow of one phase: the base it started from, each workstream's branch, and the merge. */
export interface PhaseGitStatus {
  repo: string;
  base: string;
  /** The base's commit when the phase started: every branch of the phase starts there. */
  baseCommit: string;
  branches: GitBranchStatus[];
  /**
   * `merged`: the base holds the phase's work (`nothingFrom` lists branches that had no commits beyond
   * the base); `nothing-to-merge`: no branch had a commit beyond the base, so the base did not move.
   */
  merge?: {
    state: 'merged' | 'nothing-to-merge' | 'conflict' | 'skipped'; head?: string; commits?: Record<string, string>; push?: string; reason?: string;
    nothingFrom?: string[];
  };
}

/** One workstream's branch in the git flow. */
export interface GitBranchStatus {
  workstreamId: string;
  branch: string;
  push?: string;
  pr?: string;
  /** Rework put the branch (and worktree) back to the phase's base: what it held before, for the audit. */
  resets?: { at: string; from: string; reason?: string; discarded?: string[] }[];
}

export interface PhaseStatus {
  id: string;
  name?: string;
  state: PhaseState;
  startedAt?: string;
  finishedAt?: string;
  domains: DomainStatus[];
  gate?: GateStatus;
  git?: PhaseGitStatus;
}

export interface CompensationStatus {
  /** `<workstream>.<step>` of the step this undoes. */
  of: string;
  stepId: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
  /** Why it was skipped without running (a step taken from the cache did not run in this run). */
  reason?: string;
  taskQueue: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export interface RunStatus {
  runWorkflowId: string;
  plan: string;
  state: RunState;
  paused: boolean;
  currentPhase?: string;
  /** What the run waits for, in words (also the Web UI's current details). */
  waitingFor: string;
  startedAt: string;
  finishedAt?: string;
  error?: string;
  onFailure: 'ask' | 'compensate' | 'halt';
  onAbort: 'compensate' | 'halt';
  /** sha256 of the canonical JSON of the plan in force: the `plan-digest` line of a signed decision's statement. */
  planDigest?: string;
  /** Who started the run (options.startedBy), with the key fingerprint when the start was signed. */
  startedBy?: RunStarter;
  /** Webhook notifications: how many were delivered, failed, and the last failure (a dead webhook shows here). */
  notifications?: { sent: number; failed: number; lastError?: string };
  /** Who aborted the run and why (state `aborted`). */
  aborted?: { by: string; reason: string; at: string };
  /** The plan revision in force (0 until a revisePlan is accepted). */
  revision: number;
  revisions: RevisionEntry[];
  /** Operator decisions about steps, gates and the run: the audit of fix-and-continue. */
  decisions: DecisionEntry[];
  phases: PhaseStatus[];
  /** The plan's agent budgets (run, per phase, per workstream), when it has any: shown against the spend. */
  budgets?: PlanBudgets;
  compensations: CompensationStatus[];
  counts: { phases: number; domains: number; workstreams: number; steps: number; finishedWorkstreams: number };
  /** A plan read from a repository when the run started (planRef; a schedule's committed plan). */
  planSource?: { repo: string; path: string; ref: string; commit: string };
  /** A subset run (`--only`, `--from`): what was asked and what it brought in. */
  subset?: string;
  /** `--no-cache`: every workstream (true) or these ran their cached steps whatever the cache held. */
  noCache?: true | string[];
}

export interface PlanBudgets { run?: BudgetLimits; phases?: Record<string, BudgetLimits>; workstreams?: Record<string, BudgetLimits> }

/** The plan's budgets in one place (undefined when it has none). */
export function planBudgets(plan: Plan): PlanBudgets | undefined {
  const phases = Object.fromEntries(plan.phases.filter((p) => p.budget).map((p) => [p.id, p.budget as BudgetLimits]));
  const workstreams = Object.fromEntries(plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.filter((w) => w.budget).map((w) => [w.id, w.budget as BudgetLimits]))));
  if (!plan.budget && Object.keys(phases).length === 0 && Object.keys(workstreams).length === 0) return undefined;
  return { ...(plan.budget ? { run: plan.budget } : {}), ...(Object.keys(phases).length ? { phases } : {}), ...(Object.keys(workstreams).length ? { workstreams } : {}) };
}

export function now(): string {
  return new Date().toISOString(); // workflow time: deterministic inside the workflow sandbox
}

export function initialStatus(plan: Plan, runWorkflowId: string, domainId: (phaseId: string, domainId: string) => string): RunStatus {
  const phases = plan.phases.map((phase) => phaseStatus(phase, domainId));
  const status: RunStatus = {
    runWorkflowId, plan: plan.name, state: 'running', paused: false, waitingFor: 'starting', startedAt: now(),
    onFailure: plan.onFailure ?? 'ask', onAbort: plan.onAbort ?? 'compensate', revision: 0, revisions: [], decisions: [],
    phases, compensations: [], counts: { phases: 0, domains: 0, workstreams: 0, steps: 0, finishedWorkstreams: 0 },
  };
  const budgets = planBudgets(plan);
  if (budgets) status.budgets = budgets;
  recount(status);
  return status;
}

/** A phase as it stands before it starts (also what a revision builds for a phase not yet run). */
export function phaseStatus(phase: Phase, domainId: (phaseId: string, domainId: string) => string): PhaseStatus {
  return {
    id: phase.id, name: phase.name, state: 'pending',
    domains: phase.domains.map((d) => ({
      id: d.id, workflowId: domainId(phase.id, d.id), state: 'pending', runs: 0,
      workstreams: d.workstreams.map((ws) => ({
        id: ws.id, name: ws.name, state: 'pending' as const, dependsOn: ws.dependsOn ?? [],
        steps: ws.steps.map((s) => ({ id: s.id, kind: s.kind, state: 'pending' as const })),
      })),
    })),
    gate: phase.gate ? {
      id: phase.gate.id, phaseId: phase.id, state: 'pending', checks: [], escalated: false, audit: [], approvals: [],
      approvers: approverNames(phase.gate.approval?.approvers), required: phase.gate.approval?.required ?? 1,
      ...(phase.gate.preventSelfApproval ? { preventSelfApproval: true } : {}),
    } : undefined,
  };
}

/** Counts of phases, domains, workstreams and steps (after the start or a revision). */
export function recount(status: RunStatus): void {
  const workstreams = status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams));
  status.counts = {
    phases: status.phases.length, domains: status.phases.reduce((n, p) => n + p.domains.length, 0), workstreams: workstreams.length,
    steps: workstreams.reduce((n, w) => n + w.steps.length, 0), finishedWorkstreams: workstreams.filter((w) => w.state === 'succeeded').length,
  };
}

/** Short printable values for the status: outputs can be large, the status must stay small. */
export function summariseOutputs(outputs: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!outputs) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(outputs)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    out[k] = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  }
  return out;
}

/** An agent's question waiting for a person: its text, whom it is for, when it was asked and when it escalates. */
export interface AttentionQuestion { text: string; to: string[]; askedAt: string; timeout?: string; deadline?: string; escalate?: string[]; escalated?: { at: string; to: string[] } }
