// Signed gate decisions end to end, against the real dev server, a real CPU worker on queue `sparky`,
// the real `sparky` and `temporal` CLIs and real OpenSSH keys (`ssh-keygen -t ed25519`, `-Y sign`):
// a bare name is refused for a keyed approver, a signature over `sparky statement` approves, the same
// signature on another run is refused, a key not in the plan is refused, `sparky approve --key` signs
// (also through ssh-agent), `sparky verify` passes and fails after one byte of a signature changes,
// `sparky attest` writes an in-toto statement, preventSelfApproval refuses the starter, a key removed by
// a plan revision fails after it, and webhooks hear attention / waiting / decided / finished while a
// dead one delays nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { startCpuWorker } from '../../workers/cpu.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { freePort } from '../../host/ports.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { startDevServer } from '../helpers/temporal.ts';
import { keyDir, makeKey, type TestKey } from '../helpers/ssh.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';
import { eventually } from '../helpers/wait.ts';
import { gateOf, serverAddress, tempDir, temporal } from './helpers.ts';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let keys: string;
let alice: TestKey; let bob: TestKey; let carol: TestKey;
let receiver: Receiver;

before(async () => {
  env = await startDevServer();
  // `sparky run` starts runs on the real task queue name.
  worker = await startCpuWorker({ connection: env.nativeConnection, namespace: 'default', logDir: await tempDir('sparky-logs-'),
    activityDeps: { notify: { retryDelaysMs: [100, 200] } } });
  running = worker.run();
  keys = await keyDir();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => makeKey(keys, n)));
  receiver = await startReceiver();
});
after(async () => {
  worker?.shutdown();
  await running;
  await receiver?.close();
  await env?.teardown();
});

async function sparky(args: string[], extra: { input?: string; env?: Record<string, string> } = {}) {
  return execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), ...args], {
    cwd: PROJECT_ROOT, reject: false, stripFinalNewline: false, input: extra.input,
    env: { TEMPORAL_ADDRESS: serverAddress(env), SPARKY_USER: 'dana', ...extra.env },
  });
}

const statusOf = (id: string) => env.client.workflow.getHandle(id).query<RunStatus>('status');
const waiting = (id: string, gate: string) => eventually(`${gate} waiting`, () => statusOf(id), (s) => gateOf(s, gate).state === 'waiting');
const runId = (out: string) => /started (\S+)/.exec(out)?.[1] ?? assert.fail(`no run id in: ${out}`);

async function planFile(name: string, gate: string, extra = '', w1Step = '{ id: s, kind: shell, run: ["true"] }'): Promise<string> {
  const dir = await tempDir('sparky-signed-');
  const file = path.join(dir, `${name}.plan.yaml`);
  await writeFile(path.join(dir, 'allowed_signers'), `bob ${bob.line}\n`);
  await writeFile(file, `name: ${name}
${extra}phases:
  - id: p1
    domains: [{ id: d1, workstreams: [{ id: W1, steps: [${w1Step}] }] }]
    gate:
${gate}
  - id: p2
    domains: [{ id: d2, workstreams: [{ id: W2, steps: [{ id: s, kind: shell, run: ["true"] }] }] }]
`);
  return file;
}

async function sshSign(text: string, key: TestKey): Promise<string> {
  return (await execa('ssh-keygen', ['-Y', 'sign', '-n', 'sparky-gate', '-f', key.privateKey], { input: text, stripFinalNewline: false })).stdout;
}

