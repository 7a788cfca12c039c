// docs/operations.md is executable: every `sparky …` and `temporal …` line of its ```sh blocks runs here,
// in order, against a real dev server and a real CPU worker, and each block's effect is checked.
// `tctl` lines are reported as not testable here (tctl cannot be installed on these machines).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, TOOLS_BIN } from '../../host/paths.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { CPU_TASK_QUEUE } from '../../common/task-queues.ts';
import { useStack } from '../workflows/helpers.ts';
import { eventually } from '../helpers/wait.ts';

interface Block { heading: string; lines: string[] }

/** The ```sh blocks of docs/operations.md, with the section heading each sits under. */
function operationBlocks(): Block[] {
  const doc = readFileSync(path.join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
  const blocks: Block[] = [];
  let heading = '';
  for (const match of doc.matchAll(/^## (.+)$|^```sh\n([\s\S]*?)^```/gm)) {
    if (match[1]) heading = match[1].trim();
    else blocks.push({ heading, lines: match[2].split('\n').map((l) => l.trim()).filter(Boolean) });
  }
  return blocks;
}

// The worker serves `sparky`, the queue the documented commands start runs on.
const stack = useStack({ taskQueue: CPU_TASK_QUEUE });
const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-ops-'));
const RUN = `sparky-ops-demo-${Date.now().toString(36)}`;
const PLAN = path.join(dir, 'ops.plan.yaml');
const RELEASE = path.join(dir, 'release');

before(async () => {
  writeFileSync(PLAN, [
    'name: ops-demo',
    'phases:',
    '  - id: build',
    '    domains:',
    '      - id: core',
    '        workstreams:',
    '          - id: ops-ws',
    '            steps:',
    '              - { id: hello, kind: shell, run: [uname, -s] }',
    '    gate:',
    '      id: ops-gate',
    '      approval: { approvers: [alice, bob, carol], required: 3 }',
    '  - id: ship',
    '    domains:',
    '      - id: core2',
    '        workstreams:',
    '          - id: ship-ws',
    // Holds the run until the test releases it (after pause/resume), however slow the machine is.
    '            steps:',
    `              - { id: wait, kind: shell, run: [sh, -c, "until [ -e ${RELEASE} ]; do sleep 0.2; done"] }`,
    '              - { id: done, kind: shell, run: [uname, -m] }',
    '',
  ].join('\n'));
  // `sparky` on PATH, as `npm link` / `npx sparky` would give a user.
  const shim = path.join(dir, 'bin', 'sparky');
  await execa('mkdir', ['-p', path.dirname(shim)]);
  writeFileSync(shim, `#!/bin/sh\nexec node ${path.join(PROJECT_ROOT, 'bin', 'sparky.js')} "$@"\n`);
  chmodSync(shim, 0o755);
});

async function sh(line: string) {
  return execa('bash', ['-c', line], {
    cwd: dir, reject: false, all: true, stdin: 'ignore', timeout: 60_000,
    env: {
      RUN, PLAN, TEMPORAL_ADDRESS: stack.env.address, TEMPORAL_NAMESPACE: 'default', SPARKY_DATA_DIR: dir,
      PATH: `${path.join(dir, 'bin')}:${TOOLS_BIN}:${process.env.PATH}`,
    },
  });
}

const status = () => stack.env.client.workflow.getHandle(RUN).query<RunStatus>('status');
const gate = (s: RunStatus) => s.phases[0].gate!;

/** What each section must have done, checked after its lines ran. */
const before_: Record<string, () => Promise<void>> = {
  'Find runs': async () => {
    await eventually('the gate to wait', status, (s) => gate(s).state === 'waiting', 60_000);
    await eventually('visibility to show the waiting gate', () => sh(`temporal workflow list --query "SparkyGate='ops-gate'"`), (r) => r.all!.includes(RUN), 60_000);
  },
  'Find runs by the gates they passed': async () => {
    await eventually('visibility to show the passed gate', () => sh(`temporal workflow list --query "SparkyGatesPassed='ops-gate'"`), (r) => r.all!.includes(RUN), 60_000);
  },
  'Pause and resume': async () => {
    await eventually('the second phase\'s first step to run', status, (s) => s.phases[1].domains[0].workstreams[0].steps[0].state === 'running', 60_000);
  },
  'Logs and results': async () => { writeFileSync(RELEASE, ''); },
};
const checks: Record<string, (outputs: string[]) => Promise<void>> = {
  'Start a run': async (out) => {
    assert.match(out[0], /ok/i);
    assert.ok(JSON.parse(readFileSync(path.join(dir, 'run-input.json'), 'utf8')).plan.phases.length === 2);
    const d = await stack.env.client.workflow.getHandle(RUN).describe();
    assert.equal(d.type, 'metaOrchestrator');
  },
  'Find runs': async (out) => { for (const o of out) assert.ok(o.includes(RUN), `list output lacks the run:\n${o}`); },
  'Look at a run': async (out) => {
    assert.match(out[0], /ops-gate/);
    assert.match(out[1], /metaOrchestrator/);
    assert.match(out[1], /SparkyGate/);
    assert.match(out[2], /ops-gate/);
    assert.match(out[3], /waiting for approval of ops-gate/);
  },
  'A weekly report': async (out) => {
    assert.match(out[0], /ops-gate/, 'the markdown report names what waits');
    assert.match(out[0], /[✅🟡⚪]/u);
    const json = JSON.parse(out[1].slice(out[1].indexOf('{'))) as { run?: unknown };
    assert.ok(json && typeof json === 'object');
  },
  'Approve or reject a gate': async () => {
    const s = await eventually('the gate to be approved', status, (x) => gate(x).state === 'approved', 60_000);
    assert.deepEqual([...gate(s).approvals].sort(), ['alice', 'bob', 'carol']);
    assert.deepEqual(gate(s).audit.filter((a) => !a.ignored).map((a) => a.surface).sort(), ['signal', 'update', 'update']);
  },
  'Find runs by the gates they passed': async (out) => { for (const o of out) assert.ok(o.includes(RUN), `list output lacks the run:\n${o}`); },
  'Pause and resume': async (out) => {
    assert.match(out[0], new RegExp(`^paused ${RUN}: no new step starts`));
    // Each line reached the run, in order: sparky's pause, temporal's pause, temporal's resume.
    const history = await stack.env.client.workflow.getHandle(RUN).fetchHistory();
    const signals = history.events!.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName).filter((n) => n === 'pause' || n === 'resume');
    assert.deepEqual(signals, ['pause', 'pause', 'resume']);
    const s = await status();
    assert.equal(s.paused, false, 'resume should have undone pause');
    assert.equal(s.state, 'running', JSON.stringify(s).slice(0, 300));
    assert.deepEqual(s.phases[1].domains[0].workstreams[0].steps.map((x) => x.state), ['running', 'pending']);
  },
  'Logs and results': async (out) => {
    assert.match(out[0], /Linux/);
    assert.ok(existsSync(path.join(dir, 'history.json')));
    assert.match(readFileSync(path.join(dir, 'history.json'), 'utf8'), /WorkflowExecutionStarted|EVENT_TYPE_WORKFLOW_EXECUTION_STARTED/);
    assert.match(out[3], /WorkflowExecutionCompleted|EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED/);
  },
};

test('every sparky/temporal command in docs/operations.md works against the real stack', async (t) => {
  const blocks = operationBlocks();
  assert.ok(blocks.length >= 5, 'docs/operations.md has its command blocks');
  const untested: string[] = [];
  for (const block of blocks) {
    await before_[block.heading]?.();
    const outputs: string[] = [];
    for (const line of block.lines) {
      if (line.startsWith('tctl ')) { untested.push(line); continue; }
      assert.match(line, /^(sparky|temporal) /, `unexpected line in docs/operations.md: ${line}`);
      const result = await sh(line);
      assert.equal(result.exitCode, 0, `\`${line}\` failed (exit ${result.exitCode}):\n${result.all}`);
      outputs.push(result.all ?? '');
    }
    const check = checks[block.heading];
    assert.ok(check, `no check for section "${block.heading}" of docs/operations.md`);
    await check(outputs);
  }
  t.diagnostic(`not testable here (no tctl on these machines): ${untested.length} tctl lines`);
});
