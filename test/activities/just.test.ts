// `just` steps as real activities on a real worker against the real dev server, with the real `just`
// (.tools/bin/just): the recipe runs with its arguments kept literal, its output is in the step log,
// outputs come back, a failing recipe fails the step with its exit code, and cancel and timeout end
// the whole process tree, as for shell steps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stepLogPath } from '../../activities/logs.ts';
import type { JustStep } from '../../plan/schema.ts';
import { JUST_BIN } from '../../host/paths.ts';
import { type RunnerHarness, alivePids, failureOf, startRunnerHarness } from './harness.ts';
import { waitFor } from '../helpers/wait.ts';

let h: RunnerHarness;
before(async () => { h = await startRunnerHarness({ justBin: JUST_BIN }); });
after(async () => { await h?.stop(); });

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-just-'));
  writeFileSync(path.join(dir, 'justfile'), [
    'set positional-arguments',
    '',
    'greet name *rest:',
    '    @echo "hello $1 from $(pwd)"',
    '    @printf "arg:%s\\n" "$@"',
    '    @echo "{\\"greeted\\": \\"{{name}}\\", \\"count\\": $#}"',
    '',
    'fail:',
    '    @echo about to fail >&2',
    '    exit 3',
    '',
    'tree dir:',
    '    #!/bin/sh',
    '    trap "" TERM',
    '    echo $$ > {{dir}}/main.pid',
    '    ( trap "" TERM; sleep 300 & echo $! > {{dir}}/child.pid; wait ) &',
    '    while [ ! -s {{dir}}/child.pid ]; do sleep 0.05; done',
    '    touch {{dir}}/ready',
    '    wait',
    '',
  ].join('\n'));
  return dir;
}

const pidsIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(path.join(dir, f), 'utf8').trim()));

test('a recipe runs in its justfile\'s directory with literal arguments; its output is logged and read as outputs', async () => {
  const dir = project();
  const sub = path.join(dir, 'sub');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(sub);
  const step: JustStep = { id: 'greet', kind: 'just', recipe: 'greet', args: ['world', '--flag', 'NAME=value', 'two words'], workdir: sub, outputs: { from: 'stdout-last-line' } };
  const { workflowId, input } = await h.startStep(step);
  const result = await h.env.client.workflow.getHandle(workflowId).result();
  assert.equal(result.status, 'succeeded');
  assert.equal(result.exitCode, 0);
  assert.deepEqual(result.outputs, { greeted: 'world', count: 4 });
  assert.equal(result.details?.recipe, 'greet');
  const log = readFileSync(stepLogPath(h.logDir, input.ctx), 'utf8');
  assert.match(log, /^\$ \S*just -- greet world --flag NAME=value 'two words'$/m);
  assert.match(log, new RegExp(`^hello world from ${dir}$`, 'm'), 'recipes run in the justfile\'s directory (found upwards from workdir)');
  assert.match(log, /^arg:--flag\narg:NAME=value\narg:two words$/m);
  assert.match(log, /\[exit code 0; ran /);
});

test('an explicit justfile is used wherever the step starts', async () => {
  const dir = project();
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'sparky-just-elsewhere-'));
  const result = await h.runStep({ id: 'explicit', kind: 'just', justfile: path.join(dir, 'justfile'), workdir: elsewhere, recipe: 'greet', args: ['x'], outputs: { from: 'stdout-json' } });
  assert.deepEqual(result.outputs, { greeted: 'x', count: 1 });
});

test('a failing recipe fails the step with its exit code and the end of its output; listed codes are not retried', async () => {
  const dir = project();
  const failure = await failureOf(h.runStep({ id: 'fail', kind: 'just', recipe: 'fail', workdir: dir, nonRetryableExitCodes: [3] }));
  // just exits with the failed recipe line's own code.
  assert.equal(failure.type, 'StepExitNonRetryable');
  assert.match(failure.message, /step ws\/fail exited with code 3/);
  assert.match(failure.message, /about to fail/);
  assert.match(failure.message, /recipe `fail` failed on line \d+ with exit code 3/);
});

test('cancelling ends the recipe\'s whole process tree (SIGTERM ignored); a timeout does too', async () => {
  const dir = project();
  const pidDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-just-pids-'));
  const { workflowId, input } = await h.startStep({ id: 'tree', kind: 'just', recipe: 'tree', args: [pidDir], workdir: dir }, { heartbeatTimeout: '3s' });
  await waitFor('the tree to start', () => existsSync(path.join(pidDir, 'ready')));
  const pids = pidsIn(pidDir);
  assert.equal(alivePids(pids).length, 2);
  const handle = h.env.client.workflow.getHandle(workflowId);
  await handle.cancel();
  await assert.rejects(handle.result(), WorkflowFailedError);
  assert.deepEqual(alivePids(pids), [], 'nothing of the recipe survives the cancel');
  assert.match(readFileSync(stepLogPath(h.logDir, input.ctx), 'utf8'), /\[cancelled: process tree ended/);

  const pidDir2 = mkdtempSync(path.join(os.tmpdir(), 'sparky-just-pids-'));
  const failure = await failureOf(h.runStep({ id: 'slow', kind: 'just', recipe: 'tree', args: [pidDir2], workdir: dir, timeout: '2s' }, { heartbeatTimeout: '10s' }));
  assert.equal(failure.type, 'StepTimeout');
  assert.deepEqual(alivePids(pidsIn(pidDir2)), []);
});
