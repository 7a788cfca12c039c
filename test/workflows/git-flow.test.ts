// The git flow in whole runs, on the real dev server with a real worker and real git repositories
// (a clone of a local bare repository as the remote): two workstreams change different files on
// their branches, the gate is approved, both merge into main with the decision in the merge commits
// and main is pushed, pull requests skipped without a token; the same line changed twice puts the
// gate in attention naming the file, and a recheck after the person resolved it merges; a signed
// approval's key and signature go into the merge commits; rework resets the reopened branches to the
// phase base (rejected commits never merge); a phase with nothing to merge says so; a committing step
// outside the repository is refused; a failing step names its worktree, branch and base and how to
// bring a fix in; an abort removes the run's worktrees and branches; the example plan runs on the
// repository it makes itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { formatErrors, loadPlanFile } from '../../plan/load.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { execa } from 'execa';
import { gateOf, serverAddress, status, tempDir, useStack, workstreamOf } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';
import { keyDir, makeKey } from '../helpers/ssh.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';

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

/** `git merge-base --is-ancestor`: whether `ref`'s history holds `commit`. */
const contains = (repo: string, commit: string, ref: string) =>
  spawnSync('git', ['merge-base', '--is-ancestor', commit, ref], { cwd: repo }).status === 0;

/** The real `sparky` CLI against the test server. */
const sparky = (args: string[]) => execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), ...args],
  { env: { TEMPORAL_ADDRESS: serverAddress(stack.env), TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default' }, reject: false });

test('a rejection with rework resets the reopened branches and worktrees to the phase base: rejected commits never merge; a rerun that changes nothing says so', async () => {
  const { repo, remote } = await repository();
  const marks = await tempDir('sparky-gitflow-marks-');
  const id = 'sparky-gitflow-rework-r1';
  // The first run of each step makes the change the reviewer rejects; after the rework ws-a changes nothing, ws-b something else.
  const firstThen = (ws: string, first: string, then: string) => ({
    id: 'edit', kind: 'shell' as const, cwd: repo, commit: `edit: ${ws}`, retry: { maximumAttempts: 1 },
    run: ['sh', '-c', `if [ ! -e ${marks}/${ws} ]; then touch ${marks}/${ws}; ${first}; else ${then}; fi`],
  });
  const handle = await start(plan('gitflow-rework', repo,
    firstThen('ws-a', "printf 'rejected a\\n' > a.txt", 'true'), firstThen('ws-b', "printf 'rejected b\\n' > b.txt", "printf 'c\\n' > c.txt")), id);
  const first = await atGate(id);
  const { baseCommit, branches } = first.phases[0].git!;
  const [branchA, branchB] = branches.map((b) => b.branch);
  const rejectedA = git(repo, 'rev-parse', branchA);
  const rejectedB = git(repo, 'rev-parse', branchB);
  assert.notEqual(rejectedA, baseCommit);
  assert.equal(git(remote, 'rev-parse', branchB), rejectedB, 'the rejected work was pushed for review');
  const worktreeA = path.join(repo, '.sparky-worktrees', id, 'ws-a');
  writeFileSync(path.join(worktreeA, 'scratch.txt'), 'left over\n'); // uncommitted: goes with the rejected work

  const rejected = await sparky(['reject', id, 'review', '--as', 'alice', '--reason', 'not like this', '--rework', 'ws-a,ws-b']);
  assert.equal(rejected.exitCode, 0, rejected.stderr + rejected.stdout);
  const reworking = await eventually('both waiting for rework', () => status(stack.env, id),
    (s) => workstreamOf(s, 'ws-a').state === 'attention' && workstreamOf(s, 'ws-b').state === 'attention');
  assert.equal(git(repo, 'rev-parse', branchA), baseCommit, 'the branch is back at the phase base');
  assert.equal(git(repo, 'rev-parse', branchB), baseCommit);
  assert.equal(git(worktreeA, 'status', '--porcelain'), '', 'and its worktree with it');
  assert.equal(readFileSync(path.join(worktreeA, 'a.txt'), 'utf8'), 'a\n');
  assert.deepEqual(reworking.phases[0].git!.branches.map((b) => b.resets?.map((r) => [r.from, r.reason, r.discarded])), [
    [[rejectedA, 'rework requested by alice: not like this', ['?? scratch.txt']]],
    [[rejectedB, 'rework requested by alice: not like this', undefined]],
  ], 'the audit keeps what each branch held');

  for (const ws of ['ws-a', 'ws-b']) assert.equal((await sparky(['retry', id, `${ws}/edit`, '--as', 'alice'])).exitCode, 0);
  const again = await atGate(id);
  assert.equal(workstreamOf(again, 'ws-a').steps[0].commit, 'nothing committed: the step changed nothing in its worktree',
    'the rerun claims no commit of the rejected round');
  assert.match(workstreamOf(again, 'ws-b').steps[0].commit ?? '', /^[0-9a-f]{12}$/);
  assert.equal(git(remote, 'rev-parse', branchB), git(repo, 'rev-parse', branchB), 'the reset branch replaced the rejected one on the remote');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'bob', decision: 'approve' }] });
  assert.equal((await handle.result()).state, 'completed');

  for (const commit of [rejectedA, rejectedB]) assert.equal(contains(repo, commit, 'main'), false, `main holds the rejected ${commit}`);
  assert.doesNotMatch(git(repo, 'log', '--format=%H', 'main'), new RegExp(`${rejectedA}|${rejectedB}`));
  assert.deepEqual(['a.txt', 'b.txt', 'c.txt'].map((f) => readFileSync(path.join(repo, f), 'utf8')), ['a\n', 'b\n', 'c\n']);
  const done = await status(stack.env, id);
  assert.equal(done.phases[0].git?.merge?.state, 'merged');
  assert.deepEqual(done.phases[0].git?.merge?.nothingFrom, ['ws-a']);
  assert.deepEqual(Object.keys(done.phases[0].git?.merge?.commits ?? {}), ['ws-b']);
  const text = await sparky(['status', id]);
  assert.equal(text.exitCode, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`ws-a +${branchA}[^\n]*\n +reset to ${baseCommit.slice(0, 12)} at \\S+ \\(was ${rejectedA.slice(0, 12)}, 1 uncommitted change discarded\\): rework requested by alice: not like this`));
  assert.match(text.stdout, /merge: merged → [0-9a-f]{12}[^\n]*\(nothing to merge from ws-a\)/);
});

