// Sagas on the real dev server with a real worker: a failed step (onFailure: compensate), an abort and a
// cancelled run each undo the finished steps newest first (the compensations append to a file we read); a
// failing compensation is recorded without hiding the original error; onFailure: halt undoes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { append, gateOf, lines, status, tempDir, undoable, useStack, workstreamOf } from './helpers.ts';
import { eventually, sleep } from '../helpers/wait.ts';

const stack = useStack();

const once = { retry: { maximumAttempts: 1 } };

/** Phase 1: A → B (both undoable) in one domain, C in another; phase 2: D (undoable) then E. */
function chainPlan(name: string, dir: string, opts: { failIn?: 'E'; gate?: boolean; onFailure?: 'halt'; brokenUndo?: boolean; slowE?: boolean }) {
  const done = path.join(dir, 'done.log');
  const undo = path.join(dir, 'undo.log');
  const eStep = opts.slowE
    ? { id: 'e', kind: 'shell', run: ['sh', '-c', `echo E-started >> ${done}; sleep 30; echo E >> ${done}`] }
    : opts.failIn === 'E'
      ? { id: 'e', kind: 'shell', run: ['sh', '-c', 'echo failing on purpose >&2; exit 3'], ...once }
      : append('e', done, 'E');
  const cStep = opts.brokenUndo
    ? { ...append('c', done, 'C'), compensate: { id: 'undo-c', kind: 'shell', run: ['sh', '-c', 'echo cannot undo >&2; exit 9'], ...once } }
    : undoable('c', done, 'C', undo);
  return {
    name, onFailure: opts.onFailure ?? 'compensate',
    phases: [
      {
        id: 'p1',
        domains: [
          { id: 'd1', workstreams: [
            { id: 'A', steps: [undoable('a', done, 'A', undo)] },
            { id: 'B', dependsOn: ['A'], steps: [undoable('b', done, 'B', undo)] },
          ] },
          { id: 'd2', workstreams: [{ id: 'C', dependsOn: ['B'], steps: [cStep] }] },
        ],
        gate: opts.gate ? { id: 'g1', approval: { approvers: ['alice', 'bob'] } } : undefined,
      },
      {
        id: 'p2',
        domains: [{ id: 'd3', workstreams: [
          { id: 'D', steps: [undoable('d', done, 'D', undo)] },
          { id: 'E', dependsOn: ['D'], steps: [eStep] },
        ] }],
      },
    ],
  };
}

async function start(plan: object, id: string) {
  return stack.env.client.workflow.start('metaOrchestrator', { taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue } }] });
}

test('a step failing after its retries compensates the finished steps newest first', async () => {
  const dir = await tempDir();
  const handle = await start(chainPlan('saga-fail', dir, { failIn: 'E' }), 'sparky-saga-fail-1');
  const err = await handle.result().then(() => assert.fail('the run should fail'), (e) => e);
  assert.ok(err instanceof WorkflowFailedError);
  const message = (err.cause as Error).message;
  assert.match(message, /workstream E step e failed/);
  assert.match(message, /exited with code 3/);
  assert.match(message, /compensated \(newest first\): D\.d, C\.c, B\.b, A\.a/);
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-D', 'undo-C', 'undo-B', 'undo-A']);
  const s = await status(stack.env, handle.workflowId);
  assert.equal(s.state, 'failed');
  assert.equal(workstreamOf(s, 'E').steps[0].state, 'failed');
  assert.equal(workstreamOf(s, 'E').steps[0].attempts, 1);
  assert.match(workstreamOf(s, 'E').steps[0].lastError ?? '', /failing on purpose/);
  assert.deepEqual(s.compensations.map((c) => [c.of, c.state]), [['D.d', 'succeeded'], ['C.c', 'succeeded'], ['B.b', 'succeeded'], ['A.a', 'succeeded']]);
  assert.equal(s.phases[1].state, 'failed');
});

test('abort at a gate compensates newest first; a failing compensation is recorded and the rest still run', async () => {
  const dir = await tempDir();
  const handle = await start(chainPlan('saga-abort', dir, { gate: true, brokenUndo: true }), 'sparky-saga-abort-1');
  await eventually('gate g1 waiting', () => status(stack.env, handle.workflowId), (s) => gateOf(s, 'g1').state === 'waiting');
  await handle.signal('abort', { by: 'bob', reason: 'numbers look wrong' });
  const err = await handle.result().then(() => assert.fail('the run should end aborted'), (e) => e);
  const message = (err.cause as Error).message;
  assert.match(message, /^run sparky-saga-abort-1 aborted by bob: numbers look wrong/); // why it ended comes first
  assert.match(message, /compensated \(newest first\): B\.b, A\.a/);
  assert.match(message, /compensations FAILED: C\.c \(.*exited with code 9\)/);
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-B', 'undo-A']);
  const s = await status(stack.env, handle.workflowId);
  assert.equal(s.state, 'aborted');
  assert.deepEqual(s.compensations.map((c) => c.state), ['failed', 'succeeded', 'succeeded']);
  assert.deepEqual(s.decisions.map((d) => [d.action, d.by, d.comment]), [['abort', 'bob', 'numbers look wrong']]);
  assert.deepEqual(await lines(path.join(dir, 'done.log')), ['A', 'B', 'C']); // phase 2 never started
});

test('cancelling the run cancels the running step, then compensates newest first, and ends cancelled', async () => {
  const dir = await tempDir();
  const handle = await start(chainPlan('saga-cancel', dir, { slowE: true }), 'sparky-saga-cancel-1');
  await eventually('E running', () => lines(path.join(dir, 'done.log')), (l) => l.includes('E-started'));
  await handle.cancel();
  const err = await handle.result().then(() => assert.fail('the run should end cancelled'), (e) => e);
  assert.ok(err instanceof WorkflowFailedError);
  assert.equal((await handle.describe()).status.name, 'CANCELLED');
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), ['undo-D', 'undo-C', 'undo-B', 'undo-A']);
  const s = await status(stack.env, handle.workflowId);
  assert.equal(s.state, 'cancelled');
  assert.match(s.error ?? '', /^run sparky-saga-cancel-1 cancelled\ncompensated/, 'a cancelled run reads cancelled, not failed');
  assert.equal(workstreamOf(s, 'E').steps[0].state, 'cancelled');
  // The sleeping step was really stopped: it never wrote its last line.
  await sleep(500);
  assert.ok(!(await lines(path.join(dir, 'done.log'))).includes('E'));
});

test('onFailure: halt fails with a summary and undoes nothing', async () => {
  const dir = await tempDir();
  const handle = await start(chainPlan('saga-halt', dir, { failIn: 'E', onFailure: 'halt' }), 'sparky-saga-halt-1');
  const err = await handle.result().then(() => assert.fail('the run should fail'), (e) => e);
  assert.match((err.cause as Error).message, /onFailure halt: no compensation ran \(4 finished steps/);
  assert.deepEqual(await lines(path.join(dir, 'undo.log')), []);
});
