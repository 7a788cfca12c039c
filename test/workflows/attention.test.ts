// Runs that live through real life, on the real dev server with a real worker and the real `temporal`
// CLI: a step that fails until someone fixes something waits in attention (other work goes on) and a
// retry continues it without re-running anything that succeeded; a skip goes on without the step; a
// failed gate check waits for recheckGate; a rejection reworks only the named workstream; a revision
// fixes a step in attention and is refused when it touches what already ran; abort undoes the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunStatus } from '../../workflows/status.ts';
import { append, gateOf, lines, status, tempDir, temporal, undoable, useStack, workstreamOf } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

const stack = useStack();

const once = { retry: { maximumAttempts: 1 } };

async function start(plan: object, id: string) {
  return stack.env.client.workflow.start('metaOrchestrator', { taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue } }] });
}

const inAttention = (id: string, ws: string) => eventually(`${ws} in attention`, () => status(stack.env, id),
  (s) => workstreamOf(s, ws).state === 'attention');

/** The ApplicationFailure behind a refused update. */
async function refusal(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(() => assert.fail('the update should be refused'), (e) => e);
  assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
  assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
  assert.equal(err.cause.nonRetryable, true, 'a refusal is not retryable');
  return err.cause;
}

/** A step that succeeds only once `marker` exists; every attempt is counted in `tries`. */
function needsFile(id: string, marker: string, tries: string, extra: object = {}) {
  return { id, kind: 'shell' as const, run: ['sh', '-c', `echo try >> ${tries}; test -f ${marker} || { echo "missing ${marker}" >&2; exit 4; }`], ...once, ...extra };
}

test('a step that fails until a file exists: attention, the rest goes on, retryStep continues, nothing that succeeded runs twice', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const marker = path.join(dir, 'fixed');
  const plan = { name: 'attention-retry', phases: [{ id: 'p1', domains: [
    { id: 'd1', workstreams: [
      { id: 'A', steps: [append('a', log, 'A')] },
      { id: 'B', dependsOn: ['A'], steps: [append('b1', log, 'B1'), needsFile('b2', marker, path.join(dir, 'tries.log')), append('b3', log, 'B3')] },
      { id: 'C', dependsOn: ['B'], steps: [append('c', log, 'C')] },
    ] },
    { id: 'd2', workstreams: [{ id: 'X', steps: [{ id: 'x', kind: 'shell', run: ['sh', '-c', `sleep 1; echo X >> ${log}`] }] }] },
  ] }] };
  const handle = await start(plan, 'sparky-attention-retry');
  const s = await inAttention(handle.workflowId, 'B');
  const b = workstreamOf(s, 'B');
  assert.equal(b.attention?.step, 'b2');
  assert.equal(b.attention?.cause, 'failed');
  assert.match(b.attention?.reason ?? '', /exited with code 4/);
  assert.match(b.steps[1].lastError ?? '', /missing/);
  assert.equal(workstreamOf(s, 'C').state, 'pending', 'a dependent waits');
  assert.match(s.waitingFor, /needs attention: B\/b2 failed/);
  assert.match(s.waitingFor, /sparky retry sparky-attention-retry B\/b2/);
  // Independent work finishes while B waits.
  await eventually('X done', () => status(stack.env, handle.workflowId), (r) => workstreamOf(r, 'X').state === 'succeeded');
  const listed = await eventually('SparkyState=attention', () => temporal(stack.env, ['workflow', 'list', '--query', 'SparkyState="attention"', '--output', 'json']),
    (r) => r.stdout.includes('sparky-attention-retry'));
  assert.equal(listed.exitCode, 0);
  assert.equal((await status(stack.env, handle.workflowId)).state, 'attention');

  // A retry of a step that is not in attention is refused, at once and for good.
  const wrong = await refusal(handle.executeUpdate('resolve', { args: [{ action: 'retryStep', step: 'B/b1', by: 'alice' }] }));
  assert.match(wrong.message, /B\/b1 is not in attention: B waits at B\/b2/);
  const unknown = await refusal(handle.executeUpdate('resolve', { args: [{ action: 'retryStep', step: 'Q/x', by: 'alice' }] }));
  assert.match(unknown.message, /unknown workstream "Q"/);
  // The same through the CLI: refused, not retryable.
  const cli = await temporal(stack.env, ['workflow', 'update', 'execute', '--workflow-id', handle.workflowId, '--name', 'resolve',
    '--input', JSON.stringify({ action: 'recheckGate', gate: 'nope', by: 'alice' })]);
  assert.notEqual(cli.exitCode, 0);
  assert.match(cli.all ?? '', /unknown gate "nope"/);

  await writeFile(marker, 'ok');
  const signal = await temporal(stack.env, ['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'retryStep',
    '--input', JSON.stringify({ step: 'B/b2', by: 'alice', comment: 'created the file' })]);
  assert.equal(signal.exitCode, 0, signal.all);
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  const done = await lines(log);
  for (const x of ['A', 'B1', 'B3', 'C', 'X']) assert.equal(done.filter((l) => l === x).length, 1, `${x} ran once: ${done}`);
  assert.equal((await lines(path.join(dir, 'tries.log'))).length, 2, 'b2: the failed try and the retry');
  const end = await status(stack.env, handle.workflowId);
  assert.equal(end.state, 'completed');
  assert.deepEqual(end.decisions.filter((d) => !d.ignored).map((d) => [d.action, d.by, d.step]), [['retryStep', 'alice', 'B/b2']]);
});