test('a phase whose branches have nothing to merge says so (status and sparky status), and the base does not move', async () => {
  const { repo } = await repository();
  const id = 'sparky-gitflow-nothing-r1';
  const before = git(repo, 'rev-parse', 'main');
  const p = { name: 'gitflow-nothing', git: { repo }, phases: [{ id: 'build', domains: [{ id: 'd', workstreams: [
    { id: 'ws-a', steps: [{ id: 'check', kind: 'shell', cwd: repo, run: ['true'], commit: 'check: nothing to change' }] }] }] }] };
  assert.equal((await (await start(p, id)).result()).state, 'completed');
  const s = await status(stack.env, id);
  assert.equal(workstreamOf(s, 'ws-a').steps[0].commit, 'nothing committed: the step changed nothing in its worktree');
  assert.equal(s.phases[0].git?.merge?.state, 'nothing-to-merge');
  assert.deepEqual(s.phases[0].git?.merge?.nothingFrom, ['ws-a']);
  assert.equal(git(repo, 'rev-parse', 'main'), before);
  const text = await sparky(['status', id]);
  assert.match(text.stdout, new RegExp(`merge: nothing to merge: no branch has a commit beyond main @ ${before.slice(0, 12)}[^\n]*main did not move`));
  assert.doesNotMatch(text.stdout, /merge: merged/);
});

