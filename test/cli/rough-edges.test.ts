// The CLI's rough edges a new user met (issue 27), each on the real stack (a real dev server, a real CPU
// worker on the `sparky` queue, the real `sparky` CLI from bin/sparky.js, real ssh-keygen and git):
// - any command piped into a reader that closes early ends quietly (`sparky status last | head -1`);
// - a gate whose approvers all have keys offers only signed ways; `sparky status` shows the gate's
//   decisions (who, what, signed with which key, when, ignored ones marked); `statement --reason`;
//   the run is found afterwards by the gate it passed (SparkyGatesPassed); npm start's prompt (a pty)
//   offers the signed way to approvers with keys and signs with `NAME --key FILE`;
// - a step retried twice: its log numbers attempts 1..3 with who retried, when and why, and the status
//   shows 3 attempts and both retries;
// - git flow: a `commit:` step that changed nothing says so in the text status; a phase without a gate
//   merges with a message that says so (not "gate (phase … has no gate) approved").
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT, TOOLS_BIN } from '../../host/paths.ts';
import { CPU_TASK_QUEUE } from '../../common/task-queues.ts';
import { SparkyGatesPassed } from '../../common/search-attributes.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { gateOf, useStack, workstreamOf } from '../workflows/helpers.ts';
import { eventually } from '../helpers/wait.ts';
import { keyDir, makeKey, type TestKey } from '../helpers/ssh.ts';

const stack = useStack({ taskQueue: CPU_TASK_QUEUE });
const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-edges-'));
let alice: TestKey;
let bob: TestKey;

before(async () => {
  // `sparky` on PATH, as `npm link` / `npx sparky` would give a user.
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'bin', 'sparky'), `#!/bin/sh\nexec node ${path.join(PROJECT_ROOT, 'bin', 'sparky.js')} "$@"\n`);
  chmodSync(path.join(dir, 'bin', 'sparky'), 0o755);
  const keys = await keyDir();
  [alice, bob] = await Promise.all([makeKey(keys, 'alice'), makeKey(keys, 'bob')]);
});