test('skipStep goes on without the step; a later step that needs its outputs waits in attention, saying why', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const plan = { name: 'attention-skip', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
    { id: 'W', steps: [
      { id: 'measure', kind: 'shell', run: ['sh', '-c', 'echo broken >&2; exit 2'], outputs: { from: 'stdout-last-line' }, ...once },
      { id: 'use', kind: 'shell', run: ['sh', '-c', `echo \${{ outputs.W.measure.value }} >> ${log}`], ...once },
      append('after', log, 'after'),
    ] },
  ] }] }] };
  const handle = await start(plan, 'sparky-attention-skip');
  await inAttention(handle.workflowId, 'W');
  // Signals with bad input are ignored and audited.
  await handle.signal('skipStep', { step: 'W/measure', by: 'bob' });
  await handle.signal('skipStep', { step: 'W/measure', by: 'bob', reason: 'the sensor is broken' });
  const s = await eventually('W/use in attention', () => status(stack.env, handle.workflowId),
    (r) => workstreamOf(r, 'W').attention?.step === 'use');
  const ws = workstreamOf(s, 'W');
  assert.equal(ws.steps[0].state, 'skipped');
  assert.match(ws.steps[0].skippedReason ?? '', /skipped by bob: the sensor is broken/);
  assert.match(ws.attention?.reason ?? '', /W\.measure, which was skipped by bob/);
  const ignored = s.decisions.filter((d) => d.ignored);
  assert.equal(ignored.length, 1);
  assert.match(ignored[0].ignoredReason ?? '', /missing "reason"/);
  await handle.executeUpdate('resolve', { args: [{ action: 'skipStep', step: 'W', by: 'bob', comment: 'no value without the sensor' }] });
  const result = await handle.result();
  assert.deepEqual(result.skippedSteps.map((x: string) => x.split(':')[0]), ['W.measure', 'W.use']);
  assert.deepEqual(await lines(log), ['after']);
});

test('failed gate checks wait in checks-failed; recheckGate after the fix goes on to approval', async () => {
  const dir = await tempDir();
  const report = path.join(dir, 'report.json');
  const plan = { name: 'attention-recheck', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W', steps: [append('w', path.join(dir, 'done.log'), 'W')] }] }],
    gate: { id: 'g1', checks: [{ id: 'report', kind: 'file', path: report, field: 'score', atLeast: 0.9 }], approval: { approvers: ['alice'] } } }] };
  const handle = await start(plan, 'sparky-attention-recheck');
  const s = await eventually('checks failed', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g1').state === 'checks-failed');
  assert.equal(s.state, 'attention');
  assert.match(s.waitingFor, /gate g1 checks failed: report/);
  assert.match(s.waitingFor, /sparky recheck sparky-attention-recheck g1/);
  const early = await refusal(handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] }));
  assert.match(early.message, /not waiting for approval \(it is checks-failed\)/);
  await writeFile(report, JSON.stringify({ score: 0.95 }));
  await handle.signal('recheckGate', { gate: 'g1', by: 'carol' });
  const waiting = await eventually('waiting', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g1').state === 'waiting');
  assert.equal(gateOf(waiting, 'g1').checks[0].passed, true);
  const passed = await refusal(handle.executeUpdate('resolve', { args: [{ action: 'recheckGate', gate: 'g1', by: 'carol' }] }));
  assert.match(passed.message, /its checks passed/);
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });
  assert.equal((await handle.result()).state, 'completed');
});

