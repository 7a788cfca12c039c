// The git flow inside a run (plan `git`; rules in plan/git.ts, activities in activities/git*.ts):
// the phase's base commit when it starts; a worktree per workstream when it starts (domain child);
// commits after steps that ask; rework resets the reopened branches to the phase's base (rejected
// commits never merge); at the phase's end the branches are pushed and get pull requests
// (skipped with the reason where they cannot), and once the gate is approved they merge into the base
// in dependency order with the gate's decision in each merge commit. A merge that fails (a conflict,
// a dirty base checkout) puts the gate in `merge-conflict` (attention) with the files named, where
// the run asks (`onFailure: ask`), until `recheckGate` after a person resolved it; elsewhere the run
// fails with that list. Aborting removes the run's worktrees and branches.
import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities } from '@temporalio/workflow';
import { branchName, type WorktreePlace } from '../common/git-flow.ts';
import { GIT_FAILURES, type GateDecisionRecord, type GitActivities, type GitMergeConflictDetails, type GitPushResult } from '../common/git-types.ts';
import { GIT_DEFAULTS, gitSettings } from '../plan/git.ts';
import type { Phase, Plan, Workstream } from '../plan/schema.ts';
import { errorMessage } from './errors.ts';
import type { RunContext } from './run-context.ts';
import { now, type GateStatus, type PhaseStatus, type RunStatus } from './status.ts';
import { count } from '../common/plural.ts';

function activities(taskQueue: string): GitActivities {
  return proxyActivities<GitActivities>({
    taskQueue,
    startToCloseTimeout: '10m',
    retry: { maximumAttempts: 5, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
    summary: 'git',
  });
}

/**
 * The workstreams of a phase that work in the repository (not `git: false`), in dependency order. A
 * dependency counts through `git: false` workstreams too (A → B (git: false) → C merges A before C):
 * each workstream waits for every git workstream of the phase it reaches through `dependsOn`.
 */
export function gitWorkstreams(phase: Phase): Workstream[] {
  const inPhase = new Map(phase.domains.flatMap((d) => d.workstreams).map((ws) => [ws.id, ws] as const));
  const all = [...inPhase.values()].filter((ws) => ws.git !== false);
  const gitDeps = new Map(all.map((ws) => [ws.id, reachedGitWorkstreams(ws, inPhase)] as const));
  const placed = new Set<string>();
  const order: Workstream[] = [];
  while (order.length < all.length) {
    const next = all.find((ws) => !placed.has(ws.id) && [...(gitDeps.get(ws.id) ?? [])].every((d) => placed.has(d)));
    if (!next) break; // cycles are refused by the validator
    placed.add(next.id);
    order.push(next);
  }
  return order;
}

/** The git workstreams of the phase that `ws` depends on, directly or through any chain of `dependsOn`. */
function reachedGitWorkstreams(ws: Workstream, inPhase: Map<string, Workstream>): Set<string> {
  const found = new Set<string>();
  const seen = new Set<string>([ws.id]);
  const queue = [...(ws.dependsOn ?? [])];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    const dep = inPhase.get(id);
    if (seen.has(id) || !dep) continue; // earlier phases are merged already
    seen.add(id);
    if (dep.git !== false) found.add(id);
    queue.push(...(dep.dependsOn ?? []));
  }
  return found;
}

/** Phase start: the base's commit now (kept across reworks of the phase), and the git context children get. */
export async function startPhaseGit(plan: Plan, phase: Phase, ps: PhaseStatus, run: Omit<RunContext, 'phaseId'>, onChange: () => void): Promise<void> {
  run.git = undefined;
  if (!plan.git) return;
  const settings = gitSettings(plan.git);
  const workstreams = gitWorkstreams(phase);
  if (workstreams.length === 0) return;
  if (!ps.git) {
    const { commit } = await activities(run.cpuTaskQueue).gitPhaseBase({ repo: settings.repo, base: settings.base });
    const domainOf = new Map(phase.domains.flatMap((d) => d.workstreams.map((ws) => [ws.id, d.id] as const)));
    ps.git = {
      repo: settings.repo, base: settings.base, baseCommit: commit,
      branches: workstreams.map((ws) => ({
        workstreamId: ws.id,
        branch: branchName(settings.branch, { planName: plan.name, runWorkflowId: run.runWorkflowId, phaseId: phase.id, domainId: domainOf.get(ws.id) ?? '', workstreamId: ws.id }),
      })),
    };
    onChange();
  }
  run.git = { repo: settings.repo, branch: settings.branch, baseCommit: ps.git.baseCommit, base: ps.git.base };
}

