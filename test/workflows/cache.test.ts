// Step caching on the real stack (a dev server, a real worker, real files): a second run takes every
// cached step from the cache with its source (status, `sparky status`, the Web UI details), a changed
// input file reruns its step and everything after it, a deleted output reruns the step that made it,
// --no-cache forces named workstreams, a dry run says exactly what the next run does, ttl and
// cacheVersion end hits, a rework never takes a hit on the outputs a reviewer sent back (and its
// compensation of a cached step explains itself), and a plan without `cache` issues no cache request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runDir } from '../../activities/run-dir.ts';
import { renderStatus } from '../../cli/progress.ts';
import { attestCommand } from '../../cli/attest.ts';
import type { MetaResult } from '../../workflows/meta-orchestrator.ts';
import type { RunOptions } from '../../workflows/run-context.ts';
import type { RunStatus, StepStatus } from '../../workflows/status.ts';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { gateOf, lines, status, tempDir, temporal, useStack, workstreamOf } from './helpers.ts';
import { eventually, sleep } from '../helpers/wait.ts';

const stack = useStack();

let n = 0;
async function run(plan: object, options: RunOptions = {}): Promise<{ id: string; result: MetaResult; status: RunStatus }> {
  const id = `sparky-${(plan as { name: string }).name}-${++n}`;
  const handle = await stack.env.client.workflow.start('metaOrchestrator', {
    taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue, ...options } }],
  });
  const result = await handle.result() as MetaResult;
  return { id, result, status: await status(stack.env, id) };
}

const stepOf = (s: RunStatus, ws: string, step: string): StepStatus => workstreamOf(s, ws).steps.find((x) => x.id === step)!;
const states = (s: RunStatus) => Object.fromEntries(s.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
  w.steps.map((x) => [`${w.id}/${x.id}`, x.state])))));

/** Steps that really ran, in the order they ran: each appends its name to runs.log. */
async function ran(dir: string): Promise<string[]> {
  const all = await lines(path.join(dir, 'runs.log'));
  await rm(path.join(dir, 'runs.log'), { force: true });
  return all.sort();
}

const sh = (script: string) => ['sh', '-c', script];

/** A: reads input-a.txt, writes out/a.txt; B (after A) copies it; C stands alone. All cached. */
function threeSteps(dir: string, name: string, extra: { c?: object } = {}) {
  return {
    name, baseDir: dir, phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
      { id: 'A', steps: [{
        id: 'make', kind: 'shell', run: sh('echo A >> runs.log; mkdir -p "$SPARKY_RUN_DIR/out"; cat input-a.txt > "$SPARKY_RUN_DIR/out/a.txt"; echo "{\\"made\\": \\"$SPARKY_RUN_DIR/out/a.txt\\"}"'),
        outputs: { from: 'stdout-json' }, cache: { inputs: ['input-a.txt'], outputs: ['$SPARKY_RUN_DIR/out/a.txt'] },
      }] },
      { id: 'B', dependsOn: ['A'], steps: [{
        id: 'use', kind: 'shell', run: sh('echo B >> runs.log; cat "$SPARKY_RUN_DIR/out/a.txt" > "$SPARKY_RUN_DIR/out/b.txt"'),
        cache: { inputs: ['$SPARKY_RUN_DIR/out/a.txt'], outputs: ['$SPARKY_RUN_DIR/out/b.txt'] },
      }] },
      { id: 'C', steps: [{ id: 'c', kind: 'shell', run: sh('echo C >> runs.log'), cache: true, ...extra.c }] },
    ] }] }],
  };
}

