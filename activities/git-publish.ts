// Pushes and pull requests of the git flow. Each is skipped, with the reason in the result, where it
// cannot happen: no such remote, no token, no `gh`. A token is read here, on the worker, from its
// environment (pr.token.fromEnv, else GH_TOKEN, else GITHUB_TOKEN), and never enters history.
import { execa } from 'execa';
import type { GitPrResult, GitPublishInput, GitPublishResult, GitPushResult } from '../common/git-types.ts';
import { commandFailure, gitRaw } from './git-exec.ts';

/**
 * Push `refs` (branch names) to `remote`, or say why not. `lease`: a workstream's branch, which rework
 * may have reset to the phase's base, replaces the remote's copy unless someone else pushed to it since
 * (`--force-with-lease`); the base is only ever fast-forwarded.
 */
export async function pushRefs(repo: string, remote: string, refs: string[], opts: { lease?: boolean } = {}): Promise<GitPushResult> {
  const url = await gitRaw(repo, ['remote', 'get-url', remote]);
  if (url.exitCode !== 0) return { pushed: false, skipped: `no remote "${remote}" in ${repo}` };
  const args = ['push', '--porcelain', ...(opts.lease ? ['--force-with-lease'] : []), remote, ...refs.map((r) => `refs/heads/${r}:refs/heads/${r}`)];
  const r = await gitRaw(repo, args);
  if (r.exitCode !== 0) throw commandFailure(repo, args, r);
  return { pushed: true, remote, refs };
}

async function openPr(input: GitPublishInput, pr: NonNullable<GitPublishInput['pr']>): Promise<GitPrResult> {
  const names = pr.tokenEnv ? [pr.tokenEnv] : ['GH_TOKEN', 'GITHUB_TOKEN'];
  const token = names.map((n) => process.env[n]).find((v) => v !== undefined && v !== '');
  if (!token) return { skipped: `no token: ${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'} not set on the worker` };
  const env = { GH_TOKEN: token, GH_PROMPT_DISABLED: '1', NO_COLOR: '1' };
  const gh = (args: string[]) => execa('gh', args, { cwd: input.repo, env, reject: false, stdin: 'ignore', timeout: 120_000 });
  const existing = await gh(['pr', 'view', input.branch, '--json', 'url', '--jq', '.url']);
  if (existing.failed && existing.exitCode === undefined) return { skipped: 'gh is not installed on this worker' };
  if (existing.exitCode === 0 && existing.stdout.trim()) return { url: existing.stdout.trim(), created: false };
  const created = await gh(['pr', 'create', '--head', input.branch, '--base', input.base, '--title', pr.title, '--body', pr.body, ...(pr.draft ? ['--draft'] : [])]);
  if (created.exitCode !== 0) throw new Error(`gh pr create for ${input.branch} failed: ${(created.stderr || created.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return { url: created.stdout.trim().split('\n').pop() ?? '', created: true };
}

/** A finished workstream's branch: pushed, and a pull request opened for it, where the plan asks. */
export async function gitPublishBranch(input: GitPublishInput): Promise<GitPublishResult> {
  const push = input.push ? await pushRefs(input.repo, input.remote, [input.branch], { lease: true }) : { pushed: false as const, skipped: 'the plan does not ask for push' };
  if (!input.pr) return { push };
  if (!push.pushed) return { push, pr: { skipped: `the branch was not pushed (${push.skipped})` } };
  return { push, pr: await openPr(input, input.pr) };
}
