// The git flow in whole runs, on the real dev server with a real worker and real git repositories
// (a clone of a local bare repository as the remote): two workstreams change different files on
// their branches, the gate is approved, both merge into main with the decision in the merge commits
// and main is pushed, pull requests skipped without a token; the same line changed twice puts the
// gate in attention naming the file, and a recheck after the person resolved it merges; a signed
// approval's key and signature go into the merge commits; rework keeps the branch; an abort
// removes the run's worktrees and branches; the example plan runs on the repository it makes itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { formatErrors, loadPlanFile } from '../../plan/load.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { execa } from 'execa';
import { gateOf, serverAddress, status, tempDir, useStack, workstreamOf } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';
import { keyDir, makeKey } from '../helpers/ssh.ts';

const stack = useStack();
delete process.env.GH_TOKEN; // "no token": pull requests are skipped with the reason
delete process.env.GITHUB_TOKEN;

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
  cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' },
}).trim();

async function repository(): Promise<{ repo: string; remote: string }> {
  const dir = await tempDir('sparky-gitflow-');
  const remote = path.join(dir, 'remote.git');
  git(dir, 'init', '--quiet', '--bare', '--initial-branch=main', remote);
  const repo = path.join(dir, 'repo');
  git(dir, 'clone', '--quiet', remote, repo);
  git(repo, 'checkout', '--quiet', '-B', 'main');
  for (const [f, text] of [['a.txt', 'a\n'], ['b.txt', 'b\n'], ['shared.txt', 'one\ntwo\nthree\n']]) writeFileSync(path.join(repo, f), text);
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  git(repo, 'push', '--quiet', 'origin', 'main');
  return { repo, remote };
}

/** A shell step in the repository (its worktree at run time) that writes `text` to `file`, committed. */
const write = (id: string, repo: string, file: string, text: string) =>
  ({ id, kind: 'shell' as const, cwd: repo, run: ['sh', '-c', `printf '${text}' > ${file}`], commit: `${id}: ${file}`, retry: { maximumAttempts: 1 } });

function plan(name: string, repo: string, a: object, b: object, approval: object = { approvers: ['alice', 'bob'], required: 1 }) {
  return {
    name, git: { repo, push: true, pr: { tool: 'gh' } },
    phases: [{
      id: 'build',
      domains: [{ id: 'd1', workstreams: [{ id: 'ws-a', steps: [a] }] }, { id: 'd2', workstreams: [{ id: 'ws-b', steps: [b] }] }],
      gate: { id: 'review', approval },
    }],
  };
}

async function start(p: object, id: string) {
  return stack.env.client.workflow.start('metaOrchestrator', { taskQueue: stack.taskQueue, workflowId: id, args: [{ plan: p, options: { cpuTaskQueue: stack.taskQueue } }] });
}

const atGate = (id: string) => eventually('the gate waiting', () => status(stack.env, id), (s) => gateOf(s, 'review').state === 'waiting');

test('two workstreams on their own branches: approved, both merged into main with the decision, main pushed, PRs skipped without a token', async () => {
  const { repo, remote } = await repository();
  const id = 'sparky-gitflow-ok-r1';
  const handle = await start(plan('gitflow-ok', repo, write('edit', repo, 'a.txt', 'A\\n'), write('edit', repo, 'b.txt', 'B\\n')), id);
  const waiting = await atGate(id);
  const g = waiting.phases[0].git!;
  assert.deepEqual(g.branches.map((b) => b.branch), ['sparky/gitflow-ok/r1/ws-a', 'sparky/gitflow-ok/r1/ws-b']);
  for (const b of g.branches) {
    assert.equal(b.push, 'pushed to origin');
    assert.equal(b.pr, 'skipped: no token: GH_TOKEN and GITHUB_TOKEN are not set on the worker');
    assert.equal(git(remote, 'rev-parse', b.branch), git(repo, 'rev-parse', b.branch), 'the branch is on the remote for review');
  }
  assert.match(workstreamOf(waiting, 'ws-a').steps[0].commit ?? '', /^[0-9a-f]{12}$/);
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'a\n', 'main is untouched before the gate');
  assert.equal(git(path.join(repo, '.sparky-worktrees', id, 'ws-a'), 'show', 'HEAD:a.txt'), 'A');

  await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'alice', decision: 'approve', comment: 'both look right' }] });
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  const done = await status(stack.env, id);
  assert.equal(done.phases[0].git?.merge?.state, 'merged');
  assert.equal(done.phases[0].git?.merge?.push, 'pushed to origin');
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'A\n');
  assert.equal(readFileSync(path.join(repo, 'b.txt'), 'utf8'), 'B\n');
  assert.equal(git(remote, 'rev-parse', 'main'), git(repo, 'rev-parse', 'main'));
  const merges = git(repo, 'log', '--merges', '--format=%B%x00', 'main').split('\0').map((m) => m.trim()).filter(Boolean);
  assert.equal(merges.length, 2);
  for (const m of merges) {
    assert.match(m, /^Merge sparky\/gitflow-ok\/r1\/ws-[ab] into main: workstream ws-[ab] \(gate review approved\)/);
    assert.match(m, /- alice: approve at \S+ via update: "both look right"/);
    assert.match(m, /Sparky-Run: sparky-gitflow-ok-r1\nSparky-Phase: build\nSparky-Gate: review\nSparky-Workstream: ws-[ab]\nApproved-by: alice/);
  }
  const graph = git(repo, 'log', '--graph', '--format=%s', 'main');
  assert.match(graph, /\*\s+Merge sparky\/gitflow-ok\/r1\/ws-b into main[^\n]*\n\|\\\s*\n\| \* edit: b\.txt\n\* \|\s+Merge sparky\/gitflow-ok\/r1\/ws-a into main/, graph);
});

