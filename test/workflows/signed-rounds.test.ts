// Signed gates that hold across rounds, on the real stack (dev server, CPU worker on `sparky`, the real
// `sparky` and `temporal` CLIs, real ssh-keygen keys): a signed approval voided by a rejection, or by an
// escalation, does not count again when re-sent; a relayed rejection cannot change its rework list; a
// check added at a waiting gate runs and a fresh round follows; a quorum lowered (by a signed revision)
// to the votes given approves at once; a start signature changed by one byte fails `sparky verify`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startCpuWorker } from '../../workers/cpu.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { startDevServer } from '../helpers/temporal.ts';
import { keyDir, makeKey, sshSign, type TestKey } from '../helpers/ssh.ts';
import { eventually } from '../helpers/wait.ts';
import { gateOf, serverAddress, tempDir, temporal } from './helpers.ts';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let keys: string;
let alice: TestKey; let bob: TestKey; let carol: TestKey;

before(async () => {
  env = await startDevServer();
  worker = await startCpuWorker({ connection: env.nativeConnection, namespace: 'default', logDir: await tempDir('sparky-logs-') });
  running = worker.run();
  keys = await keyDir();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => makeKey(keys, n)));
});
after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

const sparky = (args: string[]) => execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), ...args],
  { cwd: PROJECT_ROOT, reject: false, stripFinalNewline: false, env: { TEMPORAL_ADDRESS: serverAddress(env), SPARKY_USER: 'dana' } });
const statusOf = (id: string) => env.client.workflow.getHandle(id).query<RunStatus>('status');
const gateState = (id: string, gate: string, state: string) => eventually(`${gate} ${state}`, () => statusOf(id), (s) => gateOf(s, gate).state === state);
const runId = (out: string) => /started (\S+)/.exec(out)?.[1] ?? assert.fail(`no run id in: ${out}`);
const esc = (s: string) => s.replace(/[+/]/g, '\\$&');

async function planFile(name: string, gate: string, w1 = '{ id: s, kind: shell, run: ["true"] }'): Promise<{ file: string; dir: string }> {
  const dir = await tempDir('sparky-rounds-');
  const file = path.join(dir, `${name}.plan.yaml`);
  await writeFile(file, `name: ${name}
phases:
  - id: p1
    domains: [{ id: d1, workstreams: [{ id: W1, steps: [${w1}] }, { id: W2, steps: [{ id: s, kind: shell, run: ["true"] }] }] }]
    gate:
${gate}
  - id: p2
    domains: [{ id: d2, workstreams: [{ id: W3, steps: [{ id: s, kind: shell, run: ["true"] }] }] }]
`);
  return { file, dir };
}

/** A signed decideGate input made by hand: `sparky statement`, then ssh-keygen, as an approver elsewhere would. */
async function signedVote(run: string, key: TestKey, decision: 'approve' | 'reject', extra: string[] = []) {
  const stmt = await sparky(['statement', run, 'gate-1', '--decision', decision, ...extra]);
  assert.equal(stmt.exitCode, 0, stmt.stderr);
  return { signedAt: /^time: (.+)$/m.exec(stmt.stdout)![1], signature: await sshSign(stmt.stdout, key), statement: stmt.stdout };
}

const decide = (run: string, input: Record<string, unknown>) =>
  temporal(env, ['workflow', 'update', 'execute', '--workflow-id', run, '--name', 'decideGate', '--input', JSON.stringify(input)]);

const keyed = (required: number, extra = '') => `      id: gate-1
      approval:
        approvers: [{ name: alice, key: "${alice.line}" }, { name: bob, key: "${bob.line}" }]
        required: ${required}${extra}`;

