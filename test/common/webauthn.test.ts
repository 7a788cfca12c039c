// Passkey (WebAuthn ES256) verification in pure JS (common/webauthn.ts), first against the test
// vectors the W3C publishes in WebAuthn Level 3, §16 "Test Vectors" (none attestation, ES256: the
// plain one §16.2 and the cross-origin one §16.4; bytes as the spec prints them), then as Sparky uses
// it: a statement's hash as the challenge, the origin policy, UP/UV flags, the key line, and the
// decision rules (forged, replayed, wrong person, self-approval, each signature once) exactly as for
// SSH keys. Real-browser passkeys (Chromium's virtual authenticator) are in test/board/board.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { hexToBytes } from '@noble/hashes/utils.js';
import { checkSignedDecision, type GateSigningContext } from '../../common/gate-signing.ts';
import { buildRevisionStatement, buildStatement, checksDigest, planDigest, type StatementFields } from '../../common/gate-statement.ts';
import { describeKey, parseListedKey } from '../../common/keys.ts';
import { authorizeRevision } from '../../common/revision-signing.ts';
import { verifyDecision } from '../../common/signed-decision.ts';
import {
  armorAssertion, originAllowed, parseAssertion, parseWebauthnKey, pointFromSpki, verifyAssertion, verifyPasskeySignature, webauthnKeyLine,
  type WebauthnAssertion,
} from '../../common/webauthn.ts';
import { changeWords, planChanges } from '../../plan/changes.ts';
import type { Gate, Plan } from '../../plan/schema.ts';
import { validatePlan } from '../../plan/validate.ts';
import { softPasskey } from '../helpers/passkey.ts';

const hex = hexToBytes;
/** COSE EC2 key (kty 2, alg -7, crv 1, x, y) → the uncompressed point. */
const point = (x: string, y: string) => hex(`04${x}${y}`);

// W3C WebAuthn Level 3, §16.2 "ES256 Credential with No Attestation" (authentication part).
const SPEC_NONE_ES256 = {
  rpId: 'example.org',
  key: point('afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61', '930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220'),
  credentialId: hex('f91f391db4c9b2fde0ea70189cba3fb63f579ba6122b33ad94ff3ec330084be4'),
  challenge: hex('39c0e7521417ba54d43e8dc95174f423dee9bf3cd804ff6d65c857c9abf4d408'),
  authenticatorData: hex('bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b51900000000'),
  clientDataJSON: hex('7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a224f63446e55685158756c5455506f334a5558543049393770767a7a59425039745a63685879617630314167222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a66616c73657d'),
  signature: hex('3046022100f50a4e2e4409249c4a853ba361282f09841df4dd4547a13a87780218deffcd380221008480ac0f0b93538174f575bf11a1dd5d78c6e486013f937295ea13653e331e87'),
};
// §16.4 "ES256 Credential with No Attestation and crossOrigin true" (authentication part; flags UP|UV).
const SPEC_CROSS_ORIGIN = {
  rpId: 'example.org',
  key: point('22200a473f90b11078851550d03b4e44a2279f8c4eca27b3153dedfe03e4e97d', 'cbd0be95e746ad6f5a8191be11756e4c0420e72f65b466d39bc56b8b123a9c6e'),
  credentialId: hex('6e1050c0d2ca2f07c755cb2c66a74c64fa43065c18f938354d9915db2bd5ce57'),
  challenge: hex('876aa517ba83fdee65fcffdbca4c84eeae5d54f8041a1fc85c991e5bbb273137'),
  authenticatorData: hex('bfabc37432958b063360d3ad6461c9c4735ae7f8edd46592a5e0f01452b2e4b50500000000'),
  clientDataJSON: hex('7b2274797065223a22776562617574686e2e676574222c226368616c6c656e6765223a226832716c463771445f65356c5f505f62796b7945377135645650674547685f49584a6b655737736e4d5463222c226f726967696e223a2268747470733a2f2f6578616d706c652e6f7267222c2263726f73734f726967696e223a747275652c22657874726144617461223a22636c69656e74446174614a534f4e206d617920626520657874656e6465642077697468206164646974696f6e616c206669656c647320696e20746865206675747572652c207375636820617320746869733a2039327063545644304162792d713464746d6a36656667227d'),
  signature: hex('3046022100eb12fcf23b12764c0f122e22371fab92e283879fd798f38ee1841c951b6e40e7022100c76237ff9db77b3c56f30837cda6a09acfa2e915544e609c0733b1184036d1cf'),
};

const specAssertion = (v: typeof SPEC_NONE_ES256): WebauthnAssertion => ({ credentialId: v.credentialId, authenticatorData: v.authenticatorData, clientDataJSON: v.clientDataJSON, signature: v.signature });
const specKey = (v: typeof SPEC_NONE_ES256) => ({ point: v.key, rpId: v.rpId, credentialId: v.credentialId });
const flip = (bytes: Uint8Array, at: number) => { const out = bytes.slice(); out[at] ^= 0x01; return out; };