test('a second run takes every cached step from the cache; a changed input reruns its step and what follows; a deleted output reruns its maker; --no-cache forces', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'input-a.txt'), 'one\n');
  const plan = threeSteps(dir, 'cache-basics');

  const first = await run(plan);
  assert.equal(first.result.state, 'completed');
  assert.deepEqual(await ran(dir), ['A', 'B', 'C']);
  assert.equal(stepOf(first.status, 'A', 'make').state, 'succeeded');
  assert.equal(stepOf(first.status, 'A', 'make').cache?.stored, true, JSON.stringify(stepOf(first.status, 'A', 'make').cache));
  assert.equal(stepOf(first.status, 'A', 'make').cache?.miss, 'no earlier result of this step in the cache');

  // Nothing changed: nothing runs; the files are brought into the new run's own directory.
  const second = await run(plan);
  assert.equal(second.result.state, 'completed');
  assert.deepEqual(await ran(dir), [], 'no step ran');
  assert.deepEqual(states(second.status), { 'A/make': 'cached', 'B/use': 'cached', 'C/c': 'cached' });
  const hit = stepOf(second.status, 'A', 'make').cache?.hit;
  assert.equal(hit?.run, first.id);
  assert.equal(hit?.workstream, 'A');
  assert.equal(hit?.step, 'make');
  assert.ok(hit?.at && !Number.isNaN(Date.parse(hit.at)));
  assert.equal(hit?.restored, 1);
  const secondOut = path.join(runDir(stack.logDir, second.id), 'out');
  assert.equal(await readFile(path.join(secondOut, 'b.txt'), 'utf8'), 'one\n');
  // Outputs that point into the making run's directory point into this run's.
  assert.equal(second.result.workstreams, 3);
  const status2 = second.status;
  assert.match(status2.waitingFor, /3 of 3 step\(s\) taken from the cache, not run in this run \(from sparky-cache-basics-1/);
  const shown = renderStatus(status2);
  assert.match(shown, /A\/make {2}cached: from run sparky-cache-basics-1 \(A\/make, made .*\), key [0-9a-f]{16}, 1 file\(s\) brought in/);
  assert.match(shown, /↺make/);
  const log = await readFile(stepOf(status2, 'A', 'make').logPath!, 'utf8');
  assert.match(log, /^--- cache hit .* --- not run: taken from run sparky-cache-basics-1 \(A\/make/m);
  assert.doesNotMatch(log, /^--- attempt/m, 'the step did not run in this run');

  // An input of A changes: A and B (after A) run; C does not.
  await writeFile(path.join(dir, 'input-a.txt'), 'two\n');
  const third = await run(plan);
  assert.deepEqual(await ran(dir), ['A', 'B']);
  assert.deepEqual(states(third.status), { 'A/make': 'succeeded', 'B/use': 'succeeded', 'C/c': 'cached' });
  assert.match(stepOf(third.status, 'A', 'make').cache?.miss ?? '', /changed since run sparky-cache-basics-1: input \$PLAN_DIR\/input-a\.txt changed/);
  assert.match(stepOf(third.status, 'B', 'use').cache?.miss ?? '', /a step before it changed/);
  assert.match(renderStatus(third.status), /B\/use {2}ran: changed since run .*; stored, key/);

  // B's declared output, in the run that made its entry, is deleted: B runs again, A does not.
  await rm(path.join(runDir(stack.logDir, third.id), 'out', 'b.txt'));
  const fourth = await run(plan);
  assert.deepEqual(await ran(dir), ['B']);
  assert.match(stepOf(fourth.status, 'B', 'use').cache?.miss ?? '', new RegExp(`its output \\$SPARKY_RUN_DIR/out/b\\.txt \\(from run ${third.id}\\) is gone`));
  assert.equal(stepOf(fourth.status, 'A', 'make').state, 'cached');

  // --no-cache C: C runs (and refreshes its entry); the others come from the cache.
  const fifth = await run(plan, { noCache: ['C'] });
  assert.deepEqual(await ran(dir), ['C']);
  assert.equal(stepOf(fifth.status, 'C', 'c').cache?.miss, '--no-cache C: forced to run');
  assert.deepEqual(fifth.status.noCache, ['C']);
  const sixth = await run(plan);
  assert.deepEqual(await ran(dir), []);
  assert.equal(stepOf(sixth.status, 'C', 'c').cache?.hit?.run, fifth.id, 'the forced run refreshed the entry');
  // --no-cache for everything.
  const seventh = await run(plan, { noCache: true });
  assert.deepEqual(await ran(dir), ['A', 'B', 'C']);
  assert.equal(seventh.status.noCache, true);
});

