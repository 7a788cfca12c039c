// docs/operations.md's git-flow walk-through, as a person would do it, on the real stack: `git init`, a
// plan kept in the repository with a 2-of-2 gate whose approvers are known by real SSH keys (an
// allowed_signers file), `sparky validate` and `sparky run`; a step fails and `sparky status` names its
// worktree, branch and base and how to bring a fix in; the fix is committed in the worktree and the step
// retried; both approvers sign with `sparky approve --key`; main holds the merge with both signatures,
// and `sparky verify` passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { CPU_TASK_QUEUE } from '../../common/task-queues.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { keyDir, makeKey } from '../helpers/ssh.ts';
import { eventually } from '../helpers/wait.ts';
import { gateOf, serverAddress, tempDir, useStack, workstreamOf } from './helpers.ts';

const stack = useStack({ taskQueue: CPU_TASK_QUEUE }); // `sparky run` starts runs on the real queue name

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
  cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dana', GIT_AUTHOR_EMAIL: 'dana@example.com', GIT_COMMITTER_NAME: 'Dana', GIT_COMMITTER_EMAIL: 'dana@example.com' },
}).trim();

const sparky = (cwd: string, ...args: string[]) => execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), ...args],
  { cwd, reject: false, env: { TEMPORAL_ADDRESS: serverAddress(stack.env), TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default', SPARKY_USER: 'dana' } });

const statusOf = (id: string) => stack.env.client.workflow.getHandle(id).query<RunStatus>('status');

test('the git-flow walk-through: git init, a failing step fixed in its worktree and retried, a 2-of-2 signed merge', async () => {
  const repo = path.join(await tempDir('sparky-walkthrough-'), 'demo');
  git(path.dirname(repo), 'init', '--quiet', '--initial-branch=main', repo);
  writeFileSync(path.join(repo, 'app.py'), 'print("hello")\n');
  const keys = await keyDir();
  const [alice, bob] = await Promise.all([makeKey(keys, 'alice'), makeKey(keys, 'bob')]);
  writeFileSync(path.join(repo, 'allowed_signers'), `alice ${alice.line}\nbob ${bob.line}\n`);
  writeFileSync(path.join(repo, 'sparky.plan.yaml'), `name: demo
git: { repo: . }
allowedSigners: allowed_signers
phases:
  - id: build
    domains:
      - id: app
        workstreams:
          - id: greet
            steps:
              - { id: write, kind: shell, run: [sh, -c, "python3 app.py > greeting.txt"], commit: "greet: the greeting" }
              - { id: check, kind: shell, run: [sh, -c, "grep -q hello greeting.txt && test -f VERSION"], retry: { maximumAttempts: 1 } }
    gate:
      id: review
      approval: { approvers: [alice, bob], required: 2 }
`);
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'demo: app and plan');

  const validated = await sparky(repo, 'validate', 'sparky.plan.yaml');
  assert.equal(validated.exitCode, 0, validated.stderr);
  const started = await sparky(repo, 'run', 'sparky.plan.yaml');
  assert.equal(started.exitCode, 0, started.stderr);
  const run = /started (\S+)/.exec(started.stdout)?.[1] ?? assert.fail(started.stdout);

  const failed = await eventually('greet in attention', () => statusOf(run), (s) => workstreamOf(s, 'greet').state === 'attention', 60_000);
  const worktree = path.join(repo, '.sparky-worktrees', run, 'greet');
  const branch = `sparky/demo/${run.slice('sparky-demo-'.length)}/greet`;
  const base = git(repo, 'rev-parse', 'main');
  assert.match(workstreamOf(failed, 'greet').steps[0].commit ?? '', /^[0-9a-f]{12}$/, 'write committed greeting.txt on the branch');
  const shown = await sparky(repo, 'status', run);
  assert.equal(shown.exitCode, 0, shown.stderr);
  assert.match(shown.stdout, /needs attention: greet\/check failed/);
  assert.ok(shown.stdout.includes(`where: in the worktree ${worktree}, on branch ${branch}, made from main @ ${base.slice(0, 12)} when the phase started`), shown.stdout);
  assert.ok(shown.stdout.includes(`bring a fix in: commit it in the worktree (\`git -C ${worktree} commit -am "fix"\`) or merge it from main (\`git -C ${worktree} merge main\`), then retry`), shown.stdout);

  // The fix, in the worktree; then the retry.
  writeFileSync(path.join(worktree, 'VERSION'), '1.0\n');
  git(worktree, 'add', 'VERSION');
  git(worktree, 'commit', '--quiet', '-m', 'add VERSION');
  const retried = await sparky(repo, 'retry', run, 'greet/check', '--as', 'alice', '--comment', 'VERSION added in the worktree');
  assert.equal(retried.exitCode, 0, retried.stderr);
  await eventually('review waiting', () => statusOf(run), (s) => gateOf(s, 'review').state === 'waiting', 60_000);

  for (const [who, key, comment] of [['alice', alice.privateKey, ['--comment', 'looks right']], ['bob', bob.privateKey, []]] as const) {
    const approved = await sparky(repo, 'approve', run, 'review', '--as', who, '--key', key, ...comment);
    assert.equal(approved.exitCode, 0, approved.stderr + approved.stdout);
  }
  const result = await stack.env.client.workflow.getHandle(run).result() as { state: string };
  assert.equal(result.state, 'completed');
  assert.equal(readFileSync(path.join(repo, 'greeting.txt'), 'utf8'), 'hello\n');
  assert.equal(readFileSync(path.join(repo, 'VERSION'), 'utf8'), '1.0\n');
  const merge = git(repo, 'log', '--merges', '-1', '--format=%B', 'main');
  assert.match(merge, new RegExp(`^Merge ${branch} into main: workstream greet \\(gate review approved\\)`));
  for (const k of [alice, bob]) assert.ok(merge.includes(`key ${k.fingerprint}, signed at `), `${k.name}'s signature in the merge commit`);
  assert.match(merge, /Approved-by: alice\nApproved-by: bob/);
  const verified = await sparky(repo, 'verify', run);
  assert.equal(verified.exitCode, 0, verified.stdout + verified.stderr);
});
