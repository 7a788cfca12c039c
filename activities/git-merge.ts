// An approved gate merges its phase's branches into the base, in dependency order, each with a merge
// commit (--no-ff) whose message carries the gate's decision record: who approved, when, how, their
// comments and signatures, and the checks. Where the base is checked out (a clean checkout) the merge
// happens there, so that checkout moves with it; otherwise in a temporary worktree, and the base ref
// moves only if nobody moved it meanwhile. A conflict aborts that merge and fails non-retryably with
// the conflicting files (GitMergeConflict); branches merged before it stay merged, and a retry after
// a person resolved it (by merging the base into the workstream's branch, or by hand into the base)
// skips every branch the base already contains. A branch with no commit beyond the phase's base (its
// steps changed nothing, or rework reset it and the rerun changed nothing) is reported as empty.
import { ApplicationFailure } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { GIT_FAILURES, type GateDecisionRecord, type GitMergeConflictDetails, type GitMergeInput, type GitMergeResult } from '../common/git-types.ts';
import { commandFailure, git, gitRaw, identity, lines } from './git-exec.ts';
import { pushRefs } from './git-publish.ts';
import { branchExists, runWorktreesDir, worktrees } from './git-worktree.ts';

/** A phase without a gate (`noGate`; runs from before it carry only the gate id "(phase X has no gate)"). */
const ungated = (d: GateDecisionRecord) => d.noGate === true || /^\(phase .* has no gate\)$/.test(d.gateId);

/** The merge commit's message: a subject, the decision record, and trailers machines can read. */
export function mergeMessage(input: Pick<GitMergeInput, 'base' | 'runWorkflowId' | 'phaseId'> & { decision: GateDecisionRecord; workstreamId: string; branch: string }): string {
  const { decision: d } = input;
  if (ungated(d)) {
    return [`Merge ${input.branch} into ${input.base}: workstream ${input.workstreamId} (phase ${input.phaseId} has no gate)`, '',
      `Phase ${input.phaseId} has no gate: its branches merge when its workstreams are done.`, '',
      `Sparky-Run: ${input.runWorkflowId}`, `Sparky-Phase: ${input.phaseId}`, `Sparky-Workstream: ${input.workstreamId}`, ''].join('\n');
  }
  const out = [`Merge ${input.branch} into ${input.base}: workstream ${input.workstreamId} (gate ${d.gateId} approved)`, ''];
  const approvals = d.entries.filter((e) => e.decision === 'approve');
  out.push(`Gate ${d.gateId} of phase ${input.phaseId} approved${d.decidedAt ? ` at ${d.decidedAt}` : ''}`
    + `${d.required !== undefined ? ` (${approvals.length} of ${d.required} required)` : ''}.`);
  for (const e of d.entries) {
    out.push(`- ${e.approver}: ${e.decision}${e.automatic ? ' (automatic, on timeout)' : ''} at ${e.at}${e.surface ? ` via ${e.surface}` : ''}`
      + `${e.comment ? `: ${JSON.stringify(e.comment)}` : ''}`);
    if (e.signature) out.push(...e.signature.trim().split('\n').map((l) => `  ${l}`));
  }
  if (d.checks?.length) {
    out.push('', 'Checks:');
    for (const c of d.checks) out.push(`- ${c.id}: ${c.passed ? 'passed' : 'FAILED'} (${c.message.split('\n')[0]})`);
  }
  out.push('', `Sparky-Run: ${input.runWorkflowId}`, `Sparky-Phase: ${input.phaseId}`, `Sparky-Gate: ${d.gateId}`, `Sparky-Workstream: ${input.workstreamId}`);
  for (const a of approvals) out.push(`Approved-by: ${a.approver}`);
  return `${out.join('\n')}\n`;
}

const isAncestor = async (repo: string, commit: string, of: string) =>
  (await gitRaw(repo, ['merge-base', '--is-ancestor', commit, of])).exitCode === 0;