test('W3C §16.2 (none, ES256): the published assertion verifies; Sparky\'s policy refuses it for lack of UV; any altered byte fails', () => {
  const v = SPEC_NONE_ES256;
  const ok = verifyAssertion({ assertion: specAssertion(v), key: specKey(v), challenge: v.challenge, requireUserVerification: false });
  assert.deepEqual(ok, { ok: true, signCount: 0, origin: 'https://example.org' });
  // Its flags are UP|BE|BS (0x19): no user verification, which Sparky requires by default.
  const strict = verifyAssertion({ assertion: specAssertion(v), key: specKey(v), challenge: v.challenge });
  assert.equal(strict.ok, false);
  assert.match((strict as { reason: string }).reason, /did not verify the user \(flag UV\)/);
  const lax = { key: specKey(v), challenge: v.challenge, requireUserVerification: false };
  const tampered: [string, WebauthnAssertion, RegExp][] = [
    ['signature', { ...specAssertion(v), signature: flip(v.signature, 40) }, /does not verify/],
    ['signature counter', { ...specAssertion(v), authenticatorData: flip(v.authenticatorData, 36) }, /does not verify/],
    ['rpIdHash', { ...specAssertion(v), authenticatorData: flip(v.authenticatorData, 3) }, /another relying party/],
    ['flags: UP cleared', { ...specAssertion(v), authenticatorData: flip(v.authenticatorData, 32) }, /user presence/],
    ['clientDataJSON', { ...specAssertion(v), clientDataJSON: flip(v.clientDataJSON, v.clientDataJSON.length - 3) }, /does not verify|not JSON/],
    ['credential id', { ...specAssertion(v), credentialId: flip(v.credentialId, 0) }, /another credential/],
  ];
  for (const [what, assertion, re] of tampered) {
    const r = verifyAssertion({ ...lax, assertion });
    assert.equal(r.ok, false, what);
    assert.match((r as { reason: string }).reason, re, what);
  }
  const otherChallenge = verifyAssertion({ ...lax, assertion: specAssertion(v), challenge: flip(v.challenge, 0) });
  assert.match((otherChallenge as { reason: string }).reason, /another challenge/);
  const otherRp = verifyAssertion({ ...lax, assertion: specAssertion(v), key: { ...specKey(v), rpId: 'example.com' } });
  assert.match((otherRp as { reason: string }).reason, /origin "https:\/\/example\.org".*not allowed/);
});

test('W3C §16.4 (crossOrigin true): a valid signature, refused because it was made in a cross-origin frame', () => {
  const v = SPEC_CROSS_ORIGIN;
  const r = verifyAssertion({ assertion: specAssertion(v), key: specKey(v), challenge: v.challenge });
  assert.equal(r.ok, false);
  assert.match((r as { reason: string }).reason, /cross-origin frame/);
  assert.equal(verifyAssertion({ assertion: specAssertion(v), key: specKey(v), challenge: v.challenge, refuseCrossOrigin: false }).ok, true);
});

test('key lines: registration output round-trips; SPKI from a real P-256 key; bad lines say what is wrong', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const pt = pointFromSpki(spki);
  assert.ok(pt instanceof Uint8Array && pt.length === 65);
  const line = webauthnKeyLine({ point: pt, rpId: 'localhost', credentialId: SPEC_NONE_ES256.credentialId, comment: 'alice@laptop' });
  const key = parseWebauthnKey(line);
  assert.ok(!('error' in key));
  assert.equal(key.rpId, 'localhost');
  assert.equal(key.comment, 'alice@laptop');
  const listed = parseListedKey(line);
  assert.ok(!('error' in listed));
  assert.match(describeKey(listed), /^passkey for localhost SHA256:[A-Za-z0-9+/]{43}$/);
  const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  assert.match((pointFromSpki(new Uint8Array(ed)) as { error: string }).error, /not a P-256 public key/);
  assert.match((parseWebauthnKey('webauthn !!!') as { error: string }).error, /base64/);
  assert.match((parseWebauthnKey(webauthnKeyLine({ point: pt, rpId: '127.0.0.1', credentialId: SPEC_NONE_ES256.credentialId })) as { error: string }).error, /not a host name/);
  const offCurve = pt.slice(); offCurve[64] ^= 1;
  assert.match((parseWebauthnKey(webauthnKeyLine({ point: offCurve, rpId: 'localhost', credentialId: SPEC_NONE_ES256.credentialId })) as { error: string }).error, /not a point on P-256/);
  const plan = validatePlan({ name: 'k', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'W', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] }],
    gate: { id: 'g', approval: { approvers: [{ name: 'alice', key: [line] }, { name: 'bob', key: line }, { name: 'eve', key: 'webauthn AAAA' }] } } }] });
  assert.equal(plan.ok, false);
  const problems = (plan as { errors: { path: string; message: string }[] }).errors.map((e) => `${e.path}: ${e.message}`).join('\n');
  assert.match(problems, /approvers\[1\]\.key: key SHA256:\S+ is also listed for "alice"/);
  assert.match(problems, /approvers\[2\]\.key: not a well-formed webauthn key|approvers\[2\]\.key: not a webauthn key/);
});