test('a signed approval (sparky approve --key) goes into the merge commits with its key and signature', async () => {
  const { repo } = await repository();
  const alice = await makeKey(await keyDir(), 'alice');
  const id = 'sparky-gitflow-signed-r1';
  const p = plan('gitflow-signed', repo, write('edit', repo, 'a.txt', 'A\\n'), write('edit', repo, 'b.txt', 'B\\n'),
    { approvers: [{ name: 'alice', key: alice.line }] });
  const handle = await start(p, id);
  await atGate(id);
  const approved = await execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), 'approve', id, 'review', '--as', 'alice', '--key', alice.privateKey, '--comment', 'signed off'],
    { env: { TEMPORAL_ADDRESS: serverAddress(stack.env), TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default' }, reject: false });
  assert.equal(approved.exitCode, 0, approved.stderr + approved.stdout);
  assert.equal((await handle.result()).state, 'completed');
  const merge = git(repo, 'log', '--merges', '--format=%B', '-1', 'main');
  assert.match(merge, new RegExp(`- alice: approve at \\S+ via (update|signal): "signed off"\n  key ${alice.fingerprint.replace(/[+/]/g, '\\$&')}, signed at \\S+\n  -----BEGIN SSH SIGNATURE-----\n(  \\S+\n)+  -----END SSH SIGNATURE-----\n`));
});

test('the same line on two branches: the gate waits in attention naming the file; resolved on the branch, a recheck merges', async () => {
  const { repo } = await repository();
  const id = 'sparky-gitflow-conflict-r1';
  const handle = await start(plan('gitflow-conflict', repo,
    write('edit', repo, 'shared.txt', 'one\\nTWO from a\\nthree\\n'), write('edit', repo, 'shared.txt', 'one\\nTWO from b\\nthree\\n')), id);
  await atGate(id);
  await handle.signal('approveGate', { gate: 'review', approver: 'bob', comment: 'ok' });
  const s = await eventually('the merge conflict', () => status(stack.env, id), (r) => gateOf(r, 'review').state === 'merge-conflict');
  assert.equal(s.state, 'attention');
  assert.deepEqual(gateOf(s, 'review').mergeConflict, { workstreamId: 'ws-b', branch: 'sparky/gitflow-conflict/r1/ws-b', base: 'main', files: ['shared.txt'] });
  assert.match(s.waitingFor, /needs attention: gate review approved, but merging sparky\/gitflow-conflict\/r1\/ws-b \(workstream ws-b\) into main conflicts in shared\.txt/);
  assert.match(s.waitingFor, /sparky recheck sparky-gitflow-conflict-r1 review --as NAME/);
  assert.equal(git(repo, 'status', '--porcelain'), '', 'the failed merge was aborted');
  assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\nTWO from a\nthree\n', 'ws-a is merged already');

  const worktree = path.join(repo, '.sparky-worktrees', id, 'ws-b');
  assert.throws(() => git(worktree, 'merge', '--quiet', 'main'));
  writeFileSync(path.join(worktree, 'shared.txt'), 'one\nTWO from a and b\nthree\n');
  git(worktree, 'commit', '--quiet', '-am', 'resolve shared.txt');
  await handle.signal('recheckGate', { gate: 'review', by: 'bob' });
  assert.equal((await handle.result()).state, 'completed');
  assert.equal(readFileSync(path.join(repo, 'shared.txt'), 'utf8'), 'one\nTWO from a and b\nthree\n');
  const done = await status(stack.env, id);
  assert.equal(gateOf(done, 'review').state, 'approved');
  assert.equal(done.phases[0].git?.merge?.state, 'merged');
});

