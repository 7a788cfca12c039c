// The whole path without Sparky's CLI: two phases, three domains, a cross-domain dependency with an
// output reference, one gate (a file check + quorum 2 of 3), started, approved, queried, described
// and listed with the real `temporal` CLI against the real dev server and a real CPU worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gateOf, lines, tempDir, temporal, useStack, workstreamOf } from './helpers.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { SparkyGate, SparkyPhase, SparkyPlan, SparkyState } from '../../common/search-attributes.ts';
import { eventually } from '../helpers/wait.ts';

const stack = useStack();

function e2ePlan(dir: string, name: string) {
  const order = path.join(dir, 'order.log');
  return {
    name,
    defaults: { retry: { maximumAttempts: 2, initialInterval: '200ms' } },
    phases: [
      {
        id: 'build',
        domains: [
          { id: 'model', workstreams: [
            { id: 'M1', steps: [
              { id: 'train', kind: 'shell', run: ['sh', '-c', `sleep 1; echo M1 >> ${order}; echo '{"accuracy": 0.93}' > ${dir}/model.json; echo '{"value": 42}'`],
                outputs: { from: 'stdout-last-line' } },
            ] },
          ] },
          { id: 'interface', workstreams: [
            { id: 'I0', steps: [{ id: 'scaffold', kind: 'shell', run: ['sh', '-c', `echo I0 >> ${order}`] }] },
            // Cross-domain: waits for M1 (domain model) and uses its output.
            { id: 'I1', dependsOn: ['M1', 'I0'], steps: [
              { id: 'wire', kind: 'shell', run: ['sh', '-c', `echo I1 >> ${order}; echo \${{ outputs.M1.train.value }} > ${dir}/wired.txt`] },
            ] },
          ] },
        ],
        gate: {
          id: 'gate-1',
          checks: [{ id: 'model-file', kind: 'file', path: `${dir}/model.json`, field: 'accuracy', atLeast: 0.9 }],
          approval: { approvers: ['alice', 'bob', 'carol'], required: 2 },
        },
      },
      {
        id: 'ship',
        domains: [{ id: 'integration', workstreams: [
          { id: 'X1', dependsOn: ['I1'], steps: [{ id: 'release', kind: 'shell', run: ['sh', '-c', `echo X1 >> ${order}`] }] },
        ] }],
      },
    ],
  };
}