export async function gitMergePhase(input: GitMergeInput): Promise<GitMergeResult> {
  const { repo, base } = input;
  if (!(await branchExists(repo, base))) {
    throw ApplicationFailure.nonRetryable(`the base branch "${base}" does not exist in ${repo}`, GIT_FAILURES.baseMissing);
  }
  const checkout = [...(await worktrees(repo))].find(([, b]) => b === base)?.[0];
  let dir: string;
  let temporary: string | undefined;
  const before = (await git(repo, ['rev-parse', `refs/heads/${base}`])).trim();
  if (checkout) {
    dir = checkout;
    const dirty = lines(await git(dir, ['diff', '--name-only', 'HEAD']));
    if (dirty.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `${dir} (where ${base} is checked out) has uncommitted changes: ${dirty.join(', ')}; commit or stash them, then retry the merge`,
        GIT_FAILURES.baseDirty,
      );
    }
  } else {
    temporary = path.join(await runWorktreesDir(repo, input.runWorkflowId), `_merge-${input.phaseId}`);
    if (existsSync(temporary)) { await gitRaw(repo, ['worktree', 'remove', '--force', temporary]); await rm(temporary, { recursive: true, force: true }); }
    await git(repo, ['worktree', 'prune']);
    await git(repo, ['worktree', 'add', '--detach', temporary, before]);
    dir = temporary;
  }
  const who = await identity(dir);
  const merged: GitMergeResult['merged'] = [];
  let current = before;
  try {
    for (const { workstreamId, branch } of input.branches) {
      if (!(await branchExists(repo, branch))) {
        throw ApplicationFailure.nonRetryable(`workstream ${workstreamId}'s branch ${branch} does not exist in ${repo}`, GIT_FAILURES.branchInvalid);
      }
      const tip = (await git(repo, ['rev-parse', `refs/heads/${branch}`])).trim();
      if (input.baseCommit && await isAncestor(dir, tip, input.baseCommit)) {
        merged.push({ workstreamId, branch, commit: tip, alreadyMerged: true, empty: true }); // nothing beyond the phase's base
        continue;
      }
      if (await isAncestor(dir, tip, 'HEAD')) {
        merged.push({ workstreamId, branch, commit: tip, alreadyMerged: true });
        continue;
      }
      const message = mergeMessage({ ...input, workstreamId, branch });
      const r = await gitRaw(dir, [...who, 'merge', '--no-ff', '--no-verify', '--cleanup=whitespace', '-m', message, `refs/heads/${branch}`]);
      if (r.exitCode !== 0) {
        const files = lines((await gitRaw(dir, ['diff', '--name-only', '--diff-filter=U'])).stdout);
        await gitRaw(dir, ['merge', '--abort']);
        if (files.length > 0) {
          const details: GitMergeConflictDetails = { workstreamId, branch, base, files, merged: merged.map((m) => m.branch) };
          throw ApplicationFailure.create({
            message: `merging ${branch} (workstream ${workstreamId}) into ${base} conflicts in ${files.join(', ')}: `
              + `resolve it (e.g. merge ${base} into ${branch} in its worktree and commit, or merge by hand into ${base}), then retry`,
            type: GIT_FAILURES.mergeConflict, nonRetryable: true, details: [details],
          });
        }
        throw commandFailure(dir, ['merge', branch], r, GIT_FAILURES.command, /overwritten|untracked/.test(r.stderr));
      }
      const commit = (await git(dir, ['rev-parse', 'HEAD'])).trim();
      // In a temporary worktree: move the base at once (so a later conflict keeps this merge), and only
      // from where it was (nobody moved it meanwhile).
      if (temporary) await git(repo, ['update-ref', '-m', `sparky: merge ${branch}`, `refs/heads/${base}`, commit, current]);
      current = commit;
      merged.push({ workstreamId, branch, commit, alreadyMerged: false });
    }
    const head = current;
    const push = input.push ? await pushRefs(repo, input.push.remote, [base]) : undefined;
    return { base, head, merged, ...(push && { push }) };
  } finally {
    if (temporary) {
      await gitRaw(repo, ['worktree', 'remove', '--force', temporary]);
      await rm(temporary, { recursive: true, force: true });
    }
  }
}