/**
 * Domain child: the workstream's worktree (made, or found again), where its steps run; made on its host
 * (`host`, once it has one), else by any CPU worker, whose host queue then becomes the workstream's.
 */
export async function prepareWorktree(run: RunContext, domainId: string, workstreamId: string, host?: string): Promise<{ place: WorktreePlace; hostTaskQueue?: string }> {
  const git = run.git as NonNullable<RunContext['git']>;
  const branch = branchName(git.branch, { planName: run.planName, runWorkflowId: run.runWorkflowId, phaseId: run.phaseId, domainId, workstreamId });
  const made = await activities(host ?? run.cpuTaskQueue).gitPrepareWorkstream({
    repo: git.repo, branch, startPoint: git.baseCommit, runWorkflowId: run.runWorkflowId, workstreamId,
  });
  return {
    place: { worktree: made.worktree, branch, base: git.base ?? git.baseCommit.slice(0, 12), baseCommit: git.baseCommit },
    ...(made.hostTaskQueue ? { hostTaskQueue: made.hostTaskQueue } : {}),
  };
}

/** Domain child: a step's `commit`, as the status shows it (the commit, or why there is none). */
export async function commitStep(run: RunContext, worktree: string, message: string, idempotencyKey: string, host?: string): Promise<string> {
  const since = run.git?.baseCommit; // only this phase's commits on the branch count as an earlier attempt's
  const r = await activities(host ?? run.cpuTaskQueue).gitCommitStep({ worktree, message, idempotencyKey, ...(since && { since }) });
  return r.commit ? `${r.commit.slice(0, 12)}${r.committed ? '' : ` (${r.reason})`}` : `nothing committed: ${r.reason}`;
}

const pushText = (p: GitPushResult | undefined) => (p === undefined ? undefined : p.pushed ? `pushed to ${p.remote}` : `skipped: ${p.skipped}`);

/** Phase end (before its gate): each branch pushed and given a pull request, where the plan asks. */
export async function publishPhase(plan: Plan, phase: Phase, ps: PhaseStatus, run: Omit<RunContext, 'phaseId'>, onChange: () => void): Promise<void> {
  if (!plan.git || !ps.git) return;
  const settings = gitSettings(plan.git);
  if (!settings.push && !settings.pr) return;
  const git = activities(run.cpuTaskQueue);
  await Promise.all(ps.git.branches.map(async (b) => {
    const ws = phase.domains.flatMap((d) => d.workstreams).find((w) => w.id === b.workstreamId);
    const r = await git.gitPublishBranch({
      repo: settings.repo, branch: b.branch, base: settings.base, remote: settings.push?.remote ?? GIT_DEFAULTS.remote, push: true,
      ...(settings.pr && { pr: {
        tokenEnv: settings.pr.tokenEnv, draft: settings.pr.draft, title: `${plan.name}: ${ws?.name ?? b.workstreamId}`,
        body: `Workstream ${b.workstreamId} of phase ${phase.id}, Sparky run ${run.runWorkflowId}. Merged into ${settings.base}`
          + `${phase.gate ? ` when gate ${phase.gate.id} is approved` : ' when the phase ends'}.`,
      } }),
    });
    b.push = pushText(r.push);
    if (r.pr) b.pr = 'url' in r.pr ? r.pr.url : `skipped: ${r.pr.skipped}`;
  }));
  onChange();
}

/** The gate's decision as it goes into the merge commits: the approvals that counted, and the checks. */
export function decisionRecord(gate: GateStatus | undefined, phaseId: string): GateDecisionRecord {
  if (!gate) return { gateId: `(phase ${phaseId} has no gate)`, noGate: true, entries: [] };
  const entries = gate.audit
    .filter((a) => !a.ignored && !a.void && a.decision === 'approve')
    .map((a) => ({
      approver: a.approver, decision: 'approve', at: a.at, surface: a.surface,
      ...(a.comment && { comment: a.comment }), ...(a.automatic && { automatic: true }),
      ...(a.signature && { signature: a.fingerprint ? `key ${a.fingerprint}, signed at ${a.signedAt ?? a.at}\n${a.signature}` : a.signature }),
    }));
  return {
    gateId: gate.id, decidedAt: gate.decidedAt, required: gate.required, entries,
    checks: gate.checks.map((c) => ({ id: c.id, passed: c.passed, message: c.message })),
  };
}

/**
 * After the gate's approval (or a phase without gate): the branches merge into the base. A failed
 * merge waits in attention for `recheckGate` where `ask` and there is a gate; otherwise the run fails.
 */