test('a two-phase, three-domain plan runs to completion, approved through the temporal CLI', async () => {
  const dir = await tempDir();
  const name = `e2e-${path.basename(dir).slice(-6).toLowerCase()}`;
  const workflowId = `sparky-${name}-cli`;
  const input = JSON.stringify({ plan: e2ePlan(dir, name), options: { cpuTaskQueue: stack.taskQueue } });
  const started = await temporal(stack.env, ['workflow', 'start', '--type', 'metaOrchestrator', '--task-queue', stack.taskQueue,
    '--workflow-id', workflowId, '--input', input]);
  assert.equal(started.exitCode, 0, started.all);

  const cliStatus = async (): Promise<RunStatus> => {
    const q = await temporal(stack.env, ['workflow', 'query', '--workflow-id', workflowId, '--name', 'status', '--output', 'json']);
    if (q.exitCode !== 0) throw new Error(q.all);
    const parsed = JSON.parse(q.stdout);
    return (parsed.queryResult ?? parsed.result ?? parsed)[0] ?? parsed.queryResult;
  };
  const waiting = await eventually('gate-1 waiting', cliStatus, (s) => gateOf(s, 'gate-1').state === 'waiting', 60_000);
  // Checks ran first, with the value they measured.
  const check = gateOf(waiting, 'gate-1').checks[0];
  assert.equal(check.passed, true);
  assert.equal(check.measured, 0.93);
  // Cross-domain order and output substitution really happened.
  const order = await lines(path.join(dir, 'order.log'));
  assert.ok(order.indexOf('M1') < order.indexOf('I1'), `I1 ran before M1: ${order}`);
  assert.equal((await readFile(path.join(dir, 'wired.txt'), 'utf8')).trim(), '42');
  assert.equal(workstreamOf(waiting, 'I1').state, 'succeeded');
  assert.equal(waiting.state, 'waiting');
  assert.match(waiting.waitingFor, /waiting for approval of gate-1: 0 of 2 \(alice, bob, carol\)/);

  // While the gate waits the Web UI sees SparkyGate and the current details.
  const described = await temporal(stack.env, ['workflow', 'describe', '--workflow-id', workflowId]);
  assert.equal(described.exitCode, 0, described.all);
  assert.match(described.stdout, /SparkyGate:.*?data:"\\"gate-1\\""/);
  assert.match(described.stdout, /SparkyState:.*?data:"\\"waiting\\""/);
  const metadata = await temporal(stack.env, ['workflow', 'metadata', '--workflow-id', workflowId]);
  assert.match(metadata.stdout, /waiting for approval of gate-1: 0 of 2/);
  const listed = await temporal(stack.env, ['workflow', 'list', '--query', `SparkyPlan="${name}" AND SparkyGate="gate-1"`]);
  await eventually('list by SparkyPlan', async () => (await temporal(stack.env, ['workflow', 'list', '--query', `SparkyPlan="${name}" AND SparkyGate="gate-1"`])).stdout,
    (out) => out.includes(workflowId), 15_000).catch(() => assert.fail(`workflow list did not find the run: ${listed.all}`));

  // An unlisted approver: refused by the update (the CLI fails), ignored-with-reason for the signal.
  const refused = await temporal(stack.env, ['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'decideGate',
    '--input', JSON.stringify({ gate: 'gate-1', approver: 'mallory', decision: 'approve' })]);
  assert.notEqual(refused.exitCode, 0);
  assert.match(refused.all, /mallory is not an approver of gate gate-1/);
  const sig = (name: string, body: unknown) => temporal(stack.env, ['workflow', 'signal', '--workflow-id', workflowId, '--name', name, '--input', JSON.stringify(body)]);
  assert.equal((await sig('approveGate', { gate: 'gate-1', approver: 'mallory' })).exitCode, 0);

  // Quorum 2 of 3: one approval is not enough, and the same approver twice counts once.
  assert.equal((await sig('approveGate', { gate: 'gate-1', approver: 'alice', comment: 'looks good' })).exitCode, 0);
  assert.equal((await sig('approveGate', { gate: 'gate-1', approver: 'alice' })).exitCode, 0);
  const one = await eventually('alice counted', cliStatus, (s) => gateOf(s, 'gate-1').audit.length >= 3);
  const gate = gateOf(one, 'gate-1');
  assert.equal(gate.state, 'waiting');
  assert.deepEqual(gate.approvals, ['alice']);
  const ignored = gate.audit.filter((a) => a.ignored);
  assert.equal(ignored.length, 2, JSON.stringify(gate.audit));
  assert.match(ignored[0].ignoredReason ?? '', /mallory is not an approver/);
  assert.match(ignored[1].ignoredReason ?? '', /alice already approved/);
  const again = await temporal(stack.env, ['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'decideGate',
    '--input', JSON.stringify({ gate: 'gate-1', approver: 'alice', decision: 'approve' })]);
  assert.notEqual(again.exitCode, 0);
  assert.match(again.all, /alice already approved/);

  // The second distinct approver, through the update: it answers with the gate's new state.
  const bob = await temporal(stack.env, ['workflow', 'update', 'execute', '--workflow-id', workflowId, '--name', 'decideGate',
    '--input', JSON.stringify({ gate: 'gate-1', approver: 'bob', decision: 'approve', comment: 'ship it' })]);
  assert.equal(bob.exitCode, 0, bob.all);
  assert.match(bob.stdout, /approved/);

  const result = await stack.env.client.workflow.getHandle(workflowId).result();
  assert.equal(result.state, 'completed');
  const final = await cliStatus();
  assert.equal(final.state, 'completed');
  const audit = gateOf(final, 'gate-1').audit.filter((a) => !a.ignored);
  assert.deepEqual(audit.map((a) => [a.approver, a.surface, a.decision]), [['alice', 'signal', 'approve'], ['bob', 'update', 'approve']]);
  assert.equal(audit[0].comment, 'looks good');
  assert.deepEqual(await lines(path.join(dir, 'order.log')).then((l) => l.slice(-1)), ['X1']);
  const desc = await temporal(stack.env, ['workflow', 'describe', '--workflow-id', workflowId]);
  assert.match(desc.stdout, /COMPLETED/i);
  // No gate waits any more; the state and phase say where the run ended.
  const attrs = (await stack.env.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
  assert.equal(attrs.get(SparkyGate), '');
  assert.equal(attrs.get(SparkyState), 'completed');
  assert.equal(attrs.get(SparkyPhase), 'ship');
  assert.equal(attrs.get(SparkyPlan), name);
  // Children ids derive from the run id and the domain.
  const child = await stack.env.client.workflow.getHandle(`${workflowId}/build/model`).describe();
  assert.equal(child.status.name, 'COMPLETED');
});
