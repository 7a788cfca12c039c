// Plans with keyed approvers, allowed_signers files (resolved when the plan file is loaded, so the
// workflow sees keys, never a path), preventSelfApproval and notify webhooks: what loads, and every
// mistake reported as file:line:col with its field path.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatErrors, loadPlanFile } from '../../plan/load.ts';
import { validatePlan } from '../../plan/validate.ts';
import { parseAllowedSigners, unresolvedSigners } from '../../plan/allowed-signers.ts';
import { approverNames } from '../../common/approvers.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { keyDir, makeKey, type TestKey } from '../helpers/ssh.ts';

let dir: string;
let alice: TestKey; let bob: TestKey; let carol: TestKey;
before(async () => {
  dir = await keyDir();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((n) => makeKey(dir, n)));
});

const phase = (gate: string) => `  - id: p1
    domains:
      - id: d1
        workstreams:
          - id: W1
            steps:
              - { id: s, kind: shell, run: ["true"] }
    gate:
${gate}`;

async function load(name: string, text: string) {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return loadPlanFile(file);
}

test('approvers may carry keys; names and plain strings keep working everywhere', async () => {
  const loaded = await load('keys.plan.yaml', `name: keyed
phases:
${phase(`      id: gate-1
      preventSelfApproval: true
      approval:
        approvers:
          - { name: alice, key: "${alice.line}" }
          - bob
        required: 2`)}`);
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  const approval = loaded.plan!.phases[0].gate!.approval!;
  assert.deepEqual(approverNames(approval.approvers), ['alice', 'bob']);
  assert.equal(loaded.plan!.phases[0].gate!.preventSelfApproval, true);
  assert.deepEqual(analyzePlan(loaded.plan!).phases[0].gate?.approvers, ['alice', 'bob']);
});

test('an allowed_signers file becomes keys in the approvers when the plan file loads', async () => {
  await writeFile(path.join(dir, 'allowed_signers'), [
    '# team keys',
    `alice ${alice.line}`,
    `bob,robert namespaces="git,sparky-gate" ${bob.line}`,
    `carol namespaces="git" ${carol.line}`, // not for sparky-gate
    `dana cert-authority ${carol.line}`,
    '',
  ].join('\n'));
  const loaded = await load('signers.plan.yaml', `name: signers
allowedSigners: allowed_signers
phases:
${phase(`      id: gate-1
      approval: { approvers: [alice, bob], required: 2, onTimeout: escalate, timeout: 1h, escalate: { approvers: [robert] } }`)}`);
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  const plan = loaded.plan!;
  assert.equal('allowedSigners' in plan, false, 'the path does not reach the workflow');
  const approval = plan.phases[0].gate!.approval!;
  assert.deepEqual(approval.approvers, [{ name: 'alice', key: alice.line.split(' ').slice(0, 2).join(' ') }, { name: 'bob', key: bob.line.split(' ').slice(0, 2).join(' ') }]);
  assert.deepEqual(approval.escalate!.approvers, [{ name: 'robert', key: bob.line.split(' ').slice(0, 2).join(' ') }]);
  assert.equal(validatePlan(plan).ok, true, 'the resolved plan is a valid plan (what the workflow validates again)');
  assert.deepEqual(unresolvedSigners(plan), []);
});

test('allowed_signers problems: a name without a key, a missing file, a bad line, all with file:line:col', async () => {
  await writeFile(path.join(dir, 'partial_signers'), `alice ${alice.line}\ncarol namespaces="git" ${carol.line}\nbob ssh-ed25519 not-base64!\n`);
  const loaded = await load('bad-signers.plan.yaml', `name: bad-signers
phases:
${phase(`      id: gate-1
      allowedSigners: partial_signers
      approval:
        approvers: [alice, carol]`)}
  - id: p2
    domains: [{ id: d2, workstreams: [{ id: W2, steps: [{ id: s, kind: shell, run: ["true"] }] }] }]
    gate: { id: gate-2, allowedSigners: nowhere/allowed_signers, approval: { approvers: [alice] } }
`);
  assert.equal(loaded.ok, false);
  const text = formatErrors(loaded.errors);
  assert.match(text, /bad-signers\.plan\.yaml:12:23 {2}phases\[0\]\.gate\.allowedSigners: partial_signers:3: /);
  assert.match(text, /bad-signers\.plan\.yaml:14:28 {2}phases\[0\]\.gate\.approval\.approvers\[1\]: approver "carol" has no ssh-ed25519 key for namespace sparky-gate in partial_signers/);
  assert.match(text, /phases\[1\]\.gate\.allowedSigners: cannot read allowed_signers file nowhere\/allowed_signers: no such file/);
  assert.equal(loaded.errors.length, 3, text);
});

