// A small git repository to work in (the agent tests and the agent benchmark): `main` with one commit
// (README.md, a .gitignore), made with the real git under a fixed identity, so runs do not depend on
// the machine's git configuration.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const IDENTITY = { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x' };

/** Runs git in `cwd` under the fixed identity; its output, trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
}

/** `<parent>/repo`: a new repository on `main` with its first commit ("initial"). */
export function newRepository(parent: string): string {
  const repo = path.join(parent, 'repo');
  mkdirSync(parent, { recursive: true });
  git(parent, 'init', '--quiet', '--initial-branch=main', repo);
  writeFileSync(path.join(repo, 'README.md'), '# demo\n');
  writeFileSync(path.join(repo, '.gitignore'), '__pycache__/\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  return repo;
}

/** The tree of everything in `dir`'s working tree, tracked or not (a scratch index: the worktree's own is left alone). */
export function worktreeTree(dir: string, scratch: string): string {
  const env = { ...process.env, GIT_INDEX_FILE: path.join(scratch, `tree-${process.pid}.index`) };
  execFileSync('git', ['read-tree', '--empty'], { cwd: dir, env });
  execFileSync('git', ['add', '--all'], { cwd: dir, env });
  return execFileSync('git', ['write-tree'], { cwd: dir, env, encoding: 'utf8' }).trim();
}