test('a dry run says, step for step, what the next run does, and starts nothing', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'input-a.txt'), 'one\n');
  const plan = threeSteps(dir, 'cache-dry', { c: { when: { env: 'SPARKY_TEST_NEVER_SET' } } });
  const predict = async (options: RunOptions = {}) => {
    const r = await run(plan, { ...options, dryRun: true });
    assert.deepEqual(await ran(dir), [], 'a dry run runs nothing');
    assert.ok(!existsSync(runDir(stack.logDir, r.id)), 'a dry run makes no run directory');
    return r.result.dryRun!;
  };
  const compare = async (options: RunOptions = {}) => {
    const before = await predict(options);
    const real = await run(plan, options);
    await ran(dir);
    const actual = Object.fromEntries(Object.entries(states(real.status)).map(([k, v]) => [k, v === 'succeeded' ? 'run' : v]));
    assert.deepEqual(Object.fromEntries(before.steps.map((s) => [`${s.workstream}/${s.step}`, s.action])), actual);
    for (const s of before.steps.filter((x) => x.action === 'cached')) {
      assert.equal(s.from?.run, stepOf(real.status, s.workstream, s.step).cache?.hit?.run, `${s.workstream}/${s.step}: the same entry`);
    }
    return before;
  };
  const empty = await compare();
  assert.deepEqual(empty.counts, { run: 2, cached: 0, skipped: 1 });
  assert.match(empty.steps.find((s) => s.step === 'c')!.reason, /SPARKY_TEST_NEVER_SET is not set/);
  assert.match(empty.steps.find((s) => s.step === 'make')!.reason, /no earlier result/);
  const full = await compare();
  assert.deepEqual(full.counts, { run: 0, cached: 2, skipped: 1 });
  await writeFile(path.join(dir, 'input-a.txt'), 'three\n');
  const changed = await compare();
  const actions = (r: typeof empty) => Object.fromEntries(r.steps.map((s) => [`${s.workstream}/${s.step}`, s.action]));
  assert.deepEqual(actions(changed), { 'A/make': 'run', 'B/use': 'run', 'C/c': 'skipped' });
  assert.match(changed.steps.find((s) => s.step === 'make')!.reason, /input \$PLAN_DIR\/input-a\.txt changed/);
  // The same through `temporal workflow start` (no Sparky CLI): options.dryRun, the report as the result.
  const input = path.join(dir, 'dry.json');
  await writeFile(input, JSON.stringify({ plan, options: { cpuTaskQueue: stack.taskQueue, dryRun: true } }));
  const started = await temporal(stack.env, ['workflow', 'execute', '--type', 'metaOrchestrator', '--task-queue', stack.taskQueue,
    '--workflow-id', 'sparky-cache-dry-by-hand', '--input-file', input, '--output', 'json']);
  assert.equal(started.exitCode, 0, started.all);
  assert.match(started.stdout, /"dryRun"/);
  assert.match(started.stdout, /"action": ?"cached"/);
  assert.deepEqual(await ran(dir), []);
  const forced = await compare({ noCache: ['A'] });
  assert.deepEqual(actions(forced), { 'A/make': 'run', 'B/use': 'cached', 'C/c': 'skipped' }, 'A runs again with the same key: B still hits');
});

test('ttl and cacheVersion end hits', async () => {
  const dir = await tempDir();
  const plan = (extra: object) => ({ name: 'cache-ttl', baseDir: dir, phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [
    { id: 'T', steps: [{ id: 't', kind: 'shell', run: sh('echo T >> runs.log'), cache: true, ...extra }] }] }] }] });
  await run(plan({ ttl: '2s' }));
  assert.deepEqual(await ran(dir), ['T']);
  assert.equal(stepOf((await run(plan({ ttl: '2s' }))).status, 'T', 't').state, 'cached');
  await sleep(2500);
  const late = await run(plan({ ttl: '2s' }));
  assert.deepEqual(await ran(dir), ['T']);
  assert.match(stepOf(late.status, 'T', 't').cache?.miss ?? '', /older than its ttl/);
  const bumped = await run(plan({ ttl: '2s', cacheVersion: 2 }));
  assert.deepEqual(await ran(dir), ['T']);
  assert.match(stepOf(bumped.status, 'T', 't').cache?.miss ?? '', /cacheVersion changed/);
});