test('keys and notify are checked: malformed key, one key for two people, secrets in URLs, gate-only events', async () => {
  const loaded = await load('checks.plan.yaml', `name: checks
notify:
  webhooks:
    - { url: "https://hooks.slack.com/services/T000/B000/XXXX", format: slack }
    - { urlFromEnv: HOOK_URL, url: "http://127.0.0.1:9/x" }
    - { url: "http://127.0.0.1:9/hook?token=abc" }
    - { urlFromEnv: HOOK_URL, headers: { Authorization: { fromEnv: HOOK_TOKEN } }, events: [finished] }
phases:
${phase(`      id: gate-1
      preventSelfApproval: true
      notify: { webhooks: [{ urlFromEnv: GATE_HOOK, events: [waiting, finished] }] }
      approval:
        approvers:
          - { name: alice, key: "${alice.line}" }
          - { name: alias, key: ["${alice.line}"] }
          - { name: eve, key: "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ" }
          - { name: zed, key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA" }`)}
  - id: p2
    domains: [{ id: d2, workstreams: [{ id: W2, steps: [{ id: s, kind: shell, run: ["true"] }] }] }]
    gate: { id: gate-2, preventSelfApproval: true, checks: [{ id: ok, kind: command, run: ["true"] }] }
`);
  assert.equal(loaded.ok, false);
  const text = formatErrors(loaded.errors);
  const expect = [
    /checks\.plan\.yaml:4:\d+ {2}notify\.webhooks\[0\]\.url: hooks\.slack\.com webhook URLs are tokens: .*use urlFromEnv/,
    /notify\.webhooks\[1\]: a webhook needs exactly one of "url" and "urlFromEnv"/,
    /notify\.webhooks\[2\]\.url: the URL's query parameter "token" looks like a credential/,
    /phases\[0\]\.gate\.notify\.webhooks\[0\]\.events\[1\]: a gate's notify sends waiting, escalated, decided only; "finished" belongs in the plan's notify/,
    /phases\[0\]\.gate\.approval\.approvers\[1\]\.key\[0\]: key SHA256:\S+ is also listed for "alice": each approver needs their own key/,
    /phases\[0\]\.gate\.approval\.approvers\[2\]\.key: an OpenSSH ed25519 public key/,
    /phases\[0\]\.gate\.approval\.approvers\[3\]\.key: not a well-formed ssh-ed25519 key/,
    /phases\[1\]\.gate\.preventSelfApproval: preventSelfApproval needs an approval/,
  ];
  for (const re of expect) assert.match(text, re);
  assert.equal(loaded.errors.length, expect.length, text);
});

test('parseAllowedSigners reads options, quoted namespaces, comments and unsupported lines', () => {
  const parsed = parseAllowedSigners(`# c\n\n"alice,al*" namespaces="sparky-gate" ${'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOYS9FkhZ0PVmEA3Jz0CXQ3LVJqVhqUQO5Ar6vbYa0Qo'} c\nbob ssh-rsa AAAAB3Nza\nbroken\n`);
  assert.deepEqual(parsed.signers.map((s) => [s.line, s.principals, s.namespaces]), [[3, ['alice', 'al*'], ['sparky-gate']]]);
  assert.deepEqual(parsed.skipped.map((s) => s.line), [4]);
  assert.deepEqual(parsed.errors.map((e) => e.line), [5]);
});

test('a plan given to the workflow by hand with allowedSigners still in it is caught', () => {
  const plan = { name: 'x', allowedSigners: 'f', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] }], gate: { id: 'g', allowedSigners: 'g', approval: { approvers: ['a'] } } }] };
  const result = validatePlan(plan);
  assert.equal(result.ok, true);
  assert.deepEqual(unresolvedSigners(result.ok ? result.plan : (undefined as never)).map((p) => p.path.join('.')), ['allowedSigners', 'phases.0.gate.allowedSigners']);
});
