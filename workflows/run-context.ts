// The part of a run every workflow of it needs: plan-level settings and run options. Passed from the
// metaOrchestrator to each domain child (the child never sees the whole plan: big plans stay small
// in each child's history).
import type { Budget, Plan } from '../plan/schema.ts';
import type { StartedBy } from '../common/signed-decision.ts';

export interface RunOptions {
  /** Queue of `cpu` steps and gate checks (default `sparky`); tests use their own queue. */
  cpuTaskQueue?: string;
  /** A domain child continues-as-new after starting this many workstreams (history stays small). */
  continueAsNewAfter?: number;
  /** Keep SparkyPlan/Phase/Gate/State current (default true; a server without them registered: false). */
  searchAttributes?: boolean;
  /** Who started the run (set by `sparky run`), signed with their key when they gave one: preventSelfApproval. */
  startedBy?: StartedBy;
  /** `sparky run --no-cache [WS…]`: cached steps of every workstream (true) or of these run and refresh their entries. */
  noCache?: boolean | string[];
  /** `--only WS…`: run these workstreams and the ones they need (workflows/subset.ts). */
  only?: string[];
  /** `--from WS…`: run these, everything downstream of them (forced: no cache), and what those need. */
  from?: string[];
  /** `--dry-run`: start nothing; the run's result says what each step would do (workflows/dry-run.ts). */
  dryRun?: boolean;
}

export interface RunContext {
  runWorkflowId: string;
  parentWorkflowId: string;
  planName: string;
  phaseId: string;
  defaults: NonNullable<Plan['defaults']>;
  pools: NonNullable<Plan['pools']>;
  env: NonNullable<Plan['env']>;
  baseDir?: string;
  cpuTaskQueue: string;
  /** Agent budgets of the current phase and the run (plan `budget`, phase `budget`), when the plan has them. */
  budgets?: { phase?: Budget; run?: Budget };
  /** Prices of models (plan `prices`), for Codex's tokens. */
  prices?: Plan['prices'];
  /** Git flow of the current phase (plan `git`): where workstream worktrees come from. */
  git?: { repo: string; branch: string; baseCommit: string; /** The base branch's name (absent in children of older runs). */ base?: string };
}

export const DEFAULT_MAX_PARALLEL = 4;
export const DEFAULT_CONTINUE_AS_NEW_AFTER = 500;
export const DEFAULT_STEP_TIMEOUT = '30m';
/**
 * Every runner heartbeats about once a second (shell/docker process watch, inference progress), so a
 * minute without one means the worker is gone: the step is retried elsewhere instead of waiting out
 * its startToClose timeout.
 */
export const DEFAULT_HEARTBEAT_TIMEOUT = '1m';