test('a rejection with rework keeps the branch: the reworked step commits again on it, and the approval merges both commits', async () => {
  const { repo } = await repository();
  const id = 'sparky-gitflow-rework-r1';
  const appendA = { id: 'edit', kind: 'shell' as const, cwd: repo, run: ['sh', '-c', 'echo more >> a.txt'], commit: 'edit: a.txt', retry: { maximumAttempts: 1 } };
  const handle = await start(plan('gitflow-rework', repo, appendA, write('edit', repo, 'b.txt', 'B\\n')), id);
  const first = await atGate(id);
  const branch = first.phases[0].git!.branches[0].branch;
  const tip = git(repo, 'rev-parse', branch);
  await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'alice', decision: 'reject', comment: 'more of a', rework: ['ws-a'] }] });
  await eventually('ws-a waiting for rework', () => status(stack.env, id), (s) => workstreamOf(s, 'ws-a').state === 'attention');
  assert.equal(git(repo, 'rev-parse', branch), tip, 'the branch survives the rejection');
  await handle.signal('retryStep', { step: 'ws-a/edit', by: 'alice' });
  await atGate(id);
  assert.equal(git(repo, 'rev-list', '--count', `${tip}..${branch}`), '1', 'the rework is a new commit on the same branch');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'bob', decision: 'approve' }] });
  assert.equal((await handle.result()).state, 'completed');
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'a\nmore\nmore\n');
  const merge = git(repo, 'log', '--merges', '--format=%B', '-1', '--grep', 'workstream ws-a', 'main');
  assert.match(merge, /- bob: approve at \S+ via update\n/);
  assert.doesNotMatch(merge, /alice/, 'the void rejection is not an approval of the merge');
});

test('aborting a run removes its worktrees and branches; main keeps what it had', async () => {
  const { repo } = await repository();
  const id = 'sparky-gitflow-abort-r1';
  const before = git(repo, 'rev-parse', 'main');
  const handle = await start(plan('gitflow-abort', repo, write('edit', repo, 'a.txt', 'A\\n'), write('edit', repo, 'b.txt', 'B\\n')), id);
  await atGate(id);
  assert.equal(git(repo, 'branch', '--list', 'sparky/*').split('\n').length, 2);
  await handle.signal('abort', { by: 'carol', reason: 'wrong plan' });
  const err = await handle.result().then(() => assert.fail('the run should end aborted'), (e) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.match(String(err.cause?.message), /git: removed 2 worktree\(s\) and 2 branch\(es\)/);
  assert.equal(git(repo, 'branch', '--list', 'sparky/*'), '');
  assert.equal(existsSync(path.join(repo, '.sparky-worktrees', id, 'ws-a')), false);
  assert.equal(git(repo, 'rev-parse', 'main'), before);
});

test('examples/git-flow.plan.yaml makes its repository, runs just steps in worktrees, merges at each gate; the release sees the merged work', async () => {
  const root = await tempDir('sparky-gitflow-example-');
  await cp(path.join(PROJECT_ROOT, 'examples'), path.join(root, 'examples'), { recursive: true, filter: (src) => !src.includes(path.join('git-flow', 'work')) && !src.endsWith(`${path.sep}out`) });
  const loaded = await loadPlanFile(path.join(root, 'examples', 'git-flow.plan.yaml'));
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  const id = 'sparky-git-flow-ex1';
  const handle = await start(loaded.plan!, id);
  const approve = async (gate: string) => {
    await eventually(`gate ${gate} waiting`, () => status(stack.env, id), (s) => gateOf(s, gate).state === 'waiting', 60_000);
    await handle.executeUpdate('decideGate', { args: [{ gate, approver: 'alice', decision: 'approve', comment: `${gate} ok` }] });
  };
  await approve('review');
  await approve('release');
  assert.equal((await handle.result()).state, 'completed');
  const repo = path.join(root, 'examples', 'git-flow', 'work', 'repo');
  assert.match(readFileSync(path.join(repo, 'README.md'), 'utf8'), /^# Sparky git-flow demo\n/);
  assert.ok(existsSync(path.join(repo, 'src', 'greet.py')));
  const changelog = readFileSync(path.join(repo, 'CHANGELOG.md'), 'utf8');
  assert.match(changelog, /- Merge sparky\/git-flow\/ex1\/code into main: workstream code \(gate review approved\)/, 'the release phase branched from the merged base');
  const s = await status(stack.env, id);
  const readme = workstreamOf(s, 'docs').steps[0];
  assert.equal(readme.kind, 'just');
  assert.match(readFileSync(readme.logPath!, 'utf8'), /just --justfile \S+git-flow\/justfile -- write-docs 'Sparky git-flow demo'/);
  const logs = await execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), 'logs', id, 'docs/readme'],
    { env: { TEMPORAL_ADDRESS: serverAddress(stack.env), TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default' }, reject: false });
  assert.equal(logs.exitCode, 0, logs.stderr);
  assert.match(logs.stdout, /-- write-docs 'Sparky git-flow demo'\n[\s\S]*\[exit code 0; ran /, 'sparky logs shows the recipe\'s run');
  assert.equal(s.phases[1].git?.branches.find((b) => b.workstreamId === 'docs')?.pr, 'skipped: no token: GH_TOKEN and GITHUB_TOKEN are not set on the worker');
  assert.equal(s.phases[0].git, undefined, 'the setup phase has no git workstream');
  assert.equal(git(path.join(root, 'examples', 'git-flow', 'work', 'origin.git'), 'rev-parse', 'main'), git(repo, 'rev-parse', 'main'));
});