test('a rejection with rework redoes only the named workstream: its compensation alone, earlier phases untouched, fresh checks and quorum', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const undo = path.join(dir, 'undo.log');
  const checks = path.join(dir, 'checks.log');
  const plan = { name: 'attention-rework', phases: [
    { id: 'p1', domains: [{ id: 'd1', workstreams: [{ id: 'W1', steps: [undoable('w1', log, 'W1', undo)] }] }],
      gate: { id: 'g1', approval: { approvers: ['alice'] } } },
    { id: 'p2', domains: [
      { id: 'd2', workstreams: [{ id: 'W5', steps: [undoable('w5', log, 'W5', undo)] }, { id: 'W6', steps: [undoable('w6', log, 'W6', undo)] }] },
      { id: 'd3', workstreams: [{ id: 'W7', dependsOn: ['W6'], steps: [undoable('w7', log, 'W7', undo)] }] },
    ], gate: { id: 'g2', checks: [{ id: 'count', kind: 'command', run: ['sh', '-c', `echo check >> ${checks}`] }],
      approval: { approvers: ['alice', 'bob', 'carol'], required: 2 } } },
  ] };
  const handle = await start(plan, 'sparky-attention-rework');
  await eventually('g1 waiting', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g1').state === 'waiting');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });
  await eventually('g2 waiting', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g2').state === 'waiting');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g2', approver: 'alice', decision: 'approve' }] });
  const badRework = await refusal(handle.executeUpdate('decideGate', { args: [{ gate: 'g2', approver: 'bob', decision: 'reject', comment: 'x', rework: ['W1'] }] }));
  assert.match(badRework.message, /rework names W1, not a workstream of phase p2/);
  await handle.signal('rejectGate', { gate: 'g2', approver: 'bob', reason: 'the loss curve looks wrong', rework: ['W6'] });
  const s = await inAttention(handle.workflowId, 'W6');
  assert.equal(workstreamOf(s, 'W6').attention?.cause, 'rework');
  assert.match(workstreamOf(s, 'W6').attention?.reason ?? '', /rework requested by bob: the loss curve looks wrong/);
  assert.equal(workstreamOf(s, 'W7').state, 'pending', 'the same-phase dependent is reopened and waits');
  assert.equal(workstreamOf(s, 'W5').state, 'succeeded');
  assert.equal(workstreamOf(s, 'W1').state, 'succeeded');
  assert.deepEqual(await lines(undo), ['undo-W7', 'undo-W6'], 'only the reworked workstreams are undone, newest first');
  const g2 = gateOf(s, 'g2');
  assert.equal(g2.state, 'pending');
  assert.deepEqual(g2.approvals, []);
  assert.ok(g2.audit.filter((a) => a.decision === 'approve').every((a) => a.void), 'earlier votes are void, and kept');

  await temporal(stack.env, ['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'retryStep', '--input', JSON.stringify({ step: 'W6', by: 'bob' })]);
  await eventually('g2 waiting again', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g2').state === 'waiting');
  assert.equal((await lines(checks)).length, 2, 'the gate checks ran again');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g2', approver: 'alice', decision: 'approve' }] });
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g2', approver: 'carol', decision: 'approve' }] });
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  const done = await lines(log);
  assert.deepEqual(['W1', 'W5', 'W6', 'W7'].map((w) => done.filter((l) => l === w).length), [1, 1, 2, 2]);
  assert.deepEqual(await lines(undo), ['undo-W7', 'undo-W6'], 'nothing else was undone');
});

test('revisePlan: a revision that edits a finished step is refused with the reason; one that fixes the failing step runs it', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const plan = { name: 'attention-revise', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
    { id: 'W', steps: [append('first', log, 'first'), { id: 'build', kind: 'shell', run: ['sh', '-c', 'exit 7'], ...once }] },
  ] }] }, { id: 'p2', domains: [{ id: 'd2', workstreams: [{ id: 'Z', steps: [append('z', log, 'Z')] }] }] }] };
  const handle = await start(plan, 'sparky-attention-revise');
  await inAttention(handle.workflowId, 'W');
  const clone = () => JSON.parse(JSON.stringify(plan));
  const touchesFinished = clone();
  touchesFinished.phases[0].domains[0].workstreams[0].steps[0].run = ['true'];
  const refused = await refusal(handle.executeUpdate('revisePlan', { args: [{ plan: touchesFinished, by: 'alice' }] }));
  assert.match(refused.message, /W\/first\): the step already ran \(succeeded\): it cannot change/);
  const reorder = clone();
  reorder.phases.reverse();
  assert.match((await refusal(handle.executeUpdate('revisePlan', { args: [{ plan: reorder, by: 'alice' }] }))).message, /phases and their order cannot change/);
  assert.equal((await status(stack.env, handle.workflowId)).revision, 0, 'a refused revision changes nothing');

  const fixed = clone();
  fixed.phases[0].domains[0].workstreams[0].steps[1].run = ['sh', '-c', `echo built >> ${log}`];
  fixed.phases[1].domains[0].workstreams.push({ id: 'Z2', steps: [append('z2', log, 'Z2')] });
  const answer = await handle.executeUpdate('revisePlan', { args: [{ plan: fixed, by: 'alice', comment: 'fix the build command' }] }) as { revision: number; changes: string[] };
  assert.equal(answer.revision, 1);
  assert.ok(answer.changes.includes('W/build'), answer.changes.join(', '));
  await handle.executeUpdate('resolve', { args: [{ action: 'retryStep', step: 'W/build', by: 'alice' }] });
  const result = await handle.result();
  assert.equal(result.revision, 1);
  const out = await lines(log);
  assert.deepEqual(out.slice(0, 2), ['first', 'built']);
  assert.deepEqual(out.slice(2).sort(), ['Z', 'Z2'], 'the workstream the revision added to phase p2 ran too');
  const end: RunStatus = await status(stack.env, handle.workflowId);
  const steps = workstreamOf(end, 'W').steps;
  assert.deepEqual(steps.map((x) => [x.id, x.revision]), [['first', 0], ['build', 1]]);
  assert.equal(workstreamOf(end, 'Z2').state, 'succeeded');
  assert.deepEqual(end.revisions.map((r) => [r.revision, r.by, r.comment]), [[1, 'alice', 'fix the build command']]);
});