test('a plan started by hand whose committing step would run outside the repository fails at once, naming the step and the fix', async () => {
  const { repo } = await repository();
  const { cwd: _cwd, ...noCwd } = write('edit', repo, 'a.txt', 'A\\n');
  const handle = await start(plan('gitflow-outside', repo, noCwd, write('edit', repo, 'b.txt', 'B\\n')), 'sparky-gitflow-outside-r1');
  const err = await handle.result().then(() => assert.fail('the run should fail'), (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError);
  const cause = err.cause as ApplicationFailure;
  assert.equal(cause.type, 'SparkyInvalidPlan');
  assert.equal(cause.nonRetryable, true);
  assert.match(cause.message, new RegExp(`phases\\[0\\]\\.domains\\[0\\]\\.workstreams\\[0\\]\\.steps\\[0\\]\\.cwd: step "edit" commits \\(commit: "edit: a\\.txt"\\) but runs in the worker's working directory \\(the plan has no baseDir\\), outside the repository ${repo} \\(git\\.repo\\)[^\n]*Set cwd: ${repo}`));
  assert.equal(git(repo, 'branch', '--list', 'sparky/*'), '', 'nothing ran');
});

test('a failing git-flow step names its worktree, branch and base, and how to bring a fix in; fixed in the worktree and retried, it merges', async () => {
  const { repo } = await repository();
  const receiver = await startReceiver();
  try {
    const id = 'sparky-gitflow-fix-r1';
    const needsFix = { id: 'build', kind: 'shell' as const, cwd: repo, commit: 'build: output', retry: { maximumAttempts: 1 },
      run: ['sh', '-c', 'test -f fix.txt || { echo "fix.txt is missing" >&2; exit 3; }; cp fix.txt out.txt'] };
    const p = { ...plan('gitflow-fix', repo, needsFix, write('edit', repo, 'b.txt', 'B\\n')), notify: { webhooks: [{ url: `${receiver.url}/hook` }] } };
    const handle = await start(p, id);
    const s = await eventually('ws-a in attention', () => status(stack.env, id), (r) => workstreamOf(r, 'ws-a').state === 'attention');
    const worktree = path.join(repo, '.sparky-worktrees', id, 'ws-a');
    const branch = 'sparky/gitflow-fix/r1/ws-a';
    const baseCommit = s.phases[0].git!.baseCommit;
    assert.deepEqual(workstreamOf(s, 'ws-a').attention?.git, { worktree, branch, base: 'main', baseCommit });
    const where = `where: in the worktree ${worktree}, on branch ${branch}, made from main @ ${baseCommit.slice(0, 12)} when the phase started`;
    assert.ok(s.waitingFor.includes(where), s.waitingFor);
    assert.ok(s.waitingFor.includes(`\`git -C ${worktree} merge main\``), s.waitingFor);
    const text = await sparky(['status', id]);
    assert.ok(text.stdout.includes(`  ${where}`), text.stdout);
    assert.ok(text.stdout.includes(`or merge it from main (git -C ${worktree} merge main), then retry`), text.stdout);
    const hook = await eventually('the attention webhook', async () => receiver.received.map((r) => r.body), (b) => b.some((x) => x.event === 'attention'));
    assert.ok(String(hook.find((x) => x.event === 'attention')!.text).includes(where), 'the webhook says where too');

    // The mistake the issue saw: the fix lands on main's checkout, and a retry fails again (the worktree branched before it).
    writeFileSync(path.join(repo, 'fix.txt'), 'fixed\n');
    git(repo, 'add', 'fix.txt');
    git(repo, 'commit', '--quiet', '-m', 'fix: add fix.txt');
    assert.equal((await sparky(['retry', id, 'ws-a/build', '--as', 'alice'])).exitCode, 0);
    await eventually('ws-a failed again', () => status(stack.env, id),
      (r) => workstreamOf(r, 'ws-a').state === 'attention' && (r.decisions.filter((d) => d.action === 'retryStep').length === 1));
    // What the attention says to do: merge main into the worktree, then retry.
    git(worktree, 'merge', '--quiet', '--no-edit', 'main');
    assert.equal((await sparky(['retry', id, 'ws-a/build', '--as', 'alice'])).exitCode, 0);
    await atGate(id);
    await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'bob', decision: 'approve' }] });
    assert.equal((await handle.result()).state, 'completed');
    assert.equal(readFileSync(path.join(repo, 'out.txt'), 'utf8'), 'fixed\n');
  } finally {
    await receiver.close();
  }
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
  assert.match(String(err.cause?.message), /git: removed 2 worktrees and 2 branches/);
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