/** A bash line with `sparky` and `temporal` on PATH, against the stack's server. */
function sh(line: string) {
  return execa('bash', ['-c', line], {
    cwd: dir, reject: false, stdin: 'ignore', timeout: 60_000,
    env: {
      TEMPORAL_ADDRESS: stack.env.address, TEMPORAL_NAMESPACE: 'default', SPARKY_DATA_DIR: path.join(dir, 'data'),
      SPARKY_UI_URL: '', SPARKY_UI_PORT: '', PATH: `${path.join(dir, 'bin')}:${TOOLS_BIN}:${process.env.PATH}`,
    },
  });
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const query = (id: string) => stack.env.client.workflow.getHandle(id).query<RunStatus>('status');

/** `sparky run` on a plan written to a file; the run's workflow id. */
async function run(name: string, plan: object): Promise<string> {
  const file = path.join(dir, `${name}.plan.json`);
  writeFileSync(file, JSON.stringify(plan, null, 2));
  const started = await sh(`sparky run ${q(file)}`);
  assert.equal(started.exitCode, 0, started.stderr);
  return /started (\S+)/.exec(started.stdout)![1];
}

test('a gate with keys: only signed ways offered; `status` shows its decisions; a closed pipe ends quietly; found by SparkyGatesPassed', async () => {
  const id = await run('edges-gate', {
    name: 'edges-gate',
    phases: [
      { id: 'build', domains: [{ id: 'd', workstreams: [{ id: 'w1', steps: [{ id: 'hello', kind: 'shell', run: ['uname'] }] }] }],
        gate: { id: 'signed-gate', approval: { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], required: 2 } } },
      { id: 'ship', domains: [{ id: 'd2', workstreams: [{ id: 'w2', steps: [{ id: 'bye', kind: 'shell', run: ['uname', '-m'] }] }] }] },
    ],
  });
  const waiting = await eventually('the signed gate waiting', () => query(id), (s) => gateOf(s, 'signed-gate').state === 'waiting', 60_000);

  // Only what would be accepted: approvers with keys must sign, so no unsigned tctl / Web UI / temporal lines.
  assert.match(waiting.waitingFor, /approve with: `sparky approve \S+ signed-gate --as NAME --key ~\/\.ssh\/id_ed25519` \(signed: alice, bob\)/);
  const shown = await sh('sparky status last');
  assert.equal(shown.exitCode, 0, shown.stderr);
  assert.match(shown.stdout, /signed: +alice, bob must sign: npx sparky approve \S+ signed-gate --as NAME --key/);
  assert.match(shown.stdout, /sign `npx sparky statement \S+ signed-gate --decision approve --time TIME` with ssh-keygen/);
  for (const unsigned of ['tctl', 'approveGate', 'Send a Signal']) assert.ok(!shown.stdout.includes(unsigned), `a keyed gate offers "${unsigned}":\n${shown.stdout}`);

  // Piped into a reader that closes early: no EPIPE stack, the command's own exit code (0).
  for (const reader of ['head -1', 'true', '(exec 0<&-; sleep 2)']) {
    const piped = await sh(`sparky status last | ${reader}; echo "sparky=\${PIPESTATUS[0]}" >&2`);
    assert.match(piped.stderr, /^sparky=0$/m, `sparky status last | ${reader}:\n${piped.stderr}`);
    assert.doesNotMatch(piped.stderr, /EPIPE|Error/, `sparky status last | ${reader}`);
  }
  const plan = await sh(`sparky plan ${q(path.join(dir, 'edges-gate.plan.json'))} | true; echo "sparky=\${PIPESTATUS[0]}" >&2`);
  assert.match(plan.stderr, /^sparky=0$/m, plan.stderr);
  // A command that fails keeps its exit code when its reader is gone too.
  const failing = await sh(`sparky status no-such-run | true; echo "sparky=\${PIPESTATUS[0]}" >&2`);
  assert.match(failing.stderr, /^sparky=2$/m, failing.stderr);

  // `statement` takes a rejection's reason as `--reason`, like `reject`; the same bytes as `--comment`.
  const time = new Date().toISOString();
  const byReason = await sh(`sparky statement ${id} signed-gate --decision reject --reason 'too slow' --time ${time}`);
  const byComment = await sh(`sparky statement ${id} signed-gate --decision reject --comment 'too slow' --time ${time}`);
  assert.equal(byReason.exitCode, 0, byReason.stderr);
  assert.match(byReason.stdout, /^comment: "too slow"$/m);
  assert.equal(byReason.stdout, byComment.stdout);
  assert.match(byReason.stderr, /--decision reject --reason … --time/);
  const both = await sh(`sparky statement ${id} signed-gate --decision reject --reason 'x' --comment 'y'`);
  assert.equal(both.exitCode, 2);
  assert.match(both.stderr, /give --comment or --reason \(the same line of the statement\), not both/);

  // mallory's signal is ignored; alice and bob approve signed.
  await stack.env.client.workflow.getHandle(id).signal('approveGate', { gate: 'signed-gate', approver: 'mallory' });
  const a = await sh(`sparky approve ${id} signed-gate --as alice --key ${q(alice.privateKey)} --comment 'numbers ok'`);
  assert.equal(a.exitCode, 0, a.stderr);
  const b = await sh(`sparky approve ${id} signed-gate --as bob --key ${q(bob.privateKey)}`);
  assert.equal(b.exitCode, 0, b.stderr);
  assert.equal((await stack.env.client.workflow.getHandle(id).result()).state, 'completed');

  // The text status shows the gate's decisions: who, what, how, which key, when; the ignored one marked.
  const done = await sh(`sparky status ${id}`);
  assert.equal(done.exitCode, 0, done.stderr);
  const audit = gateOf(await query(id), 'signed-gate').audit;
  const at = (who: string) => audit.find((e) => e.approver === who)!.at.replace(/[.]/g, '\\.');
  assert.match(done.stdout, new RegExp(`^ {4}${at('mallory')} +mallory +approve +via signal +\\[IGNORED: mallory is not an approver of gate signed-gate`, 'm'));
  assert.match(done.stdout, new RegExp(`^ {4}${at('alice')} +alice +approve +via update, signed \\(key ${alice.fingerprint.replace(/[+/]/g, '\\$&')}\\) +"numbers ok"$`, 'm'));
  assert.match(done.stdout, new RegExp(`^ {4}${at('bob')} +bob +approve +via update, signed \\(key ${bob.fingerprint.replace(/[+/]/g, '\\$&')}\\)$`, 'm'));

  // Found by the gate it passed, after it stopped waiting there (SparkyGate is '' now).
  const attrs = (await stack.env.client.workflow.getHandle(id).describe()).typedSearchAttributes;
  assert.deepEqual(attrs.get(SparkyGatesPassed), ['signed-gate']);
  await eventually('temporal workflow list by SparkyGatesPassed', () => sh(`temporal workflow list --query "SparkyGatesPassed='signed-gate'"`),
    (r) => r.stdout.includes(id), 15_000);
  const none = await sh(`temporal workflow list --query "SparkyGatesPassed='no-such-gate'"`);
  assert.equal(none.exitCode, 0, none.stderr);
  assert.ok(!none.stdout.includes(id));
});

