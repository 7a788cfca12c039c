// Gate timeouts on the real dev server (short real durations): onTimeout reject, approve (recorded as
// an automatic approval) and escalate (a second approver list with its own timeout); failing checks
// fail the gate with what they measured; signals with no input are ignored with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { decideGateUpdate } from '../../workflows/messages.ts';
import { append, gateOf, lines, status, tempDir, temporal, undoable, useStack } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

const stack = useStack();

function gatedPlan(name: string, dir: string, gate: Record<string, unknown>) {
  return {
    name, onFailure: 'compensate',
    phases: [
      { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [undoable('w', path.join(dir, 'done.log'), 'W1', path.join(dir, 'undo.log'))] }] }],
        gate: { id: 'g1', ...gate } },
      { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'W2', steps: [append('w', path.join(dir, 'done.log'), 'W2')] }] }] },
    ],
  };
}

async function start(plan: object, id: string) {
  return stack.env.client.workflow.start('metaOrchestrator', { taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue } }] });
}

test('onTimeout reject: no decision in time rejects the gate and compensates', async () => {
  const dir = await tempDir();
  const handle = await start(gatedPlan('gate-reject', dir, { approval: { approvers: ['alice'], timeout: '2s', onTimeout: 'reject' } }), 'sparky-gate-reject');
  const err = await handle.result().then(() => assert.fail('should be rejected'), (e) => e);
  assert.match((err.cause as Error).message, /gate g1 rejected by \(timeout\): no decision within 2s: onTimeout reject/);
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-W1']);
  const audit = gateOf(await status(stack.env, handle.workflowId), 'g1').audit;
  assert.deepEqual(audit.map((a) => [a.surface, a.decision]), [['timeout', 'reject']]);
});

test('onTimeout approve: recorded as an automatic approval, the run goes on', async () => {
  const dir = await tempDir();
  const handle = await start(gatedPlan('gate-approve', dir, { approval: { approvers: ['alice'], timeout: '2s', onTimeout: 'approve' } }), 'sparky-gate-approve');
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  assert.deepEqual(await lines(path.join(dir, 'done.log')), ['W1', 'W2']);
  const gate = gateOf(await status(stack.env, handle.workflowId), 'g1');
  assert.equal(gate.state, 'approved');
  assert.deepEqual(gate.audit.map((a) => [a.surface, a.decision, a.automatic]), [['timeout', 'approve', true]]);
});

test('onTimeout escalate: the escalation list takes over, the first list is refused, the second decides', async () => {
  const dir = await tempDir();
  const plan = gatedPlan('gate-escalate', dir, { approval: {
    approvers: ['alice', 'bob'], timeout: '2s', onTimeout: 'escalate', escalate: { approvers: ['dave', 'erin'], required: 2, timeout: '20s' },
  } });
  const handle = await start(plan, 'sparky-gate-escalate');
  const escalated = await eventually('escalation', () => status(stack.env, handle.workflowId), (s) => gateOf(s, 'g1').escalated, 20_000);
  assert.deepEqual(gateOf(escalated, 'g1').approvers, ['dave', 'erin']);
  assert.match(escalated.waitingFor, /0 of 2 \(dave, erin\) \[escalated\]/);
  // alice was on the first list only: the update refuses her now.
  await assert.rejects(handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] }),
    (err: Error) => /alice is not an approver of gate g1 \(escalated\)/.test((err.cause as Error)?.message));
  const r = await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'dave', decision: 'approve', comment: 'on call' }] });
  assert.deepEqual(r, { gate: 'g1', state: 'waiting', approvals: ['dave'], required: 2, approvers: ['dave', 'erin'] });
  await handle.signal('approveGate', { gate: 'g1', approver: 'erin' });
  assert.equal((await handle.result()).state, 'completed');
  const gate = gateOf(await status(stack.env, handle.workflowId), 'g1');
  assert.deepEqual(gate.audit.map((a) => [a.approver, a.surface, a.decision]),
    [['(timeout)', 'timeout', 'escalate'], ['dave', 'update', 'approve'], ['erin', 'signal', 'approve']]);
});

test('a failing check fails the gate with what it measured, and the run compensates', async () => {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'metrics.json'), JSON.stringify({ accuracy: 0.5 }));
  const handle = await start(gatedPlan('gate-check', dir, {
    checks: [
      { id: 'accuracy', kind: 'file', path: path.join(dir, 'metrics.json'), field: 'accuracy', atLeast: 0.9 },
      { id: 'true', kind: 'command', run: ['true'] },
    ],
    approval: { approvers: ['alice'] },
  }), 'sparky-gate-check');
  const err = await handle.result().then(() => assert.fail('checks should fail'), (e) => e);
  assert.match((err.cause as Error).message, /gate g1: 1 check failed: accuracy/);
  const gate = gateOf(await status(stack.env, handle.workflowId), 'g1');
  assert.equal(gate.state, 'failed');
  assert.deepEqual(gate.checks.map((c) => [c.id, c.passed, c.measured]), [['accuracy', false, 0.5], ['true', true, 0]]);
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-W1']);
});

