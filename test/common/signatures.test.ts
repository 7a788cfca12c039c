// SSHSIG verification and signed gate decisions in pure JS (common/), against real OpenSSH: keys from
// `ssh-keygen -t ed25519`, signatures from `ssh-keygen -Y sign -n sparky-gate`, fingerprints as
// `ssh-keygen -l` prints them. Covers the forged / replayed / self-approval rows of docs/security.md,
// and the rules of release 0.2: rounds and rework lists in statements, signatures counted once, the
// starter known by a listed key, revisions signed by the current quorum, every plan field compared.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { verifySshsig } from '../../common/sshsig.ts';
import { fingerprint, parsePublicKey } from '../../common/ssh-keys.ts';
import { base64Decode, base64Encode } from '../../common/bytes.ts';
import { buildStatement, checksDigest, planDigest, type StatementFields } from '../../common/gate-statement.ts';
import { canonicalJson } from '../../common/canonical-json.ts';
import { selfApprovalRefusal, signatureId, verifyDecision, verifyStarter } from '../../common/signed-decision.ts';
import { buildStartStatement } from '../../common/gate-statement.ts';
import { keyDir, makeKey, sshSign, type TestKey } from '../helpers/ssh.ts';

let dir: string;
let alice: TestKey; let bob: TestKey; let mallory: TestKey;
before(async () => {
  dir = await keyDir();
  [alice, bob, mallory] = await Promise.all(['alice', 'bob', 'mallory'].map((n) => makeKey(dir, n)));
});

const fields: StatementFields = {
  plan: 'demo', planDigest: planDigest({ name: 'demo', phases: [] }), run: 'sparky-demo-20261130-1100-abcd', gate: 'gate-1',
  decision: 'approve', comment: 'looks good', checksDigest: checksDigest([]), time: '2026-11-30T11:00:00.000Z',
};

test('the statement is exact, stable bytes; free text cannot forge a field', () => {
  const text = buildStatement(fields);
  assert.equal(text, [
    'sparky gate decision v1', 'plan: demo', `plan-digest: ${fields.planDigest}`, 'run: sparky-demo-20261130-1100-abcd',
    'gate: gate-1', 'decision: approve', 'comment: "looks good"', `checks-digest: ${fields.checksDigest}`, 'time: 2026-11-30T11:00:00.000Z', '',
  ].join('\n'));
  const sneaky = buildStatement({ ...fields, comment: 'ok"\ndecision: reject' });
  assert.equal(sneaky.split('\n').filter((l) => l.startsWith('decision:')).length, 1);
  assert.throws(() => buildStatement({ ...fields, gate: 'gate-1\nrun: other' }), /one line/);
  assert.throws(() => buildStatement({ ...fields, time: 'yesterday' }), /ISO 8601/);
});

test('digests: canonical JSON sorts keys, so key order does not change the plan digest', () => {
  assert.equal(canonicalJson({ b: 1, a: [true, { d: null, c: 'x' }], u: undefined }), '{"a":[true,{"c":"x","d":null}],"b":1}');
  assert.equal(planDigest({ name: 'p', phases: [1] }), planDigest({ phases: [1], name: 'p' }));
  assert.notEqual(planDigest({ name: 'p', phases: [1] }), planDigest({ name: 'p', phases: [2] }));
  assert.match(checksDigest([{ id: 'ok', kind: 'command', passed: true, message: 'exit 0', durationMs: 3 }]), /^sha256:[0-9a-f]{64}$/);
  assert.equal(checksDigest([]), 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945'); // sha256 of "[]"
});

test('fingerprints match ssh-keygen -l, base64 round-trips', () => {
  for (const key of [alice, bob]) {
    const parsed = parsePublicKey(key.line);
    assert.ok(!('error' in parsed));
    assert.equal(fingerprint(parsed), key.fingerprint);
    assert.equal(parsed.comment, `${key.name}@sparky-test`);
  }
  for (let n = 0; n < 8; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 0xff);
    assert.deepEqual(base64Decode(base64Encode(bytes)), bytes);
    assert.equal(base64Encode(bytes), Buffer.from(bytes).toString('base64'));
  }
  assert.match(JSON.stringify(parsePublicKey('ssh-rsa AAAAB3NzaC1yc2E')), /only ssh-ed25519/);
  assert.match(JSON.stringify(parsePublicKey('ssh-ed25519 !!!')), /base64/);
});