test('an approval voided by a rejection does not count again in the fresh round; a relayed rejection cannot change its rework list', async () => {
  const { file } = await planFile('rounds-rework', keyed(2));
  const run = runId((await sparky(['run', file])).stdout);
  await gateState(run, 'gate-1', 'waiting');
  assert.equal(gateOf(await statusOf(run), 'gate-1').round, 1);
  const a = await signedVote(run, alice, 'approve');
  assert.match(a.statement, /\nround: 1\n/);
  assert.equal((await decide(run, { gate: 'gate-1', approver: 'alice', decision: 'approve', signedAt: a.signedAt, signature: a.signature })).exitCode, 0);

  // bob signs a rejection reworking W1 only; whoever relays it cannot make it rework W2, or the whole phase.
  const r = await signedVote(run, bob, 'reject', ['--reason', 'W1 is wrong', '--rework', 'W1']);
  const relayed = { gate: 'gate-1', approver: 'bob', decision: 'reject', comment: 'W1 is wrong', signedAt: r.signedAt, signature: r.signature };
  const widened = await decide(run, { ...relayed, rework: ['W1', 'W2'] });
  assert.notEqual(widened.exitCode, 0);
  assert.match(widened.all ?? '', /does not match the statement/);
  const whole = await decide(run, relayed);
  assert.notEqual(whole.exitCode, 0);
  await env.client.workflow.getHandle(run).signal('rejectGate', { gate: 'gate-1', approver: 'bob', reason: 'W1 is wrong', rework: ['W2'], signedAt: r.signedAt, signature: r.signature });
  const ignored = await eventually('relayed signal ignored', () => statusOf(run), (s) => gateOf(s, 'gate-1').audit.some((e) => e.ignored && e.approver === 'bob'));
  assert.match(gateOf(ignored, 'gate-1').audit.find((e) => e.ignored)!.ignoredReason ?? '', /does not match the statement/);
  assert.equal(gateOf(ignored, 'gate-1').state, 'waiting', 'nothing was rejected');
  // As signed, it counts: W1 goes back, W2 stays done.
  assert.equal((await decide(run, { ...relayed, rework: ['W1'] })).exitCode, 0);
  const reworked = await eventually('W1 in attention', () => statusOf(run), (s) => s.phases[0].domains[0].workstreams[0].state === 'attention');
  assert.equal(reworked.phases[0].domains[0].workstreams[1].state, 'succeeded');
  assert.equal((await sparky(['retry', run, 'W1', '--as', 'dana'])).exitCode, 0);
  await eventually('round 2', () => statusOf(run), (s) => gateOf(s, 'gate-1').state === 'waiting' && gateOf(s, 'gate-1').round === 2);

  // alice's round-1 approval, sent again, does not count in round 2 (as an update: refused; as a signal: ignored).
  const replay = await decide(run, { gate: 'gate-1', approver: 'alice', decision: 'approve', signedAt: a.signedAt, signature: a.signature });
  assert.notEqual(replay.exitCode, 0);
  assert.match(replay.all ?? '', /does not match the statement|before the gate began waiting/);
  await env.client.workflow.getHandle(run).signal('approveGate', { gate: 'gate-1', approver: 'alice', signedAt: a.signedAt, signature: a.signature });
  const after2 = await eventually('replayed signal ignored', () => statusOf(run), (s) => gateOf(s, 'gate-1').audit.filter((e) => e.ignored).length === 2);
  assert.deepEqual(gateOf(after2, 'gate-1').approvals, []);

  // Fresh signatures in round 2 approve it; verify checks every decision against its round.
  for (const k of [alice, bob]) assert.equal((await sparky(['approve', run, 'gate-1', '--as', k.name, '--key', k.privateKey])).exitCode, 0);
  await env.client.workflow.getHandle(run).result();
  const verify = await sparky(['verify', run]);
  assert.equal(verify.exitCode, 0, verify.stdout);
  assert.match(verify.stdout, /rules of release 0\.2/);
  assert.match(verify.stdout, new RegExp(`✔ verified +reject +by bob with ${esc(bob.fingerprint)} \\(update, event \\d+, round 1`));
  assert.match(verify.stdout, new RegExp(`✔ verified +approve +by alice with ${esc(alice.fingerprint)} \\(update, event \\d+, round 2`));
});

test('an approval voided by an escalation does not count again; the escalation list decides in its own round', async () => {
  const { file } = await planFile('rounds-escalate', `      id: gate-1
      approval:
        approvers: [{ name: alice, key: "${alice.line}" }, { name: bob, key: "${bob.line}" }]
        required: 2
        timeout: 4s
        onTimeout: escalate
        escalate: { approvers: [{ name: alice, key: "${alice.line}" }, { name: carol, key: "${carol.line}" }], required: 2 }`);
  const run = runId((await sparky(['run', file])).stdout);
  await gateState(run, 'gate-1', 'waiting');
  const a = await signedVote(run, alice, 'approve');
  assert.equal((await decide(run, { gate: 'gate-1', approver: 'alice', decision: 'approve', signedAt: a.signedAt, signature: a.signature })).exitCode, 0);
  const escalated = await eventually('escalated', () => statusOf(run), (s) => gateOf(s, 'gate-1').escalated, 20_000);
  assert.equal(gateOf(escalated, 'gate-1').round, 2);
  assert.deepEqual(gateOf(escalated, 'gate-1').approvals, []);
  const replay = await decide(run, { gate: 'gate-1', approver: 'alice', decision: 'approve', signedAt: a.signedAt, signature: a.signature });
  assert.notEqual(replay.exitCode, 0, 'a round-1 vote does not count after the escalation');
  assert.match(replay.all ?? '', /does not match the statement|before the gate began waiting/);
  // bob was on the first list only.
  const bobVote = await sparky(['approve', run, 'gate-1', '--as', 'bob', '--key', bob.privateKey]);
  assert.equal(bobVote.exitCode, 4);
  assert.match(bobVote.stderr, /bob is not an approver of gate gate-1 \(escalated\)/);
  for (const k of [alice, carol]) assert.equal((await sparky(['approve', run, 'gate-1', '--as', k.name, '--key', k.privateKey])).exitCode, 0);
  await env.client.workflow.getHandle(run).result();
  const verify = await sparky(['verify', run]);
  assert.equal(verify.exitCode, 0, verify.stdout);
  assert.match(verify.stdout, new RegExp(`✔ verified +approve +by carol with ${esc(carol.fingerprint)} \\(update, event \\d+, round 2`));
});