test('keyed approvers: bare name refused, signed statement approves, replay and foreign key refused, --key signs, verify and attest', async () => {
  const file = await planFile('signed', `      id: gate-1
      checks: [{ id: ok, kind: command, run: ["true"] }]
      allowedSigners: allowed_signers
      approval:
        approvers: [{ name: alice, key: "${alice.line}" }, bob]
        required: 2`);
  const [a, b] = await Promise.all([sparky(['run', file]), sparky(['run', file])]);
  assert.equal(a.exitCode, 0, a.stderr);
  const run = runId(a.stdout); const other = runId(b.stdout);
  await Promise.all([waiting(run, 'gate-1'), waiting(other, 'gate-1')]);
  const st = await statusOf(run);
  assert.deepEqual(gateOf(st, 'gate-1').approvers, ['alice', 'bob'], 'the status lists names');
  assert.deepEqual(gateOf(st, 'gate-1').signedApprovers, ['alice', 'bob']);
  assert.match(st.waitingFor, /--key/);

  // A bare name is refused with the reason.
  const bare = await temporal(env, ['workflow', 'update', 'execute', '--workflow-id', run, '--name', 'decideGate',
    '--input', JSON.stringify({ gate: 'gate-1', approver: 'alice', decision: 'approve' })]);
  assert.notEqual(bare.exitCode, 0);
  assert.match(bare.all ?? '', /alice has a key in the plan: a decision in their name needs "signature" and "signedAt"/);

  // `sparky statement` prints the bytes; ssh-keygen signs them; the update with the signature approves.
  const stmt = await sparky(['statement', run, 'gate-1', '--decision', 'approve', '--comment', 'reviewed']);
  assert.equal(stmt.exitCode, 0, stmt.stderr);
  assert.match(stmt.stdout, /^sparky gate decision v2\nplan: signed\nplan-digest: sha256:[0-9a-f]{64}\nrun: \S+\ngate: gate-1\nround: 1\ndecision: approve\ncomment: "reviewed"\nrework: \[\]\n/);
  const signedAt = /^time: (.+)$/m.exec(stmt.stdout)![1];
  const signature = await sshSign(stmt.stdout, alice);
  const input = { gate: 'gate-1', approver: 'alice', decision: 'approve', comment: 'reviewed', signedAt, signature };
  const good = await temporal(env, ['workflow', 'update', 'execute', '--workflow-id', run, '--name', 'decideGate', '--input', JSON.stringify(input)]);
  assert.equal(good.exitCode, 0, good.all);
  assert.deepEqual(gateOf(await statusOf(run), 'gate-1').approvals, ['alice']);

  // The same signature replayed on another run is refused (the statement names the run).
  const replay = await temporal(env, ['workflow', 'update', 'execute', '--workflow-id', other, '--name', 'decideGate', '--input', JSON.stringify(input)]);
  assert.notEqual(replay.exitCode, 0);
  assert.match(replay.all ?? '', /does not match the statement/);
  // A third key, not in the plan, signing for bob: refused. As a signal it is ignored and audited.
  const carolSig = await sshSign(stmt.stdout.replace('comment: "reviewed"', 'comment: ""'), carol);
  const foreign = await temporal(env, ['workflow', 'update', 'execute', '--workflow-id', run, '--name', 'decideGate',
    '--input', JSON.stringify({ gate: 'gate-1', approver: 'bob', decision: 'approve', signedAt, signature: carolSig })]);
  assert.notEqual(foreign.exitCode, 0);
  assert.match(foreign.all ?? '', /signed with key SHA256:\S+, which is not a key of bob/);
  await env.client.workflow.getHandle(run).signal('approveGate', { gate: 'gate-1', approver: 'bob', signedAt, signature: carolSig });
  const audited = await eventually('ignored signal audited', () => statusOf(run), (s) => gateOf(s, 'gate-1').audit.some((e) => e.ignored));
  const ignored = gateOf(audited, 'gate-1').audit.find((e) => e.ignored)!;
  assert.match(ignored.ignoredReason ?? '', /not a key of bob/);
  assert.equal(ignored.signature, carolSig);

  // `sparky approve --key` through ssh-agent with bob's .pub (the private key stays in the agent).
  const agent = await execa('ssh-agent', ['-s']);
  const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(agent.stdout)![1];
  const agentPid = /SSH_AGENT_PID=(\d+);/.exec(agent.stdout)![1];
  try {
    await execa('ssh-add', [bob.privateKey], { env: { SSH_AUTH_SOCK: sock } });
    const approve = await sparky(['approve', run, 'gate-1', '--as', 'bob', '--key', bob.publicKey], { env: { SSH_AUTH_SOCK: sock } });
    assert.equal(approve.exitCode, 0, approve.stderr);
    assert.match(approve.stdout, new RegExp(`approved gate-1 as bob \\(signed, key ${bob.fingerprint.replace(/[+/]/g, '\\$&')}\\)`));
  } finally {
    process.kill(Number(agentPid));
  }
  await env.client.workflow.getHandle(run).result();
  const done = gateOf(await statusOf(run), 'gate-1');
  assert.deepEqual(done.audit.filter((e) => !e.ignored).map((e) => [e.approver, e.fingerprint]), [['alice', alice.fingerprint], ['bob', bob.fingerprint]]);

  // The record verifies from the history alone, and fails when one byte of a signature changes.
  const verify = await sparky(['verify', run]);
  assert.equal(verify.exitCode, 0, verify.stdout + verify.stderr);
  assert.match(verify.stdout, new RegExp(`✔ verified +approve +by alice with ${alice.fingerprint.replace(/[+/]/g, '\\$&')}`));
  assert.match(verify.stdout, /- ignored +approve +by bob .*not a key of bob/);
  const exported = path.join(keys, 'history.json');
  assert.equal((await sparky(['history', run, '-o', exported])).exitCode, 0);
  assert.equal((await sparky(['verify', exported])).exitCode, 0);
  const text = await readFile(exported, 'utf8');
  // The signature sits base64-encoded in the update's payload: change one byte of the decoded input.
  const doc = JSON.parse(text) as { events: Record<string, any>[] };
  const accepted = doc.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED'
    && JSON.parse(Buffer.from(e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0].data, 'base64').toString()).approver === 'alice')!;
  const payload = accepted.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0];
  const decoded = JSON.parse(Buffer.from(payload.data, 'base64').toString());
  const lines = decoded.signature.split('\n');
  lines[2] = lines[2].slice(0, 20) + (lines[2][20] === 'A' ? 'B' : 'A') + lines[2].slice(21);
  decoded.signature = lines.join('\n');
  payload.data = Buffer.from(JSON.stringify(decoded)).toString('base64');
  const tampered = path.join(keys, 'tampered.json');
  await writeFile(tampered, JSON.stringify(doc));
  const bad = await sparky(['verify', tampered]);
  assert.notEqual(bad.exitCode, 0);
  assert.match(bad.stdout, /✖ FAILED +approve +by alice/);

  // in-toto attestation of the verified record.
  const out = path.join(keys, 'attestation.json');
  const attest = await sparky(['attest', run, '-o', out]);
  assert.equal(attest.exitCode, 0, attest.stderr);
  const statement = JSON.parse(await readFile(out, 'utf8'));
  assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
  assert.deepEqual(statement.subject.map((s: { name: string }) => s.name), ['plan:signed', `run:${run}`]);
  assert.equal(`sha256:${statement.subject[0].digest.sha256}`, (await statusOf(run)).planDigest);
  const decisions = statement.predicate.gates[0].decisions;
  assert.deepEqual(decisions.map((d: { approver: string; fingerprint: string }) => [d.approver, d.fingerprint]), [['alice', alice.fingerprint], ['bob', bob.fingerprint]]);
  assert.equal((await sparky(['attest', tampered, '-o', path.join(keys, 'no.json')])).exitCode, 5);
  await env.client.workflow.getHandle(other).cancel();
});

