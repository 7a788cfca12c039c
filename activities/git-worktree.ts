// Worktrees and branches of the git flow. Each workstream works on its own branch in its own worktree,
// `<repo>/.sparky-worktrees/<run>/<workstream>` (one place to clean up per run), which the repository's
// own `git status` never shows (Sparky lists the folder in .git/info/exclude). Not inside .git: coding
// agents refuse to edit files under a `.git` path (Claude Code calls them sensitive), so an agent step
// could not work there. A bare repository keeps them in its git directory (`<repo.git>/sparky-worktrees`);
// a run that started with its worktrees under `.git/sparky-worktrees` (older releases) keeps them there.
// Every operation is idempotent: a retry finds and keeps what is there. Rework (a rejection, or any
// reopening of finished work) resets the reopened branches and worktrees to the phase's base commit
// first (gitResetWorkstreams), so what a reviewer rejected is never merged.
import { ApplicationFailure } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  GIT_FAILURES, type GitPhaseBaseInput, type GitPhaseBaseResult, type GitPrepareInput, type GitPrepareResult,
  type GitRemoveInput, type GitRemoveResult, type GitResetEntry, type GitResetInput, type GitResetResult,
} from '../common/git-types.ts';
import { commandFailure, commonDir, git, gitRaw, lines } from './git-exec.ts';
import { safeSegment } from './logs.ts';

export const WORKTREES_FOLDER = '.sparky-worktrees';

/** Where a run's worktrees live in the repository. */
export async function runWorktreesDir(repo: string, runWorkflowId: string): Promise<string> {
  const gitDir = await commonDir(repo);
  const inGitDir = path.join(gitDir, 'sparky-worktrees', safeSegment(runWorkflowId));
  if (path.basename(gitDir) !== '.git' || existsSync(inGitDir)) return inGitDir;
  await excludeWorktrees(gitDir);
  return path.join(path.dirname(gitDir), WORKTREES_FOLDER, safeSegment(runWorkflowId));
}

/** `/.sparky-worktrees/` in the repository's info/exclude, once: its `git status` never lists the worktrees. */
async function excludeWorktrees(gitDir: string): Promise<void> {
  const file = path.join(gitDir, 'info', 'exclude');
  const line = `/${WORKTREES_FOLDER}/`;
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text.split('\n').includes(line)) return;
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}# Sparky's git flow: one worktree per workstream (activities/git-worktree.ts)\n${line}\n`);
}

/** Worktrees git knows of: path → branch (refs/heads/… stripped; undefined when detached). */
export async function worktrees(repo: string): Promise<Map<string, string | undefined>> {
  const out = await git(repo, ['worktree', 'list', '--porcelain']);
  const found = new Map<string, string | undefined>();
  for (const block of out.split('\n\n')) {
    const dir = /^worktree (.+)$/m.exec(block)?.[1];
    if (dir) found.set(dir, /^branch refs\/heads\/(.+)$/m.exec(block)?.[1]);
  }
  return found;
}

export const branchExists = async (repo: string, branch: string) =>
  (await gitRaw(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`])).exitCode === 0;

/** The base as of the phase start: the commit every workstream of the phase branches from. */
export async function gitPhaseBase({ repo, base }: GitPhaseBaseInput): Promise<GitPhaseBaseResult> {
  await commonDir(repo);
  const r = await gitRaw(repo, ['rev-parse', '--verify', '--quiet', `${base}^{commit}`]);
  if (r.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(`the base branch "${base}" does not exist in ${repo} (plan git.base): create it, or name another`, GIT_FAILURES.baseMissing);
  }
  return { base, commit: r.stdout.trim() };
}

export async function gitPrepareWorkstream(input: GitPrepareInput): Promise<GitPrepareResult> {
  const { repo, branch, startPoint } = input;
  const dir = await worktreeDir(repo, input.runWorkflowId, input.workstreamId);
  const check = await gitRaw(repo, ['check-ref-format', '--branch', branch]);
  if (check.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(`"${branch}" is not a valid branch name (plan git.branch): ${check.stderr.trim()}`, GIT_FAILURES.branchInvalid);
  }
  const created = !(await branchExists(repo, branch));
  if (created) await git(repo, ['branch', branch, startPoint]);
  const known = await worktrees(repo);
  const here = known.get(dir);
  if (!(known.has(dir) && here === branch)) {
    const elsewhere = [...known].find(([, b]) => b === branch)?.[0];
    if (elsewhere && elsewhere !== dir) {
      throw ApplicationFailure.nonRetryable(`branch ${branch} is checked out in ${elsewhere}: a workstream's branch belongs to its worktree (${dir})`, GIT_FAILURES.branchInvalid);
    }
    // A half-made worktree of an earlier attempt (directory left, or registered on another commit).
    if (known.has(dir)) await git(repo, ['worktree', 'remove', '--force', dir]);
    if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
    await git(repo, ['worktree', 'prune']);
    await git(repo, ['worktree', 'add', dir, branch]);
  }
  const head = (await git(dir, ['rev-parse', 'HEAD'])).trim();
  return { worktree: dir, branch, created, head };
}