test('a rework never takes a hit on the outputs a reviewer sent back; the compensation of a cached step says it did not run', async () => {
  const dir = await tempDir();
  const plan = {
    name: 'cache-rework', baseDir: dir, phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [
      { id: 'R', steps: [{
        id: 'r', kind: 'shell', run: sh('echo R >> runs.log; date +%s%N > result.txt'), cache: { outputs: ['result.txt'] },
        compensate: { id: 'undo-r', kind: 'shell', run: sh('echo undo-R >> runs.log') },
      }] }] }],
    gate: { id: 'g', approval: { approvers: ['alice'] } } }],
  };
  const approve = (id: string) => stack.env.client.workflow.getHandle(id).executeUpdate('decideGate', { args: [{ gate: 'g', approver: 'alice', decision: 'approve' }] });
  const waiting = (id: string) => eventually('gate g waiting', () => status(stack.env, id), (s) => gateOf(s, 'g').state === 'waiting' || s.state === 'attention');

  const start = async () => {
    const id = `sparky-cache-rework-${++n}`;
    await stack.env.client.workflow.start('metaOrchestrator', { taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue } }] });
    return id;
  };
  const first = await start();
  await waiting(first);
  await approve(first);
  await stack.env.client.workflow.getHandle(first).result();
  assert.deepEqual(await ran(dir), ['R']);
  const made = await readFile(path.join(dir, 'result.txt'), 'utf8');

  const second = await start();
  let s = await waiting(second);
  assert.equal(stepOf(s, 'R', 'r').state, 'cached');
  assert.match(s.waitingFor, /in this phase: 1 of 1 step\(s\) taken from the cache/);
  await stack.env.client.workflow.getHandle(second).executeUpdate('decideGate', {
    args: [{ gate: 'g', approver: 'alice', decision: 'reject', comment: 'the result is stale', rework: ['R'] }],
  });
  s = await eventually('R in attention', () => status(stack.env, second), (x) => workstreamOf(x, 'R').state === 'attention');
  assert.deepEqual(await ran(dir), [], 'the compensation of a step taken from the cache does not run');
  const row = s.compensations.find((c) => c.of === 'R.r');
  assert.equal(row?.state, 'skipped');
  assert.match(row?.reason ?? '', new RegExp(`R\\.r was taken from the cache \\(run ${first}, made .*\\), so it did not run in this run`));
  assert.match(renderStatus(s), /R\.r → undo-r {2}skipped {2}— not undone/);
  await stack.env.client.workflow.getHandle(second).executeUpdate('resolve', { args: [{ action: 'retryStep', step: 'R/r', by: 'alice' }] });
  s = await eventually('the gate waiting again', () => status(stack.env, second), (x) => gateOf(x, 'g').state === 'waiting');
  assert.deepEqual(await ran(dir), ['R'], `the reworked step ran instead of taking the rejected entry: ${JSON.stringify(stepOf(s, 'R', 'r'))}`);
  assert.equal(stepOf(s, 'R', 'r').state, 'succeeded');
  assert.match(stepOf(s, 'R', 'r').cache?.miss ?? '', /not the outputs a reviewer sent back \(rework requested by alice: the result is stale\)/);
  assert.notEqual(await readFile(path.join(dir, 'result.txt'), 'utf8'), made);
  await approve(second);
  await stack.env.client.workflow.getHandle(second).result();

  // The next run takes the result the rework made, never the rejected one.
  const third = await start();
  s = await waiting(third);
  assert.equal(stepOf(s, 'R', 'r').cache?.hit?.run, second);
  await approve(third);
  await stack.env.client.workflow.getHandle(third).result();

  // The attestation of an approved run names the work it took from the cache (from its history alone).
  process.env.TEMPORAL_ADDRESS = stack.env.address;
  const attest = async (id: string) => {
    const out = path.join(dir, `${id}.intoto.json`);
    assert.equal(await attestCommand(id, { out }), 0);
    return JSON.parse(await readFile(out, 'utf8')).predicate.cachedSteps as { step: string; key: string; from: { run: string } }[];
  };
  const cachedInThird = await attest(third);
  assert.deepEqual(cachedInThird.map((c) => [c.step, c.from.run]), [['R/r', second]]);
  assert.match(cachedInThird[0].key, /^[0-9a-f]{64}$/);
  assert.deepEqual(await attest(second), [], 'the reworked step ran in the end');
});