test('a real ssh-keygen signature verifies; a changed message, another namespace or hash sha256 behave', async () => {
  const message = buildStatement(fields);
  const sig = await sshSign(message, alice);
  const good = verifySshsig(message, sig);
  assert.equal(good.ok, true);
  assert.equal(good.ok && good.fingerprint, alice.fingerprint);
  const tampered = verifySshsig(message.replace('approve', 'reject'), sig);
  assert.equal(tampered.ok, false);
  assert.match(!tampered.ok ? tampered.reason : '', /does not match/);
  const gitSig = await sshSign(message, alice, 'git');
  const wrongNs = verifySshsig(message, gitSig);
  assert.match(!wrongNs.ok ? wrongNs.reason : '', /namespace "git", not "sparky-gate"/);
  const sha256Sig = await sshSign(message, alice, 'sparky-gate', ['-O', 'hashalg=sha256']);
  assert.equal(verifySshsig(message, sha256Sig).ok, true);
  // One changed byte inside the armored signature.
  const body = sig.split('\n');
  body[3] = body[3].slice(0, 10) + (body[3][10] === 'A' ? 'B' : 'A') + body[3].slice(11);
  assert.equal(verifySshsig(message, body.join('\n')).ok, false);
  assert.match(JSON.stringify(verifySshsig(message, 'hello')), /not an SSH signature/);
  // And ssh-keygen agrees with us on the good one.
  const signers = path.join(dir, 'allowed_signers');
  await writeFile(signers, `alice ${alice.line}\n`);
  await writeFile(path.join(dir, 'msg'), message);
  const sigFile = path.join(dir, 'msg.sig');
  await writeFile(sigFile, sig);
  const ok = await execa('sh', ['-c', `ssh-keygen -Y verify -f ${signers} -I alice -n sparky-gate -s ${sigFile} < ${path.join(dir, 'msg')}`], { reject: false });
  assert.equal(ok.exitCode, 0, ok.stderr);
});

test('verifyDecision: the listed key over the exact statement, nothing else', async () => {
  const entry = { name: 'alice', key: alice.line };
  const sig = await sshSign(buildStatement(fields), alice);
  const { time, ...rest } = fields;
  const ok = verifyDecision({ approverEntry: entry, statementFields: { ...rest, time }, signature: sig });
  assert.deepEqual(ok, { ok: true, signed: true, fingerprint: alice.fingerprint, keyType: 'ssh-ed25519', signatureId: signatureId(sig) });

  const refuse = (args: Partial<Parameters<typeof verifyDecision>[0]>, re: RegExp) => {
    const r = verifyDecision({ approverEntry: entry, statementFields: fields, signature: sig, ...args });
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.match(!r.ok ? r.reason : '', re);
  };
  refuse({ signature: undefined }, /alice has a key in the plan: a decision in their name needs "signature"/);
  refuse({ statementFields: { ...fields, time: undefined } }, /signedAt/);
  refuse({ statementFields: { ...fields, run: 'sparky-demo-other' } }, /does not match/); // replay on another run
  refuse({ statementFields: { ...fields, gate: 'gate-2' } }, /does not match/); // another gate
  refuse({ statementFields: { ...fields, decision: 'reject' } }, /does not match/);
  refuse({ statementFields: { ...fields, comment: 'changed' } }, /does not match/);
  refuse({ statementFields: { ...fields, planDigest: planDigest({ name: 'demo', phases: [1] }) } }, /does not match/); // revised plan
  refuse({ signature: await sshSign(buildStatement(fields), mallory) }, /signed with key .* not a key of alice/);
  refuse({ notBefore: '2026-11-30T12:00:00.000Z' }, /before the gate began waiting/);
  refuse({ notAfter: '2026-11-30T10:00:00.000Z' }, /in the future/);
  // Several keys: any listed one counts.
  const both = verifyDecision({ approverEntry: { name: 'alice', key: [bob.line, alice.line] }, statementFields: fields, signature: sig });
  assert.equal(both.ok, true);
  // A plain name: no key, nothing to check (decisions work as before keys existed).
  assert.deepEqual(verifyDecision({ approverEntry: 'carol', statementFields: fields }), { ok: true, signed: false });
});