test('abort from attention ends the run as onAbort says: everything finished is undone, newest first', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const undo = path.join(dir, 'undo.log');
  const plan = { name: 'attention-abort', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
    { id: 'A', steps: [undoable('a', log, 'A', undo)] },
    { id: 'B', dependsOn: ['A'], steps: [undoable('b', log, 'B', undo), { id: 'boom', kind: 'shell', run: ['false'], ...once }] },
  ] }] }] };
  const handle = await start(plan, 'sparky-attention-abort');
  await inAttention(handle.workflowId, 'B');
  await temporal(stack.env, ['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'abort', '--input', JSON.stringify({ by: 'carol', reason: 'wrong branch' })]);
  const err = await handle.result().then(() => assert.fail('the run should end aborted'), (e) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.equal((err.cause as ApplicationFailure).type, 'SparkyRunAborted');
  assert.match((err.cause as Error).message, /aborted by carol: wrong branch/);
  assert.deepEqual(await lines(undo), ['undo-B', 'undo-A']);
  const end = await status(stack.env, handle.workflowId);
  assert.equal(end.state, 'aborted');
  assert.equal(end.aborted?.by, 'carol');
});

test('a rejection without a rework list reopens the whole phase: its root workstreams wait for a retry, the rest follow by themselves', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const plan = { name: 'attention-rework-all', phases: [{ id: 'p1', domains: [
    { id: 'd1', workstreams: [{ id: 'R1', steps: [append('r1', log, 'R1')] }, { id: 'D1', dependsOn: ['R1'], steps: [append('d1', log, 'D1')] }] },
    { id: 'd2', workstreams: [{ id: 'R2', steps: [append('r2', log, 'R2')] }, { id: 'D2', dependsOn: ['D1', 'R2'], steps: [append('d2', log, 'D2')] }] },
  ], gate: { id: 'g1', approval: { approvers: ['alice'] } } }] };
  const handle = await start(plan, 'sparky-attention-rework-all');
  await eventually('g1 waiting', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g1').state === 'waiting');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'reject', comment: 'all of it again' }] });
  const s = await eventually('roots in attention', () => status(stack.env, handle.workflowId),
    (r) => workstreamOf(r, 'R1').state === 'attention' && workstreamOf(r, 'R2').state === 'attention');
  assert.deepEqual(['D1', 'D2'].map((w) => workstreamOf(s, w).state), ['pending', 'pending']);
  for (const root of ['R1', 'R2']) await handle.executeUpdate('resolve', { args: [{ action: 'retryStep', step: root, by: 'alice' }] });
  await eventually('g1 waiting again', () => status(stack.env, handle.workflowId), (r) => gateOf(r, 'g1').state === 'waiting');
  await handle.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });
  assert.equal((await handle.result()).state, 'completed');
  const done = await lines(log);
  assert.deepEqual(['R1', 'R2', 'D1', 'D2'].map((w) => done.filter((l) => l === w).length), [2, 2, 2, 2]);
});