test('a metric check fails on a finished workstream\'s output: sent back from checks-failed (sparky rework), fixed, retried, rechecked and approved; main holds the new output', async () => {
  const { repo } = await repository();
  const dir = await tempDir('sparky-score-');
  writeFileSync(path.join(dir, 'score'), '1');
  const measure = {
    id: 'measure', kind: 'shell' as const, cwd: repo, retry: { maximumAttempts: 1 }, commit: 'measure: score.txt', outputs: { from: 'stdout-last-line' as const },
    run: ['sh', '-c', `cp ${dir}/score score.txt && echo "{\\"score\\": $(cat score.txt)}"`],
  };
  const p = {
    name: 'gitflow-score', git: { repo },
    phases: [{
      id: 'build', domains: [{ id: 'd1', workstreams: [{ id: 'ws-a', steps: [measure] }, { id: 'ws-b', steps: [write('edit', repo, 'b.txt', 'B\\n')] }] }],
      gate: { id: 'review', checks: [{ id: 'good-enough', kind: 'metric', metric: 'ws-a.measure.score', atLeast: 5 }], approval: { approvers: ['alice'] } },
    }],
  };
  const id = 'sparky-gitflow-score-r1';
  const handle = await start(p, id);
  await eventually('checks failed', () => status(stack.env, id), (s) => gateOf(s, 'review').state === 'checks-failed');
  // The dead ends of issue 27: a retry of the finished workstream and a rejection say what to do instead.
  const retry = await sparky(['retry', id, 'ws-a', '--as', 'alice']);
  assert.equal(retry.exitCode, 4);
  assert.match(retry.stderr, /ws-a already finished, and gate review is checks-failed: to run ws-a again, send it back with `sparky rework sparky-gitflow-score-r1 review ws-a --as NAME --reason WHY`/);
  const reject = await sparky(['reject', id, 'review', '--as', 'alice', '--reason', 'stale', '--rework', 'ws-a']);
  assert.equal(reject.exitCode, 4);
  assert.match(reject.stderr, /gate review is not waiting for approval \(it is checks-failed\): to send work back now, `sparky rework/);
  // Sent back: undone, its branch reset to the base, waiting for a retry; ws-b stays done.
  const rework = await sparky(['rework', id, 'review', 'ws-a', '--as', 'alice', '--reason', 'the score is stale']);
  assert.equal(rework.exitCode, 0, rework.stderr);
  const back = await eventually('ws-a in attention', () => status(stack.env, id), (s) => workstreamOf(s, 'ws-a').state === 'attention');
  assert.match(workstreamOf(back, 'ws-a').attention?.reason ?? '', /rework requested by alice: the score is stale/);
  assert.equal(workstreamOf(back, 'ws-b').state, 'succeeded');
  assert.ok(back.decisions.some((d) => d.action === 'rework' && d.by === 'alice' && d.rework?.join() === 'ws-a'));
  assert.ok(gateOf(back, 'review').audit.some((e) => e.decision === 'rework' && e.approver === 'alice'));
  const branch = back.phases[0].git!.branches.find((b) => b.workstreamId === 'ws-a')!.branch;
  assert.equal(git(repo, 'rev-parse', branch), back.phases[0].git!.baseCommit, 'the stale commit is gone from the branch');
  // Fixed, retried: the checks run again by themselves, then a fresh round of votes.
  writeFileSync(path.join(dir, 'score'), '7');
  assert.equal((await sparky(['retry', id, 'ws-a', '--as', 'alice', '--comment', 'new score'])).exitCode, 0);
  await atGate(id);
  assert.equal((await sparky(['approve', id, 'review', '--as', 'alice'])).exitCode, 0);
  await handle.result();
  assert.equal(git(repo, 'show', 'main:score.txt'), '7', 'main holds the new output');
  assert.equal(spawnSync('git', ['log', '--format=%H', 'main'], { cwd: repo, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length > 1, true);
});
