// `sparky verify` from an exported history alone (no server): the recorded run with signed decisions
// (test/fixtures/histories/0.1.0/signed.json, recorded on release 0.1.0 by scripts/record-histories.ts) verifies; changing one byte of a
// recorded signature, a key in the plan of the start event, or a signed comment makes it fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseHistoryText, type JsonEvent } from '../../cli/history-json.ts';
import { verifyHistory } from '../../cli/verify-history.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';

const FIXTURE = path.join(PROJECT_ROOT, 'test', 'fixtures', 'histories', '0.1.0', 'signed.json');

async function events(): Promise<JsonEvent[]> {
  return parseHistoryText(await readFile(FIXTURE, 'utf8'), FIXTURE).events;
}

type Payload = { data: string };
const decode = (p: Payload) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
const encode = (p: Payload, value: unknown) => { p.data = Buffer.from(JSON.stringify(value)).toString('base64'); };
/** The payload of the decideGate update `approver` sent. */
function updatePayload(evs: JsonEvent[], approver: string): Payload {
  for (const e of evs as Record<string, any>[]) {
    const p: Payload | undefined = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0];
    if (p && decode(p).approver === approver) return p;
  }
  throw new Error(`no update by ${approver}`);
}
/** The payload of the last approveGate signal `approver` sent. */
function lastSignal(evs: JsonEvent[], approver: string): Payload {
  const all = (evs as Record<string, any>[]).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'approveGate')
    .map((e) => e.workflowExecutionSignaledEventAttributes.input.payloads[0] as Payload).filter((p) => decode(p).approver === approver);
  return all[all.length - 1];
}

test('the recorded signed run verifies: who decided, with which key, and the ignored forgery', async () => {
  const report = verifyHistory(await events());
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.run, 'sparky-history-signed');
  assert.equal(report.recorded, true);
  assert.deepEqual(report.decisions.map((d) => [d.approver, d.surface, d.verdict]),
    [['alice', 'update', 'verified'], ['bob', 'signal', 'ignored'], ['bob', 'signal', 'verified']]);
  assert.match(report.decisions[1].reason ?? '', /not a key of bob/);
  for (const d of report.decisions.filter((x) => x.verdict === 'verified')) assert.match(d.fingerprint ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test('one changed byte in a recorded signature fails verification, and `sparky verify` exits non-zero', async () => {
  const evs = await events();
  const p = updatePayload(evs, 'alice');
  const input = decode(p);
  const lines = input.signature.split('\n');
  lines[3] = lines[3].slice(0, 30) + (lines[3][30] === 'A' ? 'B' : 'A') + lines[3].slice(31);
  encode(p, { ...input, signature: lines.join('\n') });
  const report = verifyHistory(evs);
  assert.equal(report.ok, false);
  assert.equal(report.decisions[0].verdict, 'failed');

  const dir = await mkdtemp(path.join(os.tmpdir(), 'sparky-verify-'));
  const tampered = path.join(dir, 'tampered.json');
  await writeFile(tampered, JSON.stringify({ events: evs }));
  const cli = (file: string) => execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), 'verify', file], { reject: false });
  const bad = await cli(tampered);
  assert.equal(bad.exitCode, 5);
  assert.match(bad.stdout, /✖ FAILED +approve +by alice/);
  const good = await cli(FIXTURE);
  assert.equal(good.exitCode, 0, good.stdout);
  assert.match(good.stdout, /every gate decision verifies/);
});

test('a key swapped in the plan of the start event, or a changed signed comment, fails', async () => {
  const evs = await events();
  const start = (evs[0] as Record<string, any>).workflowExecutionStartedEventAttributes.input.payloads[0] as Payload;
  const input = decode(start);
  const approvers = input.plan.phases[0].gate.approval.approvers;
  // Make bob's key alice's: bob's signature no longer matches, and the plan digest changes for everyone.
  approvers[1].key = approvers[0].key;
  encode(start, input);
  const swapped = verifyHistory(evs);
  assert.equal(swapped.ok, false);

  const evs2 = await events();
  const p = lastSignal(evs2, 'bob');
  encode(p, { ...decode(p), comment: 'added later' });
  const changed = verifyHistory(evs2);
  assert.equal(changed.ok, false);
  assert.equal(changed.decisions[2].verdict, 'failed');
});