test('preventSelfApproval: by name, and by key when the start was signed', async () => {
  const run = { plan: 'demo', planDigest: fields.planDigest, run: fields.run };
  const startSig = await sshSign(buildStartStatement({ ...run, by: 'al', time: fields.time }), alice);
  const started = verifyStarter({ name: 'al', signature: startSig, signedAt: fields.time }, run);
  assert.equal(started.ok, true);
  const starter = started.ok ? started.starter : undefined;
  assert.deepEqual(starter, { name: 'al', fingerprint: alice.fingerprint });
  const forged = verifyStarter({ name: 'al', signature: startSig, signedAt: fields.time }, { ...run, run: 'other' });
  assert.equal(forged.ok, false);

  const gate = 'gate-1';
  assert.match(selfApprovalRefusal({ gate, starter: { name: 'alice' }, approverEntry: 'alice', decision: 'approve' }) ?? '', /alice started this run/);
  assert.equal(selfApprovalRefusal({ gate, starter: { name: 'alice' }, approverEntry: 'alice', decision: 'reject' }), undefined);
  assert.equal(selfApprovalRefusal({ gate, starter: { name: 'alice' }, approverEntry: 'bob', decision: 'approve' }), undefined);
  // The same key under another name is the same person.
  assert.match(selfApprovalRefusal({ gate, starter, approverEntry: { name: 'alice', key: alice.line }, decision: 'approve' }) ?? '', /key SHA256:.* started this run \(as al\)/);
  assert.equal(selfApprovalRefusal({ gate, starter, approverEntry: { name: 'bob', key: bob.line }, decision: 'approve' }), undefined);
  assert.match(selfApprovalRefusal({ gate, starter: undefined, approverEntry: 'bob', decision: 'approve' }) ?? '', /records no starter/);
});

test('checkSignedDecision: the gate\'s current list, the wait window and preventSelfApproval in one call', async () => {
  const { checkSignedDecision } = await import('../../common/gate-signing.ts');
  const gateDef = { id: 'gate-1', preventSelfApproval: true, approval: {
    approvers: [{ name: 'alice', key: alice.line }, 'bob'], required: 2, onTimeout: 'escalate' as const, timeout: '1h',
    escalate: { approvers: [{ name: 'mallory', key: mallory.line }] } } };
  const ctx = { planName: 'demo', planDigest: fields.planDigest, runWorkflowId: fields.run, gateDef, escalated: false, checks: [],
    waitingSince: '2026-11-30T10:59:00.000Z', now: '2026-11-30T11:01:00.000Z', starter: { name: 'bob' } };
  const signature = await sshSign(buildStatement(fields), alice);
  const ok = checkSignedDecision(ctx, { approver: 'alice', decision: 'approve', comment: 'looks good', signature, signedAt: fields.time });
  assert.deepEqual(ok.ok && [ok.fingerprint, ok.checksDigest, typeof ok.signatureId], [alice.fingerprint, checksDigest([]), 'string']);
  const bare = checkSignedDecision(ctx, { approver: 'alice', decision: 'approve' });
  assert.match(!bare.ok ? bare.reason : '', /alice has a key in the plan/);
  const self = checkSignedDecision(ctx, { approver: 'bob', decision: 'approve' });
  assert.match(!self.ok ? self.reason : '', /bob started this run/);
  const stale = checkSignedDecision({ ...ctx, waitingSince: '2026-11-30T12:00:00.000Z', now: '2026-11-30T12:01:00.000Z' },
    { approver: 'alice', decision: 'approve', comment: 'looks good', signature, signedAt: fields.time });
  assert.match(!stale.ok ? stale.reason : '', /before the gate began waiting/);
  const escalated = checkSignedDecision({ ...ctx, escalated: true }, { approver: 'alice', decision: 'approve', comment: 'looks good', signature, signedAt: fields.time });
  assert.match(!escalated.ok ? escalated.reason : '', /alice is not an approver of gate gate-1/);
});

