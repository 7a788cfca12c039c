// The git flow's activities on a real worker against the real dev server, with real git repositories
// (a clone of a local bare repository as the remote): a branch and worktree per workstream from the
// base as of the phase start, idempotent commits, merges in dependency order carrying the gate's
// decision, a conflict naming its files then resolved and retried, pushes (and PRs skipped without a
// token), rework resetting branches and worktrees to the phase base, and clean-up on abort.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../../activities/index.ts';
import type {
  GateDecisionRecord, GitActivities, GitCommitResult, GitMergeConflictDetails, GitMergeResult, GitPrepareResult, GitPublishResult, GitRemoveResult,
  GitResetResult,
} from '../../common/git-types.ts';
import { branchName } from '../../common/git-flow.ts';
import { createWorker, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { failureOf } from './harness.ts';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
before(async () => {
  delete process.env.GH_TOKEN; // "no token" is part of what these tests check
  delete process.env.GITHUB_TOKEN;
  env = await startDevServer();
  taskQueue = uniqueTaskQueue('git');
  worker = await createWorker(env, {
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../fixtures/workflows/git-steps.ts', import.meta.url)),
    activities: createActivities({ logDir: mkdtempSync(path.join(os.tmpdir(), 'sparky-git-logs-')) }),
  });
  running = worker.run();
});
after(async () => { worker?.shutdown(); await running; await env?.teardown(); });

function call<K extends keyof GitActivities>(name: K, input: Parameters<GitActivities[K]>[0]): ReturnType<GitActivities[K]> {
  return env.client.workflow.execute('gitFixture', { taskQueue, workflowId: `git-${name}-${randomUUID().slice(0, 8)}`, args: [{ name, input }] }) as ReturnType<GitActivities[K]>;
}

const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' } }).trim();

/** A bare "remote" and a clone of it with main: README, a.txt, b.txt, shared.txt. */
function repository(): { repo: string; remote: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-git-'));
  const remote = path.join(dir, 'remote.git');
  sh(dir, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const repo = path.join(dir, 'repo');
  sh(dir, 'clone', '--quiet', remote, repo);
  sh(repo, 'checkout', '--quiet', '-B', 'main');
  for (const [f, text] of [['README', 'project\n'], ['a.txt', 'a\n'], ['b.txt', 'b\n'], ['shared.txt', 'one\ntwo\nthree\n']]) writeFileSync(path.join(repo, f), text);
  sh(repo, 'add', '.');
  sh(repo, 'commit', '--quiet', '-m', 'initial');
  sh(repo, 'push', '--quiet', 'origin', 'main');
  return { repo, remote };
}

const runId = () => `sparky-demo-${randomUUID().slice(0, 6)}`;
const ctxOf = (run: string, workstreamId: string) => ({ planName: 'demo', runWorkflowId: run, phaseId: 'build', domainId: 'd', workstreamId });
const decision: GateDecisionRecord = {
  gateId: 'review', decidedAt: '2026-11-30T12:00:00.000Z', required: 2,
  entries: [
    { approver: 'alice', decision: 'approve', at: '2026-11-30T11:59:00.000Z', surface: 'update', comment: 'ship it' },
    { approver: 'bob', decision: 'approve', at: '2026-11-30T12:00:00.000Z', surface: 'signal', signature: '-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----' },
  ],
  checks: [{ id: 'tests', passed: true, message: 'exit code 0' }],
};

async function workstream(repo: string, run: string, id: string, startPoint: string): Promise<GitPrepareResult> {
  return call('gitPrepareWorkstream', { repo, branch: branchName('sparky/{plan}/{run}/{workstream}', ctxOf(run, id)), startPoint, runWorkflowId: run, workstreamId: id });
}

test('two workstreams on their own branches and worktrees, committed idempotently, merged at the gate with its decision, pushed', async () => {
  const { repo, remote } = repository();
  const run = runId();
  const { commit: start } = await call('gitPhaseBase', { repo, base: 'main' });
  const a = await workstream(repo, run, 'ws-a', start);
  const b = await workstream(repo, run, 'ws-b', start);
  assert.equal(a.branch, `sparky/demo/${run.slice('sparky-demo-'.length)}/ws-a`);
  assert.equal(a.created, true);
  assert.equal(a.head, start);
  assert.equal(a.worktree, path.join(repo, '.sparky-worktrees', run, 'ws-a'));
  assert.equal(sh(a.worktree, 'branch', '--show-current'), a.branch);
  // A retry (or rework) finds the branch and worktree as they are.
  const again = await workstream(repo, run, 'ws-a', start);
  assert.deepEqual({ ...again, created: true }, a);
  assert.equal(again.created, false);

  writeFileSync(path.join(a.worktree, 'a.txt'), 'a, changed by ws-a\n');
  writeFileSync(path.join(a.worktree, 'new-a.txt'), 'new\n');
  const key = `${run}/ws-a/edit`;
  const first = await call('gitCommitStep', { worktree: a.worktree, message: 'ws-a: edit a', idempotencyKey: key }) as GitCommitResult;
  assert.equal(first.committed, true);
  assert.deepEqual(first.files, ['a.txt', 'new-a.txt']);
  const retry = await call('gitCommitStep', { worktree: a.worktree, message: 'ws-a: edit a', idempotencyKey: key }) as GitCommitResult;
  assert.deepEqual(retry, { committed: false, commit: first.commit, files: ['a.txt', 'new-a.txt'], reason: 'already committed by an earlier attempt of this step' });
  assert.equal(sh(a.worktree, 'rev-list', '--count', `${start}..HEAD`), '1', 'one commit, however often the step is retried');
  assert.match(sh(a.worktree, 'log', '-1', '--format=%B'), new RegExp(`^ws-a: edit a\n\nSparky-Step: ${key}$`));
  const nothing = await call('gitCommitStep', { worktree: b.worktree, message: 'nothing', idempotencyKey: `${run}/ws-b/none` }) as GitCommitResult;
  assert.deepEqual(nothing, { committed: false, files: [], reason: 'the step changed nothing in its worktree' });
  writeFileSync(path.join(b.worktree, 'b.txt'), 'b, changed by ws-b\n');
  await call('gitCommitStep', { worktree: b.worktree, message: 'ws-b: edit b', idempotencyKey: `${run}/ws-b/edit` });
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'a\n', 'the base checkout is untouched until the gate');
  assert.equal(sh(repo, 'status', '--porcelain'), '', 'worktrees inside .git do not show in the repository\'s status');

  const publish = await call('gitPublishBranch', { repo, branch: a.branch, base: 'main', remote: 'origin', push: true, pr: { draft: false, title: 'ws-a', body: 'ws-a' } }) as GitPublishResult;
  assert.deepEqual(publish, { push: { pushed: true, remote: 'origin', refs: [a.branch] }, pr: { skipped: 'no token: GH_TOKEN and GITHUB_TOKEN are not set on the worker' } });
  assert.equal(sh(remote, 'rev-parse', a.branch), sh(repo, 'rev-parse', a.branch));

  const merge = await call('gitMergePhase', {
    repo, base: 'main', runWorkflowId: run, phaseId: 'build', decision, push: { remote: 'origin' },
    branches: [{ workstreamId: 'ws-a', branch: a.branch }, { workstreamId: 'ws-b', branch: b.branch }],
  }) as GitMergeResult;
  assert.deepEqual(merge.merged.map((m) => [m.workstreamId, m.alreadyMerged]), [['ws-a', false], ['ws-b', false]]);
  assert.deepEqual(merge.push, { pushed: true, remote: 'origin', refs: ['main'] });
  assert.equal(sh(remote, 'rev-parse', 'main'), merge.head);
  assert.equal(sh(repo, 'rev-parse', 'HEAD'), merge.head, 'the base checkout moved with the merge');
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'a, changed by ws-a\n');
  assert.equal(readFileSync(path.join(repo, 'b.txt'), 'utf8'), 'b, changed by ws-b\n');
  const message = sh(repo, 'log', '-1', '--format=%B', merge.merged[0].commit);
  assert.equal(message, [
    `Merge ${a.branch} into main: workstream ws-a (gate review approved)`, '',
    'Gate review of phase build approved at 2026-11-30T12:00:00.000Z (2 of 2 required).',
    '- alice: approve at 2026-11-30T11:59:00.000Z via update: "ship it"',
    '- bob: approve at 2026-11-30T12:00:00.000Z via signal',
    '  -----BEGIN SSH SIGNATURE-----', '  U1NIU0lH', '  -----END SSH SIGNATURE-----', '',
    'Checks:', '- tests: passed (exit code 0)', '',
    `Sparky-Run: ${run}`, 'Sparky-Phase: build', 'Sparky-Gate: review', 'Sparky-Workstream: ws-a', 'Approved-by: alice', 'Approved-by: bob',
  ].join('\n'));
  const graph = sh(repo, 'log', '--graph', '--format=%s', 'main');
  assert.match(graph, /^\*\s+Merge sparky\/demo\/\S+\/ws-b into main: workstream ws-b \(gate review approved\)\n\|\\\s*\n\| \* ws-b: edit b\n\* \|\s+Merge sparky\/demo\/\S+\/ws-a into main/);
  // The next phase starts from the merged base.
  const next = await call('gitPhaseBase', { repo, base: 'main' });
  assert.equal(next.commit, merge.head);
  // Merging again (a retried activity) changes nothing.
  const twice = await call('gitMergePhase', { repo, base: 'main', runWorkflowId: run, phaseId: 'build', decision, branches: [{ workstreamId: 'ws-a', branch: a.branch }, { workstreamId: 'ws-b', branch: b.branch }] }) as GitMergeResult;
  assert.deepEqual([twice.head, twice.merged.every((m) => m.alreadyMerged)], [merge.head, true]);

  const removed = await call('gitRemoveRun', { repo, runWorkflowId: run, branches: [a.branch, b.branch] }) as GitRemoveResult;
  assert.deepEqual(removed.deletedBranches, [a.branch, b.branch]);
  assert.equal(removed.removedWorktrees.length, 2);
  assert.equal(existsSync(a.worktree), false);
  assert.equal(sh(repo, 'branch', '--list', 'sparky/*'), '');
  assert.equal(sh(repo, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length, 1);
  assert.equal(sh(repo, 'rev-parse', 'main'), merge.head, 'the base keeps what was merged');
});

test('the same line changed on two branches: the merge fails naming the file; resolved on the branch, a retry merges', async () => {
  const { repo } = repository();
  const run = runId();
  const { commit: start } = await call('gitPhaseBase', { repo, base: 'main' });
  const a = await workstream(repo, run, 'ws-a', start);
  const b = await workstream(repo, run, 'ws-b', start);
  writeFileSync(path.join(a.worktree, 'shared.txt'), 'one\nTWO from a\nthree\n');
  writeFileSync(path.join(b.worktree, 'shared.txt'), 'one\nTWO from b\nthree\n');
  await call('gitCommitStep', { worktree: a.worktree, message: 'a edits line 2', idempotencyKey: `${run}/ws-a/s` });
  await call('gitCommitStep', { worktree: b.worktree, message: 'b edits line 2', idempotencyKey: `${run}/ws-b/s` });
  const branches = [{ workstreamId: 'ws-a', branch: a.branch }, { workstreamId: 'ws-b', branch: b.branch }];
  const failure = await failureOf(call('gitMergePhase', { repo, base: 'main', runWorkflowId: run, phaseId: 'build', decision, branches }));
  assert.equal(failure.type, 'GitMergeConflict');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, new RegExp(`^merging ${b.branch} \\(workstream ws-b\\) into main conflicts in shared.txt: resolve it`));
  const details = failure.details?.[0] as GitMergeConflictDetails;
  assert.deepEqual(details, { workstreamId: 'ws-b', branch: b.branch, base: 'main', files: ['shared.txt'], merged: [a.branch] });
  assert.equal(sh(repo, 'status', '--porcelain'), '', 'the failed merge was aborted: the base checkout is clean');
  assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\nTWO from a\nthree\n', 'ws-a stays merged');

  // A person resolves it on ws-b's branch, in its worktree.
  assert.throws(() => sh(b.worktree, 'merge', '--quiet', 'main'));
  writeFileSync(path.join(b.worktree, 'shared.txt'), 'one\nTWO from a and b\nthree\n');
  sh(b.worktree, 'commit', '--quiet', '-am', 'resolve shared.txt');
  const merge = await call('gitMergePhase', { repo, base: 'main', runWorkflowId: run, phaseId: 'build', decision, branches }) as GitMergeResult;
  assert.deepEqual(merge.merged.map((m) => [m.workstreamId, m.alreadyMerged]), [['ws-a', true], ['ws-b', false]]);
  assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\nTWO from a and b\nthree\n');
  assert.equal(merge.push, undefined);
});