test('a plan without cache sends no cache request and reports no fingerprints', async () => {
  const dir = await tempDir();
  const plan = { name: 'cache-none', baseDir: dir, phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [
    { id: 'A', steps: [{ id: 'a', kind: 'shell', run: sh('echo A >> runs.log') }] },
    { id: 'B', dependsOn: ['A'], steps: [{ id: 'b', kind: 'shell', run: sh('echo B >> runs.log') }] }] }] }] };
  const { id } = await run(plan);
  assert.deepEqual(await ran(dir), ['A', 'B']);
  // Every payload of the run's and its child's histories, decoded.
  const payloads = async (workflowId: string) => {
    const texts: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.data === 'string' && o.metadata) texts.push(Buffer.from(o.data, 'base64').toString('utf8'));
        Object.values(o).forEach(walk);
      }
    };
    walk(JSON.parse(historyToJSON(await stack.env.client.workflow.getHandle(workflowId).fetchHistory())));
    return texts.join('\n');
  };
  const parent = await payloads(id);
  assert.match(parent, /"type":"step"/, 'the decoding sees the progress reports');
  assert.doesNotMatch(parent, /fingerprint/);
  const child = await payloads(`${id}/p/d`);
  assert.match(child, /"kind":"shell"/, 'the decoding sees the step inputs');
  assert.doesNotMatch(child, /"cache":|fingerprint/, 'no cache request, no fingerprint');
});

test('--from runs a workstream and everything after it whatever the cache holds, takes what they need from the cache, and enters only the phases it needs', async () => {
  const dir = await tempDir();
  const step = (name: string, extra: object = {}) => ({ id: name.toLowerCase(), kind: 'shell', run: sh(`echo ${name} >> runs.log`), cache: true, ...extra });
  const plan = {
    name: 'cache-from', baseDir: dir, phases: [
      { id: 'one', domains: [{ id: 'd1', workstreams: [{ id: 'A', steps: [step('A')] }, { id: 'X', steps: [step('X', { outputs: { from: 'stdout-last-line' }, run: sh('echo X >> runs.log; echo \'{"v": 2}\'') })] }] }],
        gate: { id: 'g1', checks: [{ id: 'x-ok', kind: 'metric', metric: 'X.x.v', atLeast: 1 }, { id: 'always', kind: 'command', run: ['true'] }] } },
      { id: 'two', domains: [{ id: 'd2', workstreams: [{ id: 'B', dependsOn: ['A'], steps: [step('B')] }, { id: 'C', dependsOn: ['B'], steps: [step('C')] }] }] },
      { id: 'three', domains: [{ id: 'd3', workstreams: [{ id: 'D', dependsOn: ['X'], steps: [step('D')] }] }], gate: { id: 'g3', checks: [{ id: 'c', kind: 'command', run: ['true'] }] } },
    ],
  };
  await run(plan);
  assert.deepEqual(await ran(dir), ['A', 'B', 'C', 'D', 'X']);
  const from = await run(plan, { from: ['B'] });
  assert.deepEqual(await ran(dir), ['B', 'C'], 'B and C ran although the cache held them; A came from it; X and D are not in this run');
  assert.deepEqual(states(from.status), { 'A/a': 'cached', 'X/x': 'skipped', 'B/b': 'succeeded', 'C/c': 'succeeded', 'D/d': 'skipped' });
  assert.equal(stepOf(from.status, 'B', 'b').cache?.miss, '--no-cache B: forced to run');
  assert.equal(from.status.subset, '--from B: 3 of 5 workstreams; downstream: C; needed: A');
  assert.equal(workstreamOf(from.status, 'X').state, 'skipped');
  assert.deepEqual(from.status.phases.map((p) => p.state), ['succeeded', 'succeeded', 'skipped']);
  assert.equal(from.status.phases[2].gate?.state, 'skipped');
  assert.match(from.status.phases[2].gate?.skippedReason ?? '', /not asked: no workstream of phase three is in this run/);
  assert.deepEqual(from.status.phases[0].gate?.skippedChecks, [{ id: 'x-ok', reason: 'reads the work of X, not in this run' }]);
  assert.deepEqual(from.status.phases[0].gate?.checks.map((c) => c.id), ['always']);
  const shown = renderStatus(from.status);
  assert.match(shown, /subset run: --from B/);
  assert.match(shown, /check x-ok not run: reads the work of X, not in this run/);
  assert.match(shown, /gate g3 {2}skipped: not asked/);
  // Bad workstream names are refused before anything starts.
  await assert.rejects(run(plan, { only: ['Bee'] }), (err: Error & { cause?: Error }) => {
    assert.match(err.cause?.message ?? '', /invalid plan \(1 error\):\n {2}options\.only: unknown workstream "Bee"$/);
    return true;
  });
});

