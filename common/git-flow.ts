// Branch names of the git flow: `sparky/{plan}/{run}/{workstream}` filled in for one workstream of one
// run, a step's paths moved into that workstream's worktree, and the words that tell a person where a
// failed step ran and how a fix gets there. Pure (workflows compute all of it).
import { BRANCH_PLACEHOLDERS, type BranchPlaceholder } from '../plan/git.ts';
import { kindOf } from '../plan/kinds/index.ts';
import type { StepBody } from '../plan/schema.ts';
import { mapCachePaths } from '../plan/cache-key.ts';
import { slug } from './ids.ts';

/** The run part of a workflow id `sparky-<plan>-<run>`; a workflow id given by hand is used whole. */
export function runIdOf(runWorkflowId: string, planName: string): string {
  const prefix = `sparky-${slug(planName)}-`;
  return runWorkflowId.startsWith(prefix) && runWorkflowId.length > prefix.length ? runWorkflowId.slice(prefix.length) : runWorkflowId;
}

export interface BranchContext { planName: string; runWorkflowId: string; phaseId: string; domainId: string; workstreamId: string }

/** Characters git refuses in a branch name (and ones that would make it awkward), replaced by "-". */
const refSafe = (text: string) => text.replace(/[\s~^:?*[\\\x00-\x1f\x7f]+|\.\.+|@\{/g, '-').replace(/^[-.]+|[.]+$|\.lock$/g, '') || 'x';

/** The branch of one workstream: the template with its placeholders filled (each value made ref-safe). */
export function branchName(template: string, ctx: BranchContext): string {
  const values: Record<BranchPlaceholder, string> = {
    plan: ctx.planName, run: runIdOf(ctx.runWorkflowId, ctx.planName), phase: ctx.phaseId, domain: ctx.domainId, workstream: ctx.workstreamId,
  };
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) =>
    (BRANCH_PLACEHOLDERS as readonly string[]).includes(name) ? refSafe(values[name as BranchPlaceholder]) : whole);
}


/** `p` moved from under `repo` to under `worktree`; a path outside the repository stays as it is. */
export function underWorktree(p: string, repo: string, worktree: string): string {
  const root = repo.replace(/\/+$/, '');
  if (p === root) return worktree;
  return p.startsWith(`${root}/`) ? `${worktree}${p.slice(root.length)}` : p;
}

/**
 * A step as it runs in its workstream's worktree: every path field the loader resolved (plan/paths.ts)
 * that lies in the repository points into the worktree instead (each kind says which fields are
 * paths: plan/kinds/<kind>.ts inWorktree); argv and everything else stay.
 */
export function stepInWorktree<T extends StepBody & { compensate?: StepBody }>(step: T, repo: string, worktree: string): T {
  const mv = (p: string) => underWorktree(p, repo, worktree);
  const moved = mapCachePaths(kindOf(step).inWorktree(step, mv), mv); // and the step's `cache` inputs and outputs
  return (step.compensate ? { ...moved, compensate: stepInWorktree(step.compensate, repo, worktree) } : moved) as T;
}

/** Where a git-flow step runs: its workstream's worktree and branch, made from the base at the phase start. */
export interface WorktreePlace {
  worktree: string;
  branch: string;
  /** The base branch's name (plan git.base). */
  base: string;
  /** The base's commit when the phase started: the branch starts there, so later fixes in the base are not in it. */
  baseCommit: string;
}

/**
 * For a person fixing a failed step: where it ran, and how a fix gets there (a fix made in the
 * repository's own checkout or the base is not in the worktree). `code` formats a command (backticks
 * for the Web UI's markdown). One text for the run's waiting text, `sparky status` and webhooks.
 */
export function worktreeHelp(place: WorktreePlace, code: (command: string) => string = (c) => c): string[] {
  const at = place.baseCommit.slice(0, 12);
  return [
    `where: in the worktree ${place.worktree}, on branch ${place.branch}, made from ${place.base} @ ${at} when the phase started `
      + `(a fix in ${place.base} or in the repository's checkout since then is not there)`,
    `bring a fix in: commit it in the worktree (${code(`git -C ${place.worktree} commit -am "fix"`)}) or merge it from ${place.base} `
      + `(${code(`git -C ${place.worktree} merge ${place.base}`)}), then retry`,
  ];
}
