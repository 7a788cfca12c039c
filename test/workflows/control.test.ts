// Control of a running plan: pause holds new steps (running ones finish), resume continues; a plan
// started by hand with bad fields fails at once, non-retryably, naming every field; a step whose
// `when` is false is recorded as skipped with its reason; maxParallel bounds concurrency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { append, lines, status, tempDir, temporal, useStack, workstreamOf } from './helpers.ts';
import { eventually, sleep } from '../helpers/wait.ts';

const stack = useStack();

async function start(plan: object, id: string) {
  return stack.env.client.workflow.start('metaOrchestrator', { taskQueue: stack.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: stack.taskQueue } }] });
}

test('pause holds new steps while the running one finishes; resume continues', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'steps.log');
  const slow = (id: string) => ({ id, kind: 'shell', run: ['sh', '-c', `echo ${id}-start >> ${log}; sleep 2; echo ${id}-end >> ${log}`] });
  const plan = { name: 'pause', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
    { id: 'W1', steps: [slow('s1'), slow('s2'), slow('s3')] },
  ] }] }] };
  const handle = await start(plan, 'sparky-pause-1');
  await eventually('s1 started', () => lines(log), (l) => l.includes('s1-start'));
  // pause takes {} (or nothing): through the real CLI, as an operator would.
  const paused = await temporal(stack.env, ['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'pause', '--input', '{}']);
  assert.equal(paused.exitCode, 0, paused.all);
  await eventually('s1 finished', () => lines(log), (l) => l.includes('s1-end'));
  await sleep(3000); // longer than a step: s2 would have started by now
  assert.deepEqual(await lines(log), ['s1-start', 's1-end']);
  const s = await status(stack.env, handle.workflowId);
  assert.equal(s.state, 'paused');
  assert.match(s.waitingFor, /paused: no new steps start/);
  assert.equal(workstreamOf(s, 'W1').steps[1].state, 'pending');
  const resumed = await temporal(stack.env, ['workflow', 'signal', '--workflow-id', handle.workflowId, '--name', 'resume']);
  assert.equal(resumed.exitCode, 0, resumed.all);
  assert.equal((await handle.result()).state, 'completed');
  assert.deepEqual(await lines(log), ['s1-start', 's1-end', 's2-start', 's2-end', 's3-start', 's3-end']);
});

test('an invalid plan started by hand fails at once, non-retryably, naming every bad field', async () => {
  const bad = { plan: { name: 'bad plan!', phases: [{ id: 'p1', domains: [{ id: 'd1', workstreams: [
    { id: 'W1', dependsOn: ['W9'], steps: [{ id: 's', kind: 'shell', run: [] }] },
  ] }] }] } };
  const started = await temporal(stack.env, ['workflow', 'start', '--type', 'metaOrchestrator', '--task-queue', stack.taskQueue,
    '--workflow-id', 'sparky-invalid-1', '--input', JSON.stringify(bad)]);
  assert.equal(started.exitCode, 0, started.all);
  const err = await stack.env.client.workflow.getHandle('sparky-invalid-1').result().then(() => assert.fail('should fail'), (e) => e);
  const cause = err.cause as Error & { nonRetryable?: boolean; type?: string };
  assert.equal(cause.nonRetryable, true);
  assert.equal(cause.type, 'SparkyInvalidPlan');
  assert.match(cause.message, /^invalid plan \(\d+ errors\)/);
  assert.match(cause.message, /\bname: /);
  assert.match(cause.message, /phases\[0\]\.domains\[0\]\.workstreams\[0\]\.steps\[0\]\.run/);
  assert.match(cause.message, /phases\[0\]\.domains\[0\]\.workstreams\[0\]\.dependsOn\[0\]/);
  // Not retried, not stuck: one attempt, closed as failed.
  const described = await stack.env.client.workflow.getHandle('sparky-invalid-1').describe();
  assert.equal(described.status.name, 'FAILED');
  // And input that is not a plan at all.
  const none = await temporal(stack.env, ['workflow', 'start', '--type', 'metaOrchestrator', '--task-queue', stack.taskQueue,
    '--workflow-id', 'sparky-invalid-2', '--input', '{}']);
  assert.equal(none.exitCode, 0, none.all);
  const err2 = await stack.env.client.workflow.getHandle('sparky-invalid-2').result().then(() => assert.fail('should fail'), (e) => e);
  assert.match((err2.cause as Error).message, /expected one JSON object \{"plan"/);
});

test('a step whose `when` is false is skipped with its reason; maxParallel bounds the domain', async () => {
  const dir = await tempDir();
  const log = path.join(dir, 'par.log');
  // Each workstream records how many were running when it started (a counter file guarded by mkdir).
  const probe = () => ({ id: 'probe', kind: 'shell', run: ['sh', '-c',
    `echo start >> ${log}; sleep 1; echo end >> ${log}`] });
  const plan = { name: 'when-par', phases: [{ id: 'p1', domains: [{ id: 'd1', maxParallel: 2, workstreams: [
    ...['A', 'B', 'C', 'D'].map((id) => ({ id, steps: [probe()] })),
    { id: 'S', steps: [
      { id: 'needs-env', kind: 'shell', run: ['true'], when: { env: 'SPARKY_SURELY_UNSET_VARIABLE' } },
      append('after', path.join(dir, 'after.log'), 'ran'),
      { id: 'via-sh', kind: 'shell', shell: true, run: ['echo "$0" > "$1"', path.join(dir, 'sh.txt')] },
    ] },
  ] }] }] };
  const handle = await start(plan, 'sparky-when-par');
  const result = await handle.result();
  assert.equal(result.skippedSteps.length, 1);
  assert.match(result.skippedSteps[0], /^S\.needs-env: .*SPARKY_SURELY_UNSET_VARIABLE/);
  const s = await status(stack.env, handle.workflowId);
  const skipped = workstreamOf(s, 'S').steps[0];
  assert.equal(skipped.state, 'skipped');
  assert.match(skipped.skippedReason ?? '', /SPARKY_SURELY_UNSET_VARIABLE/);
  assert.equal((await readFile(path.join(dir, 'after.log'), 'utf8')).trim(), 'ran');
  // A step the plan runs through /bin/sh says so in the status.
  assert.equal(workstreamOf(s, 'S').steps[2].viaShell, true);
  assert.equal(workstreamOf(s, 'S').steps[1].viaShell ?? false, false);
  // Never more than 2 probes between a start and an end.
  let level = 0; let max = 0;
  for (const l of await lines(log)) { level += l === 'start' ? 1 : -1; max = Math.max(max, level); }
  assert.equal(max, 2);
});
