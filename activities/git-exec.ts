// Running git for the git-flow activities: argv only, no pager or prompts, a fixed identity when the
// machine has none, and failures as ApplicationFailures that say which command failed and why.
// Git operations are short, so they heartbeat once before and after, not while running.
import { ApplicationFailure } from '@temporalio/common';
import { execa } from 'execa';
import { GIT_FAILURES } from '../common/git-types.ts';
import { currentActivity } from './context.ts';

export interface GitOutcome { exitCode: number; stdout: string; stderr: string }

const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0', // never wait for a password on a worker
  GIT_PAGER: 'cat',
  LC_ALL: 'C',              // messages parsed below are the English ones
};

/** `git <args>` in `cwd`; never throws for a non-zero exit (see `git` for that). */
export async function gitRaw(cwd: string, args: string[], env: Record<string, string> = {}): Promise<GitOutcome> {
  currentActivity()?.heartbeat();
  const r = await execa('git', args, { cwd, env: { ...GIT_ENV, ...env }, reject: false, stdin: 'ignore', timeout: 10 * 60_000 });
  if (r.failed && r.exitCode === undefined) {
    throw ApplicationFailure.nonRetryable(`git ${args[0]} could not run in ${cwd}: ${r.shortMessage}`, GIT_FAILURES.command);
  }
  return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** `git <args>`: stdout, or a (retryable) GitCommandFailed naming the command and git's message. */
export async function git(cwd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await gitRaw(cwd, args, env);
  if (r.exitCode !== 0) throw commandFailure(cwd, args, r);
  return r.stdout;
}

export function commandFailure(cwd: string, args: string[], r: GitOutcome, type: string = GIT_FAILURES.command, nonRetryable = false): ApplicationFailure {
  const said = (r.stderr || r.stdout).trim().split('\n').slice(-6).join('\n');
  return ApplicationFailure.create({ message: `git ${args.join(' ')} (in ${cwd}) exited with ${r.exitCode}: ${said}`, type, nonRetryable });
}

/** Identity flags for commits when this machine has no user.name/user.email configured. */
export async function identity(cwd: string): Promise<string[]> {
  const name = (await gitRaw(cwd, ['config', 'user.name'])).stdout.trim();
  const email = (await gitRaw(cwd, ['config', 'user.email'])).stdout.trim();
  return [...(name ? [] : ['-c', 'user.name=Sparky']), ...(email ? [] : ['-c', 'user.email=sparky@localhost'])];
}

/** The repository's common git directory (shared by all its worktrees), absolute. */
export async function commonDir(repo: string): Promise<string> {
  const r = await gitRaw(repo, ['rev-parse', '--path-format=absolute', '--git-common-dir']);
  if (r.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(`${repo} is not a git repository (plan git.repo): ${r.stderr.trim().split('\n')[0]}`, GIT_FAILURES.notARepo);
  }
  return r.stdout.trim();
}

/** Paths git lists one per line, empty lines dropped. */
export const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