export async function mergePhase(plan: Plan, phase: Phase, ps: PhaseStatus, run: Omit<RunContext, 'phaseId'>,
  opts: { ask: boolean; rechecked: (gateId: string) => Promise<void>; onChange: () => void }): Promise<void> {
  if (!plan.git || !ps.git) return;
  const settings = gitSettings(plan.git);
  const git = ps.git;
  if (settings.merge === 'never') { git.merge = { state: 'skipped', reason: 'merge: never' }; opts.onChange(); return; }
  for (;;) {
    try {
      const r = await activities(run.cpuTaskQueue).gitMergePhase({
        repo: settings.repo, base: settings.base, runWorkflowId: run.runWorkflowId, phaseId: phase.id,
        branches: git.branches.map((b) => ({ workstreamId: b.workstreamId, branch: b.branch })), baseCommit: git.baseCommit,
        decision: decisionRecord(ps.gate, phase.id), ...(settings.push && { push: settings.push }),
      });
      const empty = r.merged.filter((m) => m.empty).map((m) => m.workstreamId);
      git.merge = {
        state: empty.length === r.merged.length ? 'nothing-to-merge' : 'merged', head: r.head,
        commits: Object.fromEntries(r.merged.filter((m) => !m.empty).map((m) => [m.workstreamId, m.commit])), push: pushText(r.push),
        ...(empty.length > 0 && { nothingFrom: empty }),
      };
      if (ps.gate) { ps.gate.state = 'approved'; ps.gate.mergeConflict = undefined; }
      opts.onChange();
      return;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : undefined;
      const conflict = failure?.type === GIT_FAILURES.mergeConflict ? failure.details?.[0] as GitMergeConflictDetails | undefined : undefined;
      const message = errorMessage(err);
      git.merge = { state: 'conflict', reason: message };
      if (!opts.ask || !ps.gate) {
        opts.onChange();
        throw ApplicationFailure.nonRetryable(`phase ${phase.id}: ${message}`, 'SparkyMergeFailed', conflict ?? null);
      }
      ps.gate.state = 'merge-conflict';
      ps.gate.mergeConflict = conflict
        ? { workstreamId: conflict.workstreamId, branch: conflict.branch, base: conflict.base, files: conflict.files }
        : { workstreamId: '', branch: '', base: settings.base, files: [] };
      opts.onChange();
      await opts.rechecked(ps.gate.id);
    }
  }
}

/**
 * Rework (a rejection, or any reopening of finished work): the reopened workstreams' branches and
 * worktrees go back to the phase's base commit before they run again, so rejected commits never merge
 * and a rerun that changes nothing says so. Each branch's old head (and discarded changes) is kept in
 * its status (`resets`) for the audit; the commits stay reachable by that id.
 */
export async function resetReworkedBranches(plan: Plan, ps: PhaseStatus, run: Omit<RunContext, 'phaseId'>, workstreamIds: Iterable<string>,
  reason?: string): Promise<void> {
  if (!plan.git || !ps.git) return;
  const ids = new Set(workstreamIds);
  const branches = ps.git.branches.filter((b) => ids.has(b.workstreamId));
  if (branches.length === 0) return;
  const r = await activities(run.cpuTaskQueue).gitResetWorkstreams({
    repo: ps.git.repo, runWorkflowId: run.runWorkflowId, baseCommit: ps.git.baseCommit,
    branches: branches.map((b) => ({ workstreamId: b.workstreamId, branch: b.branch })),
  });
  const at = now();
  for (const entry of r.reset) {
    const b = branches.find((x) => x.workstreamId === entry.workstreamId);
    if (!b || !entry.changed || entry.oldHead === undefined) continue;
    b.resets = [...(b.resets ?? []), { at, from: entry.oldHead, ...(reason && { reason }), ...(entry.discarded.length > 0 && { discarded: entry.discarded }) }];
  }
}

/** Abort (or compensation of the whole run): the run's worktrees and branches go; merges stay. */
export async function removeRunGit(plan: Plan, status: RunStatus, run: Omit<RunContext, 'phaseId'>): Promise<string | undefined> {
  if (!plan.git) return undefined;
  const branches = status.phases.flatMap((p) => p.git?.branches.map((b) => b.branch) ?? []);
  if (branches.length === 0) return undefined;
  try {
    const r = await activities(run.cpuTaskQueue).gitRemoveRun({ repo: gitSettings(plan.git).repo, runWorkflowId: run.runWorkflowId, branches });
    return `git: removed ${count(r.removedWorktrees.length, 'worktree')} and ${count(r.deletedBranches.length, 'branch')}`;
  } catch (err) {
    return `git: removing the run's worktrees and branches FAILED: ${errorMessage(err).split('\n')[0]}`;
  }
}