test('git flow: the base commit is in the key; a hit writes what the step changed into the new worktree, where its commit takes it', async () => {
  const dir = await tempDir('sparky-cache-git-');
  const repo = path.join(dir, 'repo');
  const env = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x' };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', env }).trim();
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', repo], { env });
  await writeFile(path.join(repo, 'gone.txt'), 'to be deleted\n');
  await writeFile(path.join(repo, 'src.txt'), 'source\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'initial');
  const plan = {
    name: 'cache-git', baseDir: dir, git: { repo: 'repo', merge: 'never' },
    phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'G', steps: [{
      id: 'gen', kind: 'shell', cwd: 'repo', cache: true, commit: 'generated',
      run: sh(`echo G >> ${path.join(dir, 'runs.log')}; mkdir -p out; cat src.txt src.txt > out/gen.txt; rm gone.txt`),
    }] }] }] }],
  };
  const first = await run(plan);
  assert.equal(first.result.state, 'completed');
  assert.deepEqual(await ran(dir), ['G']);
  const second = await run(plan);
  assert.deepEqual(await ran(dir), [], 'the same base commit: a hit');
  const step = stepOf(second.status, 'G', 'gen');
  assert.equal(step.state, 'cached');
  assert.equal(step.cache?.hit?.restored, 2, 'the new file written, the deleted one deleted');
  assert.match(step.commit ?? '', /^[0-9a-f]{12}$/, `the step's commit took the changes: ${step.commit}`);
  const branch = second.status.phases[0].git!.branches[0].branch;
  assert.equal(git('show', `${branch}:out/gen.txt`), 'source\nsource');
  assert.throws(() => git('show', `${branch}:gone.txt`), 'the deletion is committed too');
  // The base moves: the key changes, the step runs.
  await writeFile(path.join(repo, 'src.txt'), 'changed\n');
  git('commit', '--quiet', '-am', 'change');
  const third = await run(plan);
  assert.deepEqual(await ran(dir), ['G']);
  assert.match(stepOf(third.status, 'G', 'gen').cache?.miss ?? '', /the base commit of its worktree moved/);
});

test('the same plan in another folder (another clone, another host\'s checkout) has the same keys: its entries are hits', async () => {
  const [a, b] = [await tempDir(), await tempDir()];
  for (const d of [a, b]) await writeFile(path.join(d, 'input-a.txt'), 'same\n');
  await run(threeSteps(a, 'cache-moved'));
  assert.deepEqual(await ran(a), ['A', 'B', 'C']);
  const moved = await run(threeSteps(b, 'cache-moved'));
  assert.deepEqual(await ran(b), [], 'nothing ran in the other folder');
  assert.deepEqual(states(moved.status), { 'A/make': 'cached', 'B/use': 'cached', 'C/c': 'cached' });
  await writeFile(path.join(b, 'input-a.txt'), 'different\n');
  await run(threeSteps(b, 'cache-moved'));
  assert.deepEqual(await ran(b), ['A', 'B'], 'its own files still decide');
});

test('an entry that names a file outside its place is never taken (a hit writes only into this run\'s places)', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'input-a.txt'), 'one\n');
  const plan = threeSteps(dir, 'cache-escape');
  const first = await run(plan);
  await ran(dir);
  const key = stepOf(first.status, 'A', 'make').cache!.key;
  const file = path.join(stack.logDir, '.sparky-cache', 'v1', 'entries', key.slice(0, 2), `${key}.json`);
  const entry = JSON.parse(await readFile(file, 'utf8'));
  entry.files[0].rel = '../../escaped.txt';
  await writeFile(file, JSON.stringify(entry));
  const second = await run(plan);
  assert.deepEqual(await ran(dir), ['A'], 'A ran instead (with the same key: B still hits)');
  assert.match(stepOf(second.status, 'A', 'make').cache?.miss ?? '', /its entry names a file outside its run directory \(\.\.\/\.\.\/escaped\.txt\): not taken/);
  assert.equal(existsSync(path.join(runDir(stack.logDir, second.id), '..', '..', 'escaped.txt')), false);
});