test('approveGate sent with no input (temporal workflow signal without --input) is ignored with the reason', async () => {
  const dir = await tempDir();
  const handle = await start(gatedPlan('gate-noinput', dir, { approval: { approvers: ['alice'] } }), 'sparky-gate-noinput');
  await eventually('gate waiting', () => status(stack.env, handle.workflowId), (s) => gateOf(s, 'g1').state === 'waiting');
  const sent = await temporal(stack.env, ['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'approveGate']);
  assert.equal(sent.exitCode, 0, sent.all);
  const s = await eventually('ignored', () => status(stack.env, handle.workflowId), (x) => gateOf(x, 'g1').audit.length === 1);
  assert.match(gateOf(s, 'g1').audit[0].ignoredReason ?? '', /no input/);
  await handle.signal('approveGate', { gate: 'g1', approver: 'alice' });
  assert.equal((await handle.result()).state, 'completed');
});

test('decideGate can reject too: it answers "rejected", the phase is undone and reworked, and a fresh quorum decides', async () => {
  const dir = await tempDir();
  const handle = await start(gatedPlan('gate-update-reject', dir, { approval: { approvers: ['alice', 'bob'], required: 2 } }), 'sparky-gate-update-reject');
  await eventually('gate waiting', () => status(stack.env, handle.workflowId), (s) => gateOf(s, 'g1').state === 'waiting');
  await handle.signal('approveGate', { gate: 'g1', approver: 'alice' });
  await eventually('alice counted', () => status(stack.env, handle.workflowId), (s) => gateOf(s, 'g1').approvals.length === 1);
  const answer = await handle.executeUpdate(decideGateUpdate, { args: [{ gate: 'g1', approver: 'bob', decision: 'reject', comment: 'not yet' }] });
  assert.equal(answer.state, 'rejected');
  const s = await eventually('W1 reworked', () => status(stack.env, handle.workflowId), (x) => x.phases[0].domains[0].workstreams[0].state === 'attention');
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-W1']);
  assert.match(s.phases[0].domains[0].workstreams[0].attention?.reason ?? '', /rework requested by bob: not yet/);
  const audit = gateOf(s, 'g1').audit;
  assert.deepEqual(audit.map((a) => [a.approver, a.surface, a.decision, a.reason ?? a.comment, a.void]),
    [['alice', 'signal', 'approve', undefined, true], ['bob', 'update', 'reject', 'not yet', true]]);
  await handle.signal('retryStep', { step: 'W1', by: 'bob' });
  await eventually('gate waiting again', () => status(stack.env, handle.workflowId), (x) => gateOf(x, 'g1').state === 'waiting');
  for (const approver of ['alice', 'bob']) await handle.executeUpdate(decideGateUpdate, { args: [{ gate: 'g1', approver, decision: 'approve' }] });
  assert.equal((await handle.result()).state, 'completed');
  assert.deepEqual(await lines(path.join(dir, 'done.log')), ['W1', 'W1', 'W2']);
});

test('output references in gate checks are filled in before the check runs; one that cannot be filled fails that check with the reason', async () => {
  const dir = await tempDir();
  const plan = {
    name: 'gate-output-refs', onFailure: 'compensate',
    phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [
      { id: 'measure', kind: 'shell', run: ['sh', '-c', `echo '{"n": 3, "file": "${dir}/report.txt"}'; echo ok > ${dir}/report.txt`], outputs: { from: 'stdout-last-line' } },
    ] }] }], gate: { id: 'g1', checks: [
      { id: 'cmd', kind: 'command', run: ['test', '${{ outputs.W1.measure.n }}', '=', '3'] },
      { id: 'file', kind: 'file', path: '${{ outputs.W1.measure.file }}' },
      { id: 'missing', kind: 'command', run: ['echo', '${{ outputs.W1.measure.nope }}'] },
    ] } }],
  };
  const handle = await start(plan, 'sparky-gate-output-refs');
  await handle.result().then(() => assert.fail('the missing reference fails the gate'), () => undefined);
  const checks = gateOf(await status(stack.env, handle.workflowId), 'g1').checks;
  assert.deepEqual(checks.map((c) => [c.id, c.passed]), [['cmd', true], ['file', true], ['missing', false]]);
  assert.match(checks[2].message, /has no output "nope"/);
});
