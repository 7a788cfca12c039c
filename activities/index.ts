// The activities a worker registers: runStep (every step kind), runGateCheck, notify (webhooks), inspectStep (dry runs) and the git flow's. Built by a factory
// from the worker's dependencies, so the CPU worker, each GPU worker and the tests wire their own.
// runStep first evaluates the step's `when` (a false condition → skipped, with the reason), then
// points `$SPARKY_RUN_DIR` at the run's own directory (activities/run-dir.ts) and hands the step to
// its kind's runner (activities/runners.ts) — through the step cache when the step is cached
// (activities/cache.ts). Gate checks get the same directory.
import type { SparkyActivities, StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { GitActivities } from '../common/git-types.ts';
import { createGateCheckRunner } from './checks.ts';
import { attemptInfo } from './context.ts';
import { createGitActivities } from './git.ts';
import type { InferenceDeps } from './inference.ts';
import { createNotifier, type NotifyDeps } from './notify.ts';
import { ensureRunDir, expandRunDir, RUN_DIR_VAR, runDir } from './run-dir.ts';
import { createStepCache } from './cache.ts';
import { CacheStore, cacheDirFor } from './cache-store.ts';
import type { InspectInput, InspectResult } from '../common/cache-types.ts';
import os from 'node:os';
import type { PlanActivities } from '../common/plan-ref.ts';
import { loadCommittedPlan } from './committed-plan.ts';
import { createStepRunners, runByKind } from './runners.ts';
import { evaluateWhen } from './when.ts';

export interface ActivityDeps {
  /** Root of the per-step logs; workers pass `<DATA_DIR>/logs` (`.sparky/logs`). */
  logDir: string;
  /**
   * Where runs' own directories live (`<runRoot>/<run>/`, SPARKY_RUN_DIR); default `logDir`. Workers on
   * several hosts whose steps share files point it at the same shared folder (SPARKY_RUN_ROOT).
   */
  runRoot?: string;
  /** The inference server this worker reaches (GPU workers only). */
  inference?: InferenceDeps;
  /** The GPU this worker is pinned to, if any. */
  pinned?: { host: string; index: number; taskQueue: string };
  /** Base for relative paths in steps (the loader makes them absolute; this covers hand-made plans). */
  workdir?: string;
  /** SIGTERM → SIGKILL grace when a step's process tree is ended (default 5s). */
  killGraceMs?: number;
  /** How much of a step's output its result keeps (default 64 KiB; results enter history). */
  tailBytes?: number;
  /** The `just` program (workers pass `.tools/bin/just` from host/paths.ts). */
  justBin?: string;
  /** Webhook notifications: the environment URLs and tokens come from, retry waits (tests shorten them). */
  notify?: NotifyDeps;
  /**
   * This worker's host task queue (workers/cpu.ts: `<queue>-host-<SPARKY_HOST>`), which it also serves:
   * a workstream whose worktree (or agent session) this worker made runs its later steps there.
   */
  hostTaskQueue?: string;
  /** The step cache's folder (default `<runRoot>/.sparky-cache`, or SPARKY_CACHE_DIR; ADR 0010). */
  cacheDir?: string;
  /** This host's name in the cache entries it stores (default SPARKY_HOST, else the machine's name). */
  host?: string;
}

/** Step and check runners, plus the git flow's activities (git runs where the repository is: CPU workers). */
export function createActivities(deps: ActivityDeps): SparkyActivities & GitActivities & PlanActivities {
  const runnerDeps = {
    logDir: deps.logDir, workdir: deps.workdir, killGraceMs: deps.killGraceMs, tailBytes: deps.tailBytes, pinnedTaskQueue: deps.pinned?.taskQueue,
    justBin: deps.justBin,
  };
  const runners = createStepRunners(runnerDeps, { inference: deps.inference });
  const gateCheck = createGateCheckRunner(runnerDeps);
  const runRoot = deps.runRoot ?? deps.logDir;
  const stepCache = createStepCache({
    store: new CacheStore(deps.cacheDir ?? cacheDirFor(runRoot)), runRoot, logDir: deps.logDir,
    facts: { workdir: deps.workdir ?? process.cwd(), justBin: deps.justBin, inference: deps.inference }, host: deps.host ?? (process.env.SPARKY_HOST || os.hostname()),
  });

  /** The input with the run's directory in the environment and in place of `$SPARKY_RUN_DIR`. */
  function inRunDir<I extends { ctx: { runWorkflowId: string; env?: Record<string, string> } }>(input: I, field: 'step' | 'check'): I {
    const dir = ensureRunDir(deps.runRoot ?? deps.logDir, input.ctx.runWorkflowId);
    return {
      ...input,
      [field]: expandRunDir((input as Record<string, unknown>)[field], dir),
      ctx: { ...input.ctx, env: { ...input.ctx.env, [RUN_DIR_VAR]: dir } },
    };
  }

  async function runStep(original: StepActivityInput): Promise<StepResult> {
    const started = Date.now();
    const verdict = await evaluateWhen(original.step.when);
    if (!verdict.run) {
      return {
        status: 'skipped', skippedReason: verdict.reason, durationMs: Date.now() - started,
        taskQueue: attemptInfo().taskQueue, pinnedTaskQueue: deps.pinned?.taskQueue,
      };
    }
    const input = inRunDir(original, 'step');
    const cache = original.cache;
    if (!cache) return runByKind(runners, input);
    const result = await stepCache.run(input, cache, () => runByKind(runners, input));
    return result.status === 'cached' ? { ...result, pinnedTaskQueue: deps.pinned?.taskQueue } : result;
  }

  /** A dry run: skipped by `when`, a cache hit, or run (and why); nothing is created or copied. */
  async function inspectStep({ step, ctx, cache }: InspectInput): Promise<InspectResult> {
    const verdict = await evaluateWhen(step.when);
    if (!verdict.run) return { action: 'skipped', reason: verdict.reason };
    if (!cache) return { action: 'run', reason: 'not cached' };
    const dir = runDir(runRoot, ctx.runWorkflowId);
    const input = { step: expandRunDir(step, dir), ctx: { ...ctx, env: { ...ctx.env, [RUN_DIR_VAR]: dir } } };
    return stepCache.inspect(input, cache);
  }

  const git = createGitActivities();
  const host = deps.hostTaskQueue ? { hostTaskQueue: deps.hostTaskQueue } : {};
  return {
    runStep, runGateCheck: (input) => gateCheck(inRunDir(input, 'check')), notify: createNotifier(deps.notify), inspectStep, loadCommittedPlan, ...git,
    gitPrepareWorkstream: async (input) => ({ ...await git.gitPrepareWorkstream(input), ...host }),
    claimHost: async () => host,
  };
}