test('preventSelfApproval refuses the starter; another approver passes the gate', async () => {
  const file = await planFile('selfish', `      id: gate-1
      preventSelfApproval: true
      approval: { approvers: [alice, bob] }`);
  const started = await sparky(['run', file, '--as', 'alice']);
  const run = runId(started.stdout);
  await waiting(run, 'gate-1');
  assert.deepEqual((await statusOf(run)).startedBy, { name: 'alice' });
  const self = await sparky(['approve', run, 'gate-1', '--as', 'alice']);
  assert.equal(self.exitCode, 4);
  assert.match(self.stderr, /refused: alice started this run; gate gate-1 has preventSelfApproval/);
  assert.equal((await sparky(['approve', run, 'gate-1', '--as', 'bob'])).exitCode, 0);
  await env.client.workflow.getHandle(run).result();
});

test('preventSelfApproval on keyed gates: the starter must be known by a key the plan lists, under its own name', async () => {
  const file = await planFile('selfish-key', `      id: gate-1
      preventSelfApproval: true
      approval: { approvers: [{ name: alice, key: "${alice.line}" }, bob] }`);
  // Refused before anything starts: no key, a key the plan does not list, alice's key under another name.
  const unsigned = await sparky(['run', file, '--as', 'dave']);
  assert.equal(unsigned.exitCode, 2);
  assert.match(unsigned.stderr, /preventSelfApproval with keyed approvers: the run's starter must be known by a key the plan lists, and dave's start is not signed/);
  const unlisted = await sparky(['run', file, '--as', 'carol', '--key', carol.privateKey]);
  assert.equal(unlisted.exitCode, 2);
  assert.match(unlisted.stderr, new RegExp(`key ${carol.fingerprint.replace(/[+/]/g, '\\$&')} \\(carol\\) is not listed in the plan`));
  const renamed = await sparky(['run', file, '--as', 'al', '--key', alice.privateKey]);
  assert.equal(renamed.exitCode, 2);
  assert.match(renamed.stderr, /belongs to alice in the plan, not to al/);
  // The workflow refuses the same starts by itself (temporal workflow start with a hand-made input).
  const plan = JSON.parse((await sparky(['input', file, '--id', 'x', '--as', 'alice', '--key', alice.privateKey])).stdout).plan;
  const forged = await temporal(env, ['workflow', 'start', '--task-queue', 'sparky', '--type', 'metaOrchestrator', '--workflow-id', 'sparky-selfish-forged',
    '--input', JSON.stringify({ plan, options: { startedBy: { name: 'dave' } } })]);
  assert.equal(forged.exitCode, 0, forged.all);
  await assert.rejects(env.client.workflow.getHandle('sparky-selfish-forged').result(), (e: Error) => /dave's start is not signed/.test(String((e as { cause?: Error }).cause?.message)));
  assert.match((await sparky(['input', file])).stderr, /give --id, --as and --key/);

  // Started by alice with her key (here through `sparky input` and the temporal CLI): her own approval is refused, bob's counts.
  const input = await sparky(['input', file, '--id', 'sparky-selfish-key-1', '--as', 'alice', '--key', alice.privateKey]);
  assert.equal(input.exitCode, 0, input.stderr);
  const started = await temporal(env, ['workflow', 'start', '--task-queue', 'sparky', '--type', 'metaOrchestrator', '--workflow-id', 'sparky-selfish-key-1', '--input', input.stdout.trim()]);
  assert.equal(started.exitCode, 0, started.all);
  const run = 'sparky-selfish-key-1';
  await waiting(run, 'gate-1');
  assert.deepEqual((await statusOf(run)).startedBy, { name: 'alice', fingerprint: alice.fingerprint });
  const self = await sparky(['approve', run, 'gate-1', '--as', 'alice', '--key', alice.privateKey]);
  assert.equal(self.exitCode, 4);
  assert.match(self.stderr, /alice started this run; gate gate-1 has preventSelfApproval/);
  assert.equal((await sparky(['approve', run, 'gate-1', '--as', 'bob'])).exitCode, 0);
  await env.client.workflow.getHandle(run).result();
  const verify = await sparky(['verify', run]);
  assert.equal(verify.exitCode, 0, verify.stdout);
  assert.match(verify.stdout, new RegExp(`started by alice with ${alice.fingerprint.replace(/[+/]/g, '\\$&')}: ✔ signed`));
});

test('webhooks hear attention, waiting, decided and finished with the commands; a dead webhook delays nothing', async () => {
  receiver.received.length = 0;
  const dead = await freePort();
  const file = await planFile('notified', `      id: gate-1
      approval: { approvers: [alice] }`, `notify:
  webhooks:
    - { url: "${receiver.url}/hook" }
    - { url: "http://127.0.0.1:${dead}/dead", format: slack }
`, '{ id: s, kind: shell, run: ["false"], retry: { maximumAttempts: 1 } }');
  const started = await sparky(['run', file]);
  const run = runId(started.stdout);
  // The step fails for good: the run waits in attention, and the webhook hears it.
  const attention = await eventually('attention notification', async () => receiver.received.map((r) => r.body), (b) => b.some((x) => x.event === 'attention'));
  assert.match(String(attention.find((x) => x.event === 'attention')!.text), new RegExp(`run ${run} \\(plan notified\\) needs attention\n\nneeds attention: W1/s failed[^]*sparky retry ${run} W1/s`));
  assert.equal((await sparky(['skip', run, 'W1/s', '--as', 'alice', '--reason', 'not needed here'])).exitCode, 0);
  await waiting(run, 'gate-1');
  const hooked = await eventually('waiting notification', async () => receiver.received.map((r) => r.body), (b) => b.some((x) => x.event === 'waiting'));
  const wait = hooked.find((x) => x.event === 'waiting')!;
  assert.ok((wait.commands as string[]).includes(`npx sparky approve ${run} gate-1 --as NAME`));
  assert.match(String(wait.text), new RegExp(`Gate gate-1 of run ${run} \\(plan notified\\) waits for approval`));
  const t0 = Date.now();
  assert.equal((await sparky(['approve', run, 'gate-1', '--as', 'alice'])).exitCode, 0);
  await env.client.workflow.getHandle(run).result();
  assert.ok(Date.now() - t0 < 15_000, 'the run was not held up by the dead webhook');
  const events = await eventually('finished notification', async () => receiver.received.map((r) => r.body.event), (e) => e.includes('finished'));
  assert.deepEqual(events, ['attention', 'waiting', 'decided', 'finished']);
  const final = await statusOf(run);
  assert.equal(final.state, 'completed');
  assert.equal(final.notifications?.sent, 4);
  assert.equal(final.notifications?.failed, 4);
  assert.match(final.notifications?.lastError ?? '', /ECONNREFUSED/);
});

test('a key swap by an unsigned revision is refused; signed by the gate\'s current quorum it counts, and verify follows it', async () => {
  const gate = (key: TestKey) => `      id: gate-1
      approval: { approvers: [{ name: alice, key: "${key.line}" }, bob], required: 1 }`;
  const file = await planFile('revised', gate(alice));
  const run = runId((await sparky(['run', file])).stdout);
  await waiting(run, 'gate-1');
  const before = (await statusOf(run)).planDigest;
  const old = await sparky(['statement', run, 'gate-1', '--decision', 'approve']);
  const oldSig = await sshSign(old.stdout, alice);
  const oldAt = /^time: (.+)$/m.exec(old.stdout)![1];
  // Someone replaces alice's key with their own (carol's key file stands in for the outsider's key).
  await writeFile(file, (await readFile(file, 'utf8')).replace(alice.line, carol.line));
  const unsigned = await sparky(['revise', run, file, '--as', 'ops']);
  assert.equal(unsigned.exitCode, 4, unsigned.stdout + unsigned.stderr);
  assert.match(unsigned.stderr, /the revision changes what only approvers may change: it needs the signatures of 1 of gate gate-1's current approvers \(alice\) for gate gate-1 approval/);
  // Signed with the new key itself: not a current approver's.
  const selfSigned = await sparky(['revise', run, file, '--as', 'ops', '--key', carol.privateKey]);
  assert.equal(selfSigned.exitCode, 4);
  assert.match(selfSigned.stderr, new RegExp(`signed with key ${carol.fingerprint.replace(/[+/]/g, '\\$&')}, which is not a key of a current approver`));
  assert.equal((await statusOf(run)).planDigest, before, 'nothing changed');
  // alice's own approval still counts with her key (checked but not sent: the gate stays open).
  // The statement names the run, the revision, both digests and the changes; alice (the current quorum) signs it.
  const stmt = await sparky(['revise', run, file, '--statement']);
  assert.equal(stmt.exitCode, 0, stmt.stderr);
  assert.match(stmt.stdout, new RegExp(`^sparky plan revision v1\nplan: revised\nrun: ${run}\nrevision: 1\nplan-digest: ${before}\nnew-plan-digest: sha256:[0-9a-f]{64}\nchanges: \\["gate gate-1 approval"\\]\ntime: `));
  assert.match(stmt.stderr, /Who must sign it: 1 of alice \(gate gate-1: gate gate-1 approval\)/);
  const at = /^time: (.+)$/m.exec(stmt.stdout)![1];
  const sigFile = path.join(keys, 'revision.sig');
  await writeFile(sigFile, await sshSign(stmt.stdout, alice));
  const signed = await sparky(['revise', run, file, '--as', 'alice', '--signed-at', at, '--signature', sigFile]);
  assert.equal(signed.exitCode, 0, signed.stdout + signed.stderr);
  assert.match(signed.stdout, /revision 1 of \S+ by alice \(1 signature\): gate gate-1 approval/);
  const st = await statusOf(run);
  assert.notEqual(st.planDigest, before, 'the plan digest follows the revision');
  assert.deepEqual(st.revisions[0].signedBy, [{ gate: 'gate-1', approvers: [{ name: 'alice', fingerprint: alice.fingerprint }] }]);
  // The same signature cannot carry a second revision.
  const again = await sparky(['revise', run, file, '--as', 'alice', '--signed-at', at, '--signature', sigFile]);
  assert.equal(again.exitCode, 4);
  // The old key no longer counts; the new one does.
  const stale = await temporal(env, ['workflow', 'update', 'execute', '--workflow-id', run, '--name', 'decideGate',
    '--input', JSON.stringify({ gate: 'gate-1', approver: 'alice', decision: 'approve', signedAt: oldAt, signature: oldSig })]);
  assert.notEqual(stale.exitCode, 0);
  assert.match(stale.all ?? '', /signed with key SHA256:\S+, which is not a key of alice/);
  const approve = await sparky(['approve', run, 'gate-1', '--as', 'alice', '--key', carol.privateKey]);
  assert.equal(approve.exitCode, 0, approve.stderr);
  await env.client.workflow.getHandle(run).result();
  const verify = await sparky(['verify', run]);
  assert.equal(verify.exitCode, 0, verify.stdout);
  assert.match(verify.stdout, new RegExp(`revision 1 by alice \\(event \\d+\\): ✔ signed by gate-1: alice with ${alice.fingerprint.replace(/[+/]/g, '\\$&')}`));
  assert.match(verify.stdout, new RegExp(`✔ verified +approve +by alice with ${carol.fingerprint.replace(/[+/]/g, '\\$&')}`));
});

test('a key swap that release 0.1 took unsigned fails `sparky verify` (recorded on 0.1: test/fixtures/verify/keyswap-0.1.0.json)', async () => {
  const fixture = path.join(PROJECT_ROOT, 'test', 'fixtures', 'verify', 'keyswap-0.1.0.json');
  const verify = await sparky(['verify', fixture]);
  assert.equal(verify.exitCode, 5, verify.stdout);
  assert.match(verify.stdout, /revision 1 by mallory \(event \d+\): ✖ FAILED — gate gate-1 approval: unsigned, yet it changed gate gate-1 approval/);
  assert.match(verify.stdout, /✖ FAILED +approve +by alice .*it verifies only with a key an unsigned plan revision gave alice/);
});
