// A step's `commit: "message"`: everything the step changed in its workstream's worktree becomes one
// commit, with the step's idempotency key as a `Sparky-Step:` trailer. Idempotent: a retry after the
// commit was made finds a clean worktree and returns that commit instead of making another. Only
// commits after the phase's base (`since`) count: rework resets the branch to that base, so a rerun
// that changes nothing says so instead of claiming the commit the reviewer rejected.
import type { GitCommitInput, GitCommitResult } from '../common/git-types.ts';
import { git, gitRaw, identity, lines } from './git-exec.ts';

const TRAILER = 'Sparky-Step';
const MAX_FILES = 200;

export async function gitCommitStep({ worktree, message, idempotencyKey, since }: GitCommitInput): Promise<GitCommitResult> {
  await git(worktree, ['add', '--all']);
  const files = lines(await git(worktree, ['diff', '--cached', '--name-only']));
  if (files.length === 0) {
    // Nothing staged: either an earlier attempt committed it, or the step changed nothing.
    const earlier = (await gitRaw(worktree, ['log', '-1', '--format=%H', '--fixed-strings', `--grep=${TRAILER}: ${idempotencyKey}`, since ? `${since}..HEAD` : 'HEAD'])).stdout.trim();
    if (earlier) {
      const earlierFiles = lines(await git(worktree, ['show', '--name-only', '--format=', earlier]));
      return { committed: false, commit: earlier, files: earlierFiles.slice(0, MAX_FILES), reason: 'already committed by an earlier attempt of this step' };
    }
    return { committed: false, files: [], reason: 'the step changed nothing in its worktree' };
  }
  const body = `${message.trim()}\n\n${TRAILER}: ${idempotencyKey}\n`;
  await git(worktree, [...(await identity(worktree)), 'commit', '--no-verify', '--quiet', '--cleanup=whitespace', '--message', body]);
  const commit = (await git(worktree, ['rev-parse', 'HEAD'])).trim();
  return { committed: true, commit, files: files.slice(0, MAX_FILES) };
}