test('a check added at a waiting gate runs, and votes start over; a quorum lowered by a signed revision approves at once', async () => {
  const { file, dir } = await planFile('rounds-revise', keyed(2));
  const run = runId((await sparky(['run', file])).stdout);
  await gateState(run, 'gate-1', 'waiting');
  assert.equal((await sparky(['approve', run, 'gate-1', '--as', 'alice', '--key', alice.privateKey])).exitCode, 0);

  // A check added (unsigned: checks are not approvals) runs at once; it fails, so the gate waits for a fix.
  const marker = path.join(dir, 'ready');
  const text = await readFile(file, 'utf8');
  const withCheck = text.replace('      id: gate-1\n', `      id: gate-1\n      checks: [{ id: ready, kind: file, path: "${marker}" }]\n`);
  await writeFile(file, withCheck);
  const revised = await sparky(['revise', run, file, '--as', 'dana']);
  assert.equal(revised.exitCode, 0, revised.stderr);
  assert.match(revised.stdout, /gate gate-1 checks/);
  const failed = await gateState(run, 'gate-1', 'checks-failed');
  assert.equal(gateOf(failed, 'gate-1').checks[0].id, 'ready');
  assert.deepEqual(gateOf(failed, 'gate-1').approvals, [], 'votes on other evidence do not carry');
  await writeFile(marker, 'yes');
  assert.equal((await sparky(['recheck', run, 'gate-1', '--as', 'dana'])).exitCode, 0);
  await eventually('round 2 waiting', () => statusOf(run), (s) => gateOf(s, 'gate-1').state === 'waiting' && gateOf(s, 'gate-1').round === 2);
  assert.equal((await sparky(['approve', run, 'gate-1', '--as', 'alice', '--key', alice.privateKey])).exitCode, 0);

  // required 2 → 1: an approval change, so alice and bob (the current quorum) sign; alice's vote already given approves the gate.
  await writeFile(file, withCheck.replace('required: 2', 'required: 1'));
  const unsigned = await sparky(['revise', run, file, '--as', 'dana']);
  assert.equal(unsigned.exitCode, 4);
  const onlyAlice = await sparky(['revise', run, file, '--as', 'dana', '--key', alice.privateKey]);
  assert.equal(onlyAlice.exitCode, 4);
  assert.match(onlyAlice.stderr, /gate gate-1: 1 of the 2 signatures needed from its current approvers \(alice, bob\); signed by alice/);
  const both = await sparky(['revise', run, file, '--as', 'dana', '--key', alice.privateKey, '--key', bob.privateKey]);
  assert.equal(both.exitCode, 0, both.stderr);
  const approved = await gateState(run, 'gate-1', 'approved');
  assert.match(gateOf(approved, 'gate-1').audit.at(-1)?.reason ?? '', /set the quorum to 1: alice approved already/);
  await env.client.workflow.getHandle(run).result();
  const verify = await sparky(['verify', run]);
  assert.equal(verify.exitCode, 0, verify.stdout);
  assert.match(verify.stdout, /revision 1 by dana .*· unsigned — gate gate-1 checks/);
  assert.match(verify.stdout, new RegExp(`revision 2 by dana .*✔ signed by gate-1: alice with ${esc(alice.fingerprint)}, bob with ${esc(bob.fingerprint)} — gate gate-1 approval`));
});

test('a start signature changed by one byte fails `sparky verify`', async () => {
  const { file } = await planFile('rounds-start', `      id: gate-1
      approval: { approvers: [bob] }`);
  const started = await sparky(['run', file, '--as', 'alice', '--key', alice.privateKey]);
  const run = runId(started.stdout);
  await gateState(run, 'gate-1', 'waiting');
  assert.equal((await sparky(['approve', run, 'gate-1', '--as', 'bob'])).exitCode, 0);
  await env.client.workflow.getHandle(run).result();
  const out = path.join(keys, 'start.json');
  assert.equal((await sparky(['history', run, '-o', out])).exitCode, 0);
  const good = await sparky(['verify', out]);
  assert.equal(good.exitCode, 0, good.stdout);
  assert.match(good.stdout, new RegExp(`started by alice with ${esc(alice.fingerprint)}: ✔ signed`));
  const doc = JSON.parse(await readFile(out, 'utf8')) as { events: Record<string, any>[] };
  const payload = doc.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
  const input = JSON.parse(Buffer.from(payload.data, 'base64').toString());
  const lines = input.options.startedBy.signature.split('\n');
  lines[2] = lines[2].slice(0, 20) + (lines[2][20] === 'A' ? 'B' : 'A') + lines[2].slice(21);
  input.options.startedBy.signature = lines.join('\n');
  payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
  const tampered = path.join(keys, 'start-tampered.json');
  await writeFile(tampered, JSON.stringify(doc));
  const bad = await sparky(['verify', tampered]);
  assert.equal(bad.exitCode, 5, bad.stdout);
  assert.match(bad.stdout, /started by alice: ✖ FAILED \(options.startedBy: bad signature/);
});