/** A workstream's worktree: `<git dir>/sparky-worktrees/<run>/<workstream>`. */
export async function worktreeDir(repo: string, runWorkflowId: string, workstreamId: string): Promise<string> {
  return path.join(await runWorktreesDir(repo, runWorkflowId), safeSegment(workstreamId));
}

/**
 * Rework: each named branch goes back to the phase's base commit, and its worktree (when there is one)
 * with it: `reset --hard` and `clean -ffdx`, as if it were new. The old head is returned for the audit
 * (its commits stay reachable by that id). A branch checked out somewhere else (by a person) is not
 * touched: that fails, naming the checkout, since the rejected work would otherwise merge. Idempotent.
 */
export async function gitResetWorkstreams({ repo, runWorkflowId, baseCommit, branches }: GitResetInput): Promise<GitResetResult> {
  const reset: GitResetEntry[] = [];
  for (const { workstreamId, branch } of branches) {
    if (!(await branchExists(repo, branch))) { reset.push({ workstreamId, branch, discarded: [], changed: false }); continue; }
    const dir = await worktreeDir(repo, runWorkflowId, workstreamId);
    let known = await worktrees(repo);
    if (known.has(dir) && !existsSync(dir)) { await git(repo, ['worktree', 'prune']); known = await worktrees(repo); }
    const elsewhere = [...known].find(([d, b]) => b === branch && d !== dir)?.[0];
    if (elsewhere) {
      throw ApplicationFailure.nonRetryable(`rework must reset ${branch} (workstream ${workstreamId}) to the phase's base ${baseCommit.slice(0, 12)}, `
        + `but it is checked out in ${elsewhere}: check out another branch there (git -C ${elsewhere} switch --detach), then start the run again`, GIT_FAILURES.branchInvalid);
    }
    const oldHead = (await git(repo, ['rev-parse', `refs/heads/${branch}`])).trim();
    let discarded: string[] = [];
    if (known.get(dir) === branch) {
      discarded = lines(await git(dir, ['status', '--porcelain', '--untracked-files=all'])).slice(0, 50);
      await git(dir, ['reset', '--hard', '--quiet', baseCommit]);
      await git(dir, ['clean', '-ffdx', '--quiet']);
    } else {
      if (known.has(dir)) await git(repo, ['worktree', 'remove', '--force', dir]); // registered on something else: made again on the next run
      if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
      await git(repo, ['branch', '--force', branch, baseCommit]);
    }
    reset.push({ workstreamId, branch, oldHead, discarded, changed: oldHead !== baseCommit || discarded.length > 0 });
  }
  return { reset };
}

/** Abort compensation: the run's worktrees and its branches go (the base, and merges into it, stay). */
export async function gitRemoveRun({ repo, runWorkflowId, branches }: GitRemoveInput): Promise<GitRemoveResult> {
  const runDir = await runWorktreesDir(repo, runWorkflowId);
  const removedWorktrees: string[] = [];
  for (const [dir] of await worktrees(repo)) {
    if (!dir.startsWith(`${runDir}${path.sep}`)) continue;
    await git(repo, ['worktree', 'remove', '--force', dir]);
    removedWorktrees.push(dir);
  }
  await rm(runDir, { recursive: true, force: true });
  await git(repo, ['worktree', 'prune']);
  const checkedOut = new Set([...(await worktrees(repo)).values()]);
  const deletedBranches: string[] = [];
  for (const branch of branches) {
    if (!(await branchExists(repo, branch))) continue;
    if (checkedOut.has(branch)) continue; // someone works on it by hand: theirs to remove
    const r = await gitRaw(repo, ['branch', '-D', branch]);
    if (r.exitCode !== 0) throw commandFailure(repo, ['branch', '-D', branch], r);
    deletedBranches.push(branch);
  }
  return { removedWorktrees, deletedBranches };
}