test('npm start\'s prompt at a gate with keys offers the signed way and takes `NAME --key FILE`; unsigned names only for approvers without keys', async () => {
  const id = await run('edges-prompt', {
    name: 'edges-prompt',
    phases: [{ id: 'build', domains: [{ id: 'd', workstreams: [{ id: 'w1', steps: [{ id: 'hello', kind: 'shell', run: ['uname'] }] }] }],
      gate: { id: 'mixed-gate', approval: { approvers: [{ name: 'alice', key: alice.line }, 'carol'], required: 2 } } }],
  });
  await eventually('the gate waiting', () => query(id), (s) => gateOf(s, 'mixed-gate').state === 'waiting', 60_000);
  // A terminal (util-linux `script` gives the watcher a pty), as `npm start` has one.
  const watcher = execa('script', ['-qfec', `sparky status ${id} --watch`, '/dev/null'], {
    cwd: dir, reject: false, stdin: 'pipe', timeout: 90_000,
    env: { TEMPORAL_ADDRESS: stack.env.address, SPARKY_DATA_DIR: path.join(dir, 'data'), SPARKY_UI_URL: '', PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` },
  });
  let out = '';
  watcher.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  const prompts = () => out.split('Approve mixed-gate?').length - 1;
  await eventually('the prompt', async () => prompts(), (n) => n >= 1, 30_000);
  assert.match(out, /Type your name \(carol\) to approve, or "NAME --key ~\/\.ssh\/id_ed25519" to approve signed \(alice must sign\); "reject NAME \[--key FILE\]/);
  watcher.stdin!.write(`alice --key ${alice.privateKey} numbers look right\r`);
  await eventually('alice\'s signed approval', async () => out, (o) => o.includes(`approved mixed-gate as alice (signed, key ${alice.fingerprint})`), 30_000);
  await eventually('the prompt again', async () => prompts(), (n) => n >= 2, 30_000);
  watcher.stdin!.write('carol\r');
  const done = await watcher;
  assert.equal(done.exitCode, 0, out);
  const audit = gateOf(await query(id), 'mixed-gate').audit.filter((a) => !a.ignored);
  assert.deepEqual(audit.map((a) => [a.approver, Boolean(a.fingerprint), a.comment]), [['alice', true, 'numbers look right'], ['carol', false, 'approved at the terminal']]);
  assert.equal(audit[0].fingerprint, alice.fingerprint);
});

test('a step retried twice: its log numbers attempts 1..3, marks who retried, when and why; status shows 3 attempts and both retries', async () => {
  const id = await run('edges-retry', {
    name: 'edges-retry',
    phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'W', steps: [
      // Fails until its third attempt in all: SPARKY_ATTEMPT counts on across the retries.
      { id: 'flaky', kind: 'shell', run: ['sh', '-c', 'echo "try $SPARKY_ATTEMPT"; [ "$SPARKY_ATTEMPT" -ge 3 ]'], retry: { maximumAttempts: 1 } },
    ] }] }] }],
  });
  const step = (s: RunStatus) => workstreamOf(s, 'W').steps[0];
  await eventually('flaky in attention', () => query(id), (s) => workstreamOf(s, 'W').state === 'attention', 60_000);
  const r1 = await sh(`sparky retry ${id} W/flaky --as alice --comment 'first fix'`);
  assert.equal(r1.exitCode, 0, r1.stderr);
  const again = await eventually('flaky failed again', () => query(id), (s) => workstreamOf(s, 'W').state === 'attention' && step(s).attempts === 2, 60_000);
  assert.equal(step(again).retries?.length, 1);
  const r2 = await sh(`sparky retry ${id} W/flaky --as bob --comment 'second fix'`);
  assert.equal(r2.exitCode, 0, r2.stderr);
  assert.equal((await stack.env.client.workflow.getHandle(id).result()).state, 'completed');

  const s = step(await query(id));
  assert.equal(s.state, 'succeeded');
  assert.equal(s.attempts, 3, 'attempts in all, across both retries');
  assert.deepEqual(s.retries?.map((r) => [r.by, r.comment]), [['alice', 'first fix'], ['bob', 'second fix']]);

  const logs = await sh(`sparky logs ${id} W/flaky`);
  assert.equal(logs.exitCode, 0, logs.stderr);
  const [ra, rb] = s.retries!.map((r) => r.at.replace(/[.]/g, '\\.'));
  assert.match(logs.stdout, new RegExp([
    '^--- attempt 1 \\S+ ---\n\\$ .*\ntry 1\n[\\s\\S]*?',
    `^--- retried by alice at ${ra}: first fix \\(after 1 attempt\\) ---\n--- attempt 2 \\S+ ---\n\\$ .*\ntry 2\n[\\s\\S]*?`,
    `^--- retried by bob at ${rb}: second fix \\(after 2 attempts\\) ---\n--- attempt 3 \\S+ ---\n\\$ .*\ntry 3\n`,
  ].join(''), 'm'), logs.stdout);
  assert.doesNotMatch(logs.stdout, /--- attempt [4-9]/);

  const text = await sh(`sparky status ${id}`);
  assert.match(text.stdout, new RegExp(`^ {6}flaky: 3 attempts; retried by alice at ${ra} \\("first fix"\\); retried by bob at ${rb} \\("second fix"\\)$`, 'm'), text.stdout);
});

test('git flow: a commit step that changed nothing says so in the text status; a phase without a gate merges saying it has none', async () => {
  const repo = path.join(dir, 'repo');
  const git = (...args: string[]) => execFileSync('git', args, {
    cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com' },
  }).trim();
  mkdirSync(repo);
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(repo, 'a.txt'), 'a\n');
  git('add', '.');
  git('commit', '--quiet', '-m', 'initial');
  const id = await run('edges-git', {
    name: 'edges-git', git: { repo },
    phases: [{ id: 'release', domains: [{ id: 'd', workstreams: [
      { id: 'noop', steps: [{ id: 'save', kind: 'shell', cwd: repo, run: ['true'], commit: 'save: nothing to save' }] },
      { id: 'edit', steps: [{ id: 'write', kind: 'shell', cwd: repo, run: ['sh', '-c', 'echo A > a.txt'], commit: 'write: a.txt' }] },
    ] }] }],
  });
  assert.equal((await stack.env.client.workflow.getHandle(id).result()).state, 'completed');
  const text = await sh(`sparky status ${id}`);
  assert.equal(text.exitCode, 0, text.stderr);
  assert.match(text.stdout, /^ {4}noop +succeeded +✔save \(nothing committed\)$/m, text.stdout);
  assert.match(text.stdout, /^ {6}save: nothing committed: the step changed nothing in its worktree$/m);
  assert.match(text.stdout, /^ {4}edit +succeeded +✔write$/m, 'a step that committed shows a plain mark');

  const merge = git('log', '--merges', '--format=%B', '-1', 'main');
  assert.match(merge, /^Merge \S+ into main: workstream edit \(phase release has no gate\)\n\nPhase release has no gate: its branches merge when its workstreams are done\.\n\nSparky-Run: /);
  assert.doesNotMatch(merge, /gate \(phase|Sparky-Gate|approved/);
});