test('a base that is not checked out moves by compare-and-swap from a temporary worktree; no remote → push skipped with the reason', async () => {
  const { repo } = repository();
  sh(repo, 'remote', 'remove', 'origin');
  sh(repo, 'checkout', '--quiet', '-b', 'elsewhere');
  const run = runId();
  const { commit: start } = await call('gitPhaseBase', { repo, base: 'main' });
  const a = await workstream(repo, run, 'ws-a', start);
  writeFileSync(path.join(a.worktree, 'a.txt'), 'changed\n');
  await call('gitCommitStep', { worktree: a.worktree, message: 'edit', idempotencyKey: `${run}/ws-a/s` });
  const merge = await call('gitMergePhase', { repo, base: 'main', runWorkflowId: run, phaseId: 'build', decision, branches: [{ workstreamId: 'ws-a', branch: a.branch }], push: { remote: 'origin' } }) as GitMergeResult;
  assert.deepEqual(merge.push, { pushed: false, skipped: `no remote "origin" in ${repo}` });
  assert.equal(sh(repo, 'rev-parse', 'main'), merge.head);
  assert.equal(sh(repo, 'show', 'main:a.txt'), 'changed');
  assert.equal(sh(repo, 'branch', '--show-current'), 'elsewhere', 'the checkout on another branch is left alone');
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'a\n');
  assert.equal(existsSync(path.join(repo, '.sparky-worktrees', run, '_merge-build')), false, 'the temporary worktree is gone');
  const publish = await call('gitPublishBranch', { repo, branch: a.branch, base: 'main', remote: 'origin', push: true, pr: { draft: true, title: 't', body: 'b' } }) as GitPublishResult;
  assert.deepEqual(publish, { push: { pushed: false, skipped: `no remote "origin" in ${repo}` }, pr: { skipped: `the branch was not pushed (no remote "origin" in ${repo})` } });
});