test('origin policy: https on the relying party or a subdomain; http only on localhost', () => {
  const allowed: [string, string][] = [['https://board.example.com', 'board.example.com'], ['https://board.example.com:8443', 'example.com'], ['http://localhost:8234', 'localhost'], ['https://localhost', 'localhost']];
  const refused: [string, string][] = [['http://board.example.com', 'board.example.com'], ['https://evil-example.com', 'example.com'], ['https://example.com.evil.net', 'example.com'],
    ['http://127.0.0.1:8234', 'localhost'], ['https://board.example.com/path', 'board.example.com'], ['null', 'localhost']];
  for (const [o, rp] of allowed) assert.equal(originAllowed(o, rp), true, `${o} for ${rp}`);
  for (const [o, rp] of refused) assert.equal(originAllowed(o, rp), false, `${o} for ${rp}`);
});

const gate: Gate = { id: 'gate-1', preventSelfApproval: true, approval: { approvers: [], required: 2 } };
const fields: StatementFields = {
  plan: 'demo', planDigest: planDigest({ name: 'demo', phases: [] }), run: 'sparky-demo-1', gate: 'gate-1', round: 1, rework: [],
  decision: 'approve', comment: 'ok', checksDigest: checksDigest([]), time: '2026-12-01T10:00:00.000Z',
};

