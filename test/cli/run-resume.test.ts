// `npm start` after a Ctrl-C: the unfinished run of the same plan is followed, not doubled;
// `--new-run` / `sparky run` still start another.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../cli/run.ts';
import { CPU_TASK_QUEUE } from '../../common/task-queues.ts';
import { useStack } from '../workflows/helpers.ts';
import { sleep } from '../helpers/wait.ts';

const stack = useStack({ taskQueue: CPU_TASK_QUEUE });
const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-resume-'));
const file = path.join(dir, 'resume.plan.yaml');

before(async () => {
  writeFileSync(file, [
    'name: resume-demo',
    'phases:',
    '  - id: p',
    '    domains: [{ id: d, workstreams: [{ id: w, steps: [{ id: s, kind: shell, run: [uname] }] }] }]',
    '    gate: { id: g, approval: { approvers: [alice] } }',
    '',
  ].join('\n'));
});

async function runsOfPlan(): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of stack.env.client.workflow.list({ query: `SparkyPlan = 'resume-demo'` })) ids.push(wf.workflowId);
  return ids;
}

test('a still-running run of the same plan is followed instead of starting a second one', async () => {
  assert.equal(await runCommand(file, { client: stack.env.client }), 0);
  for (let i = 0; (await runsOfPlan()).length < 1; i++) { assert.ok(i < 100, 'visibility never listed the run'); await sleep(100); }
  const [first] = await runsOfPlan();

  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => { lines.push(args.join(' ')); };
  try {
    assert.equal(await runCommand(file, { client: stack.env.client, resume: true }), 0);
  } finally {
    console.log = log;
  }
  assert.match(lines[0], new RegExp(`^following ${first}: a run of plan resume-demo started earlier`));
  assert.deepEqual(await runsOfPlan(), [first]);

  // Without resume (sparky run, or sparky dev --new-run) a second run starts.
  assert.equal(await runCommand(file, { client: stack.env.client }), 0);
  for (let i = 0; (await runsOfPlan()).length < 2; i++) { assert.ok(i < 100, 'the second run never showed'); await sleep(100); }
});