test('bad input is named: a missing base, an invalid branch, a dirty base checkout, not a repository', async () => {
  const { repo } = repository();
  const missing = await failureOf(call('gitPhaseBase', { repo, base: 'trunk' }));
  assert.deepEqual([missing.type, missing.message], ['GitBaseMissing', `the base branch "trunk" does not exist in ${repo} (plan git.base): create it, or name another`]);
  const notRepo = await failureOf(call('gitPhaseBase', { repo: os.tmpdir(), base: 'main' }));
  assert.equal(notRepo.type, 'GitNotARepository');
  const run = runId();
  const start = sh(repo, 'rev-parse', 'main');
  const invalid = await failureOf(call('gitPrepareWorkstream', { repo, branch: 'sparky/bad..name', startPoint: start, runWorkflowId: run, workstreamId: 'w' }));
  assert.equal(invalid.type, 'GitBranchInvalid');
  const a = await workstream(repo, run, 'ws-a', start);
  writeFileSync(path.join(a.worktree, 'a.txt'), 'x\n');
  await call('gitCommitStep', { worktree: a.worktree, message: 'edit', idempotencyKey: `${run}/ws-a/s` });
  writeFileSync(path.join(repo, 'README'), 'local edit\n');
  const dirty = await failureOf(call('gitMergePhase', { repo, base: 'main', runWorkflowId: run, phaseId: 'p', decision, branches: [{ workstreamId: 'ws-a', branch: a.branch }] }));
  assert.equal(dirty.type, 'GitBaseDirty');
  assert.match(dirty.message, /has uncommitted changes: README; commit or stash them, then retry the merge/);
});

