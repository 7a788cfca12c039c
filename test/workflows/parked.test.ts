// The next phase's children are started while a gate waits, and run nothing until the phase starts
// (workflows/parked.ts), on the real dev server with a real worker: parked children exist and say so,
// a revision made at the gate reaches them (a changed domain runs its new step, a removed domain's
// child is cancelled), and an abort at the next gate cancels the children parked for the phase after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { append, gateOf, lines, status, tempDir, useStack } from './helpers.ts';
import { eventually } from '../helpers/wait.ts';

const stack = useStack();

const describe = (id: string) => stack.env.client.workflow.getHandle(id).describe();
const closed = (id: string) => eventually(`${id} closed`, () => describe(id), (d) => d.status.name !== 'RUNNING');

test('parked children: they wait for their phase, follow a revision made at the gate, and are cancelled when their domain goes or the run ends', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'done.log');
  const ws = (w: string) => ({ id: w, steps: [append('s', log, w)] });
  const gate = (g: string) => ({ id: g, approval: { approvers: ['alice'], required: 1 } });
  const plan = { name: 'parked', phases: [
    { id: 'p1', domains: [{ id: 'd1', workstreams: [ws('W1')] }], gate: gate('g1') },
    { id: 'p2', domains: [{ id: 'd2a', workstreams: [ws('W2a')] }, { id: 'd2b', workstreams: [ws('W2b')] }], gate: gate('g2') },
    { id: 'p3', domains: [{ id: 'd3', workstreams: [ws('W3')] }] },
  ] };
  const id = 'sparky-parked';
  const handle = await stack.env.client.workflow.start('metaOrchestrator', {
    taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue } }],
  });
  await eventually('g1 waiting', () => status(stack.env, id), (s) => gateOf(s, 'g1').state === 'waiting');

  // While g1 waits: p2's children exist, parked; nothing of p2 ran and its status is still pending.
  for (const d of ['d2a', 'd2b']) {
    const child = `${id}/p2/${d}`;
    await eventually(`${child} started`, () => describe(child), (x) => x.status.name === 'RUNNING');
    assert.deepEqual(await stack.env.client.workflow.getHandle(child).query('domainStatus'), { parked: true, phaseId: 'p2', domainId: d });
  }
  const atGate = await status(stack.env, id);
  assert.equal(atGate.phases[1].state, 'pending');
  assert.ok(atGate.phases[1].domains.every((d) => d.state === 'pending'));
  assert.deepEqual(await lines(log), ['W1']);

  // A revision at the gate: d2b goes, d2a's step changes. The parked d2a runs the revised step.
  const revised = structuredClone(plan);
  revised.phases[1].domains = [{ id: 'd2a', workstreams: [{ id: 'W2a', steps: [append('s', log, 'W2a-revised')] }] }];
  await handle.executeUpdate('revisePlan', { args: [{ plan: revised, by: 'alice', comment: 'd2b is not needed' }] });
  await handle.signal('approveGate', { gate: 'g1', approver: 'alice' });
  await eventually('g2 waiting', () => status(stack.env, id), (s) => gateOf(s, 'g2').state === 'waiting');
  assert.deepEqual(await lines(log), ['W1', 'W2a-revised']);
  assert.equal((await closed(`${id}/p2/d2a`)).status.name, 'COMPLETED');
  assert.equal((await closed(`${id}/p2/d2b`)).status.name, 'CANCELLED', 'the removed domain\'s parked child is cancelled');

  // Abort at g2: p3's parked child is cancelled before the run closes (not left running, not terminated).
  await eventually('p3 parked', () => describe(`${id}/p3/d3`), (x) => x.status.name === 'RUNNING');
  await handle.executeUpdate('resolve', { args: [{ action: 'abort', by: 'carol', comment: 'stop here' }] });
  await assert.rejects(handle.result(), WorkflowFailedError);
  assert.equal((await describe(`${id}/p3/d3`)).status.name, 'CANCELLED');
  assert.deepEqual(await lines(log), ['W1', 'W2a-revised'], 'nothing of p3 ran');
});