test('v2 statements name the round and the rework list; a vote from another round, or a relayed rejection with another scope, does not verify', async () => {
  const { checkSignedDecision } = await import('../../common/gate-signing.ts');
  const gateDef = { id: 'gate-1', approval: { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], required: 2 } };
  const v2 = { ...fields, round: 2, rework: [] as string[] };
  const text = buildStatement(v2);
  assert.equal(text, [
    'sparky gate decision v2', 'plan: demo', `plan-digest: ${fields.planDigest}`, 'run: sparky-demo-20261130-1100-abcd',
    'gate: gate-1', 'round: 2', 'decision: approve', 'comment: "looks good"', 'rework: []', `checks-digest: ${fields.checksDigest}`, 'time: 2026-11-30T11:00:00.000Z', '',
  ].join('\n'));
  assert.match(buildStatement({ ...v2, decision: 'reject', rework: ['W2', 'W1', 'W2'] }), /\nrework: \["W1","W2"\]\n/);
  assert.throws(() => buildStatement({ ...v2, round: 0 }), /round must be a whole number/);
  const used = new Set<string>();
  const ctx = { planName: 'demo', planDigest: fields.planDigest, runWorkflowId: fields.run, gateDef, escalated: false, checks: [],
    waitingSince: '2026-11-30T10:59:00.000Z', now: '2026-11-30T11:01:00.000Z', round: 2, used };
  const vote = { approver: 'alice', decision: 'approve' as const, comment: 'looks good', signedAt: fields.time };
  const good = checkSignedDecision(ctx, { ...vote, signature: await sshSign(text, alice) });
  assert.equal(good.ok, true);
  // The same vote signed for round 1 (before a rework or an escalation), or as a v1 statement: refused.
  const round1 = checkSignedDecision(ctx, { ...vote, signature: await sshSign(buildStatement({ ...v2, round: 1 }), alice) });
  assert.match(!round1.ok ? round1.reason : '', /does not match the statement/);
  const v1 = checkSignedDecision(ctx, { ...vote, signature: await sshSign(buildStatement(fields), alice) });
  assert.match(!v1.ok ? v1.reason : '', /does not match the statement/);
  // Once counted, the signature does not count again.
  if (good.ok) used.add(good.signatureId!);
  const replay = checkSignedDecision(ctx, { ...vote, signature: await sshSign(text, alice) });
  assert.match(!replay.ok ? replay.reason : '', /already counted in this run/);
  // bob rejects reworking W1 only; whoever relays it cannot widen or change the scope.
  const reject = { approver: 'bob', decision: 'reject' as const, comment: 'W1 is wrong', signedAt: fields.time };
  const sig = await sshSign(buildStatement({ ...v2, decision: 'reject', comment: 'W1 is wrong', rework: ['W1'] }), bob);
  assert.equal(checkSignedDecision(ctx, { ...reject, rework: ['W1'], signature: sig }).ok, true);
  const widened = checkSignedDecision(ctx, { ...reject, rework: ['W1', 'W2'], signature: sig });
  assert.match(!widened.ok ? widened.reason : '', /does not match the statement/);
  const whole = checkSignedDecision(ctx, { ...reject, signature: sig });
  assert.match(!whole.ok ? whole.reason : '', /does not match the statement/);
});