test('rework resets a branch and its worktree to the phase base (old head reported, idempotent); the commit after it claims nothing old; a reset branch force-pushes; one checked out elsewhere is refused', async () => {
  const { repo, remote } = repository();
  const run = runId();
  const { commit: start } = await call('gitPhaseBase', { repo, base: 'main' });
  const a = await workstream(repo, run, 'ws-a', start);
  const b = await workstream(repo, run, 'ws-b', start);
  writeFileSync(path.join(a.worktree, 'a.txt'), 'rejected\n');
  const key = `${run}/ws-a/edit`;
  const rejected = await call('gitCommitStep', { worktree: a.worktree, message: 'edit', idempotencyKey: key, since: start }) as GitCommitResult;
  await call('gitPublishBranch', { repo, branch: a.branch, base: 'main', remote: 'origin', push: true });
  writeFileSync(path.join(a.worktree, 'untracked.txt'), 'x\n');
  writeFileSync(path.join(b.worktree, 'b.txt'), 'b rejected\n');
  await call('gitCommitStep', { worktree: b.worktree, message: 'edit b', idempotencyKey: `${run}/ws-b/edit`, since: start });
  sh(repo, 'worktree', 'remove', '--force', b.worktree); // ws-b's worktree is gone: its branch alone is reset
  const branches = [{ workstreamId: 'ws-a', branch: a.branch }, { workstreamId: 'ws-b', branch: b.branch }, { workstreamId: 'ws-c', branch: 'sparky/demo/none/ws-c' }];
  const reset = await call('gitResetWorkstreams', { repo, runWorkflowId: run, baseCommit: start, branches }) as GitResetResult;
  assert.deepEqual(reset.reset.map((r) => [r.workstreamId, r.oldHead === undefined ? undefined : r.oldHead === start ? 'base' : 'moved', r.discarded, r.changed]), [
    ['ws-a', 'moved', ['?? untracked.txt'], true], ['ws-b', 'moved', [], true], ['ws-c', undefined, [], false],
  ]);
  assert.equal(reset.reset[0].oldHead, rejected.commit);
  assert.deepEqual([sh(repo, 'rev-parse', a.branch), sh(repo, 'rev-parse', b.branch)], [start, start]);
  assert.equal(sh(a.worktree, 'status', '--porcelain'), '');
  assert.equal(readFileSync(path.join(a.worktree, 'a.txt'), 'utf8'), 'a\n');
  const again = await call('gitResetWorkstreams', { repo, runWorkflowId: run, baseCommit: start, branches }) as GitResetResult;
  assert.deepEqual(again.reset.map((r) => r.changed), [false, false, false], 'a retried reset changes nothing');
  // The rerun changes nothing: the rejected commit (same step, same key) is not claimed.
  const nothing = await call('gitCommitStep', { worktree: a.worktree, message: 'edit', idempotencyKey: key, since: start }) as GitCommitResult;
  assert.deepEqual(nothing, { committed: false, files: [], reason: 'the step changed nothing in its worktree' });
  // The rerun's new commit replaces the rejected one on the remote (the branch went backwards: lease-protected force).
  writeFileSync(path.join(a.worktree, 'a.txt'), 'better\n');
  await call('gitCommitStep', { worktree: a.worktree, message: 'edit', idempotencyKey: key, since: start });
  const pushed = await call('gitPublishBranch', { repo, branch: a.branch, base: 'main', remote: 'origin', push: true }) as GitPublishResult;
  assert.equal(pushed.push.pushed, true);
  assert.equal(sh(remote, 'rev-parse', a.branch), sh(repo, 'rev-parse', a.branch));
  // A merge of a branch with no commit beyond the base says so.
  const merge = await call('gitMergePhase', { repo, base: 'main', runWorkflowId: run, phaseId: 'build', decision, baseCommit: start, branches: branches.slice(0, 2) }) as GitMergeResult;
  assert.deepEqual(merge.merged.map((m) => [m.workstreamId, m.alreadyMerged, m.empty ?? false]), [['ws-a', false, false], ['ws-b', true, true]]);
  // A branch a person checked out elsewhere is not reset under them.
  const elsewhere = path.join(mkdtempSync(path.join(os.tmpdir(), 'sparky-git-other-')), 'wt');
  sh(repo, 'worktree', 'add', '--quiet', elsewhere, b.branch);
  const refused = await failureOf(call('gitResetWorkstreams', { repo, runWorkflowId: run, baseCommit: start, branches: branches.slice(1, 2) }));
  assert.equal(refused.type, 'GitBranchInvalid');
  assert.equal(refused.nonRetryable, true);
  assert.match(refused.message, new RegExp(`rework must reset ${b.branch} \\(workstream ws-b\\) to the phase's base ${start.slice(0, 12)}, but it is checked out in ${elsewhere}`));
});