test('a decision signed with a passkey verifies like SSHSIG: the statement\'s hash, the listed passkey, the approver\'s name', () => {
  const alice = softPasskey('localhost', 'alice@phone');
  const mallory = softPasskey('localhost');
  const entry = { name: 'alice', key: [alice.line] };
  const statement = buildStatement(fields);
  const good = verifyDecision({ approverEntry: entry, statementFields: fields, signature: alice.sign(statement) });
  assert.equal(good.ok, true);
  assert.equal((good as { fingerprint?: string }).fingerprint?.startsWith('SHA256:'), true);
  const refusals: [string, string, RegExp][] = [
    ['another passkey', mallory.sign(statement), /passkey credential \S+, which is not a passkey of alice in the plan/],
    ['another decision', alice.sign(buildStatement({ ...fields, decision: 'reject' })), /another challenge/],
    ['another round', alice.sign(buildStatement({ ...fields, round: 2 })), /another challenge/],
    ['another origin', alice.sign(statement, { origin: 'http://evil.localhost.example:8234' }), /not allowed for a passkey of localhost/],
    ['an assertion for registration', alice.sign(statement, { type: 'webauthn.create' }), /type is "webauthn.create"/],
    ['no user verification', alice.sign(statement, { flags: 0x01 }), /flag UV/],
    ['no user presence', alice.sign(statement, { flags: 0x04 }), /user presence/],
    ['another relying party', alice.sign(statement, { rpIdHashOf: 'example.com' }), /another relying party/],
    ['a cross-origin frame', alice.sign(statement, { crossOrigin: true }), /cross-origin/],
    ['garbage', '-----BEGIN SPARKY WEBAUTHN SIGNATURE-----\nAAAA\n-----END SPARKY WEBAUTHN SIGNATURE-----', /truncated|not a WebAuthn assertion/],
  ];
  for (const [what, signature, re] of refusals) {
    const r = verifyDecision({ approverEntry: entry, statementFields: fields, signature });
    assert.equal(r.ok, false, what);
    assert.match((r as { reason: string }).reason, re, what);
  }
  // An SSH-only approver cannot be signed for with a passkey, and vice versa the SSHSIG path is untouched.
  const sshOnly = verifyDecision({ approverEntry: { name: 'alice', key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOYS9FkhZ0PVmEA3Jz0CXQ3LVJqVhqUQO5Ar6vbYa0Qo' }, statementFields: fields, signature: alice.sign(statement) });
  assert.match((sshOnly as { reason: string }).reason, /has no passkey in the plan/);
  const unsigned = verifyDecision({ approverEntry: entry, statementFields: fields });
  assert.match((unsigned as { reason: string }).reason, /sign it with your passkey on the Sparky board/);
  // The armor survives pasting (whitespace, CRLF).
  const pasted = alice.sign(statement).replace(/\n/g, '\r\n  ');
  assert.equal(verifyDecision({ approverEntry: entry, statementFields: fields, signature: pasted }).ok, true);
  assert.ok(!('error' in parseAssertion(pasted)));
});

test('gate rules hold for passkeys: each signature counts once (a replay or a high-S twin too), preventSelfApproval by key, the round\'s window', () => {
  const alice = softPasskey();
  const bob = softPasskey();
  const gateDef: Gate = { ...gate, approval: { approvers: [{ name: 'alice', key: alice.line }, { name: 'bob', key: [bob.line] }], required: 2 } };
  const used = new Set<string>();
  const ctx: GateSigningContext = {
    planName: 'demo', planDigest: fields.planDigest, runWorkflowId: fields.run, gateDef, escalated: false, checks: [], round: 1, used,
    waitingSince: '2026-12-01T09:59:00.000Z', now: '2026-12-01T10:00:30.000Z', starter: { name: 'carol' },
  };
  const statement = buildStatement(fields);
  const input = { approver: 'alice', decision: 'approve' as const, comment: 'ok', signedAt: fields.time };
  const first = checkSignedDecision(ctx, { ...input, signature: alice.sign(statement) });
  assert.ok(first.ok);
  assert.match(first.signatureId ?? '', /^webauthn:[0-9a-f]{64}$/);
  used.add(first.signatureId!);
  // The same statement asserted again (a replayed assertion, a fresh one, or the malleated high-S form): counted already.
  for (const again of [alice.sign(statement), alice.sign(statement, { highS: true, signCount: 9 })]) {
    const r = checkSignedDecision(ctx, { ...input, signature: again });
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /already counted in this run/);
  }
  assert.equal(checkSignedDecision(ctx, { ...input, approver: 'bob', signature: alice.sign(statement) }).ok, false, 'alice\'s passkey does not speak for bob');
  // A statement older than the round: stale.
  const old = buildStatement({ ...fields, time: '2026-12-01T09:00:00.000Z' });
  const stale = checkSignedDecision(ctx, { ...input, signedAt: '2026-12-01T09:00:00.000Z', signature: alice.sign(old) });
  assert.match((stale as { reason: string }).reason, /before the gate began waiting/);
  // preventSelfApproval: the starter known by this passkey's fingerprint may not approve under another name.
  const bobFp = (checkSignedDecision({ ...ctx, used: new Set() }, { ...input, approver: 'bob', signature: bob.sign(statement) }) as { fingerprint: string }).fingerprint;
  const self = checkSignedDecision({ ...ctx, used: new Set(), starter: { name: 'robert', fingerprint: bobFp } }, { ...input, approver: 'bob', signature: bob.sign(statement) });
  assert.match((self as { reason: string }).reason, /started this run.*preventSelfApproval/);
  const byName = checkSignedDecision({ ...ctx, used: new Set(), starter: { name: 'alice' } }, { ...input, signature: alice.sign(statement) });
  assert.match((byName as { reason: string }).reason, /alice started this run/);
});

test('a plan revision may be signed with passkeys by the current quorum', () => {
  const alice = softPasskey();
  const bob = softPasskey();
  const base = (approvers: unknown[], required: number) => {
    const r = validatePlan({ name: 'rev', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'W', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] }],
      gate: { id: 'g', approval: { approvers, required } } }] });
    assert.ok(r.ok, JSON.stringify(r));
    return r.plan as Plan;
  };
  const current = base([{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], 2);
  const next = base([{ name: 'alice', key: alice.line }, { name: 'bob', key: bob.line }], 1);
  const ctx = { current, next, run: 'sparky-rev-1', revision: 1, planDigest: planDigest(current), newPlanDigest: planDigest(next), decided: new Set<string>(), escalated: new Set<string>(), now: '2026-12-01T10:01:00.000Z' };
  const statement = buildRevisionStatement({ plan: 'rev', run: ctx.run, revision: 1, planDigest: ctx.planDigest, newPlanDigest: ctx.newPlanDigest, changes: changeWords(planChanges(current, next)), time: fields.time });
  const ok = authorizeRevision(ctx, { signedAt: fields.time, signatures: [alice.sign(statement), bob.sign(statement)] });
  assert.ok(ok.ok, JSON.stringify(ok));
  assert.deepEqual(ok.signers[0].approvers.map((a) => a.name), ['alice', 'bob']);
  const twice = authorizeRevision(ctx, { signedAt: fields.time, signatures: [alice.sign(statement), alice.sign(statement)] });
  assert.match((twice as { reason: string }).reason, /already counted/);
  const stranger = authorizeRevision(ctx, { signedAt: fields.time, signatures: [alice.sign(statement), softPasskey().sign(statement)] });
  assert.match((stranger as { reason: string }).reason, /not a passkey of an approver/);
  const direct = verifyPasskeySignature(statement, armorAssertion(alice.assertion(statement)), [alice.key]);
  assert.ok(direct.ok);
});