test('starterRefusal: keyed gates with preventSelfApproval need a starter known by a key the plan lists, under its name', async () => {
  const { starterRefusal } = await import('../../common/signed-decision.ts');
  const plan = { starters: [{ name: 'dana', key: mallory.line }], phases: [{ gate: { id: 'gate-1', preventSelfApproval: true, approval: { approvers: [{ name: 'alice', key: alice.line }, 'bob'] } } }] };
  assert.match(starterRefusal(plan, undefined) ?? '', /names no starter/);
  assert.match(starterRefusal(plan, { name: 'dave' }) ?? '', /dave's start is not signed/);
  assert.match(starterRefusal(plan, { name: 'dave', fingerprint: bob.fingerprint }) ?? '', /is not listed in the plan/);
  assert.match(starterRefusal(plan, { name: 'al', fingerprint: alice.fingerprint }) ?? '', /belongs to alice in the plan, not to al/);
  assert.equal(starterRefusal(plan, { name: 'alice', fingerprint: alice.fingerprint }), undefined);
  assert.equal(starterRefusal(plan, { name: 'dana', fingerprint: mallory.fingerprint }), undefined, 'a listed starter who approves nothing');
  // Without keys (names only), or without preventSelfApproval, a name is all there is: no rule.
  assert.equal(starterRefusal({ phases: [{ gate: { id: 'g', preventSelfApproval: true, approval: { approvers: ['alice'] } } }] }, { name: 'dave' }), undefined);
  assert.equal(starterRefusal({ phases: [{ gate: { id: 'g', approval: { approvers: [{ name: 'alice', key: alice.line }] } } }] }, undefined), undefined);
});

test('planChanges lists every changed field and who must sign it; authorizeRevision counts the current quorum only', async () => {
  const { planChanges } = await import('../../plan/changes.ts');
  const { authorizeRevision } = await import('../../common/revision-signing.ts');
  const { buildRevisionStatement } = await import('../../common/gate-statement.ts');
  const base = {
    name: 'demo', git: { repo: '/r' }, phases: [
      { id: 'p1', domains: [{ id: 'd', workstreams: [{ id: 'W1', steps: [{ id: 's', kind: 'shell' as const, run: ['true'] }] }] }],
        gate: { id: 'gate-1', checks: [], approval: { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], required: 2 } } },
      { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [{ id: 's', kind: 'shell' as const, run: ['true'] }] }] }],
        gate: { id: 'gate-2', approval: { approvers: [{ name: 'carol', key: mallory.line }] } } },
    ],
  };
  const next = structuredClone(base) as typeof base & { baseDir?: string; notify?: unknown };
  next.git = { repo: '/r', base: 'release' } as typeof base.git;
  next.baseDir = '/elsewhere';
  next.phases[0].gate.approval.required = 1;
  next.phases[0].domains[0].workstreams[0].steps[0].run = ['make'];
  (next.phases[1] as { gate: Record<string, unknown> }).gate.checks = [{ id: 'c', kind: 'command', run: ['true'] }];
  const changes = planChanges(base as never, next as never);
  assert.deepEqual(changes.map((c) => [c.what, c.guard]), [
    ['plan baseDir', 'run'], ['plan git', 'run'], ['W1/s', undefined], ['gate gate-1 approval', { gate: 'gate-1' }], ['gate gate-2 checks', undefined],
  ]);
  const ctx = { current: base as never, next: next as never, run: 'sparky-demo-1', revision: 1, planDigest: planDigest(base), newPlanDigest: planDigest(next),
    decided: new Set<string>(), escalated: new Set<string>(), now: '2026-11-30T11:01:00.000Z' };
  const unsigned = authorizeRevision(ctx, {});
  assert.match(!unsigned.ok ? unsigned.reason : '', /2 of gate gate-1's current approvers \(alice, bob\) for plan baseDir, plan git, gate gate-1 approval; 1 of gate gate-2's current approvers \(carol\) for plan baseDir, plan git/);
  const statement = buildRevisionStatement({ plan: 'demo', run: 'sparky-demo-1', revision: 1, planDigest: ctx.planDigest, newPlanDigest: ctx.newPlanDigest,
    changes: changes.map((c) => c.what), time: '2026-11-30T11:00:00.000Z' });
  const sign = (k: TestKey) => sshSign(statement, k);
  const two = authorizeRevision(ctx, { signedAt: '2026-11-30T11:00:00.000Z', signatures: [await sign(alice), await sign(bob)] });
  assert.match(!two.ok ? two.reason : '', /gate gate-2: 0 of the 1 signatures needed/);
  const all = authorizeRevision(ctx, { signedAt: '2026-11-30T11:00:00.000Z', signatures: [await sign(alice), await sign(bob), await sign(mallory)] });
  assert.equal(all.ok, true, !all.ok ? all.reason : '');
  const twice = authorizeRevision(ctx, { signedAt: '2026-11-30T11:00:00.000Z', signatures: [await sign(alice), await sign(alice), await sign(mallory)] });
  assert.match(!twice.ok ? twice.reason : '', /already counted/);
  // A decided gate is not asked; a step-only change needs nobody.
  const decided = authorizeRevision({ ...ctx, decided: new Set(['gate-1']), next: { ...base, git: next.git } as never, newPlanDigest: planDigest({ ...base, git: next.git }) }, {});
  assert.match(!decided.ok ? decided.reason : '', /^the revision changes what only approvers may change: it needs the signatures of 1 of gate gate-2's current approvers \(carol\) for plan git;/);
  const stepOnly = structuredClone(base); stepOnly.phases[0].domains[0].workstreams[0].steps[0].run = ['make'];
  assert.equal(authorizeRevision({ ...ctx, next: stepOnly as never, newPlanDigest: planDigest(stepOnly) }, {}).ok, true);
});
