// The runners' parts on their own (no Temporal): process trees, streaming redaction, `when`, names,
// docker argv, comparisons. Real processes throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createGateCheckRunner } from '../../activities/checks.ts';
import { compare, dig } from '../../activities/compare.ts';
import { createActivities } from '../../activities/index.ts';
import { dockerRunArgs, resolveVolume } from '../../activities/docker.ts';
import { createInferenceRunner } from '../../activities/inference.ts';
import { stepResourceName } from '../../activities/docker-names.ts';
import { durationMs } from '../../plan/durations.ts';
import { StepLog, safeSegment, stepLogPath } from '../../activities/logs.ts';
import { killTree } from '../../activities/process-tree.ts';
import { expandRunDir, runDir } from '../../activities/run-dir.ts';
import { runProcess } from '../../activities/run-process.ts';
import { redactor, resolveSecrets } from '../../activities/secrets.ts';
import { evaluateWhen, visibleGpus } from '../../activities/when.ts';
import { alivePids, stepInput } from './harness.ts';
import { waitFor } from '../helpers/wait.ts';

const tmpLog = () => new StepLog(path.join(mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-')), 'step.log'));

test('a secret written in two pieces, without a newline between, is still redacted in the log and tail', async () => {
  const log = tmpLog();
  const outcome = await runProcess({
    file: 'node', args: ['-e', 'process.stdout.write("key=abc"); setTimeout(() => process.stdout.write("def-123\\n"), 200)'],
    cwd: os.tmpdir(), log, redact: redactor(['abcdef-123']),
  });
  log.close();
  assert.equal(outcome.exitCode, 0);
  assert.match(outcome.tail, /^key=\*\*\*$/m);
  assert.ok(!readFileSync(log.path, 'utf8').includes('abcdef'));
  assert.equal(outcome.lastStdoutLine, 'key=***');
});

test('multi-line secrets are redacted line by line; missing references name the variable only', () => {
  const pem = '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n-----END KEY-----';
  const redact = redactor([pem]);
  assert.equal(redact(`key:\n${pem}\n`), 'key:\n***\n');
  assert.equal(redact('line MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf printed alone'), 'line *** printed alone');
  const resolved = resolveSecrets({ TOKEN: { fromEnv: 'SRC' } }, { SRC: 'v4lue' });
  assert.deepEqual(resolved.env, { TOKEN: 'v4lue' });
  assert.equal(resolved.redact('a v4lue b'), 'a *** b');
  assert.throws(() => resolveSecrets({ TOKEN: { fromEnv: 'SRC' } }, { SRC: '' }), /TOKEN refers to the environment variable SRC, which is not set/);
});

test('background processes a step leaves behind are ended when it exits, and do not hold the step open', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-'));
  const log = tmpLog();
  const started = Date.now();
  const outcome = await runProcess({
    file: 'sh', args: ['-c', `sleep 300 & echo $! > ${dir}/bg.pid; echo started`], cwd: dir, log, killGraceMs: 500,
  });
  log.close();
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.leftovers, 1);
  assert.ok(Date.now() - started < 5_000, 'the sleeping background process did not keep the step running');
  assert.deepEqual(alivePids([Number(readFileSync(path.join(dir, 'bg.pid'), 'utf8'))]), []);
  assert.match(outcome.tail, /ended 1 leftover process/);
});

test('a grandchild that left the session after its parent died is still ended, found by the step\'s key', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-'));
  const log = tmpLog();
  const outcome = await runProcess({
    // The parent exits only once the grandchild runs in its own session: nothing but the key links them.
    // (After a pause, so that the runner's first look at the tree, at spawn, cannot see it either.)
    file: 'sh', args: ['-c', `sleep 0.3; setsid sh -c 'trap "" TERM; echo $$ > ${dir}/escaped.pid; exec sleep 300' & while [ ! -s ${dir}/escaped.pid ]; do sleep 0.05; done`],
    cwd: dir, log, killGraceMs: 300,
    env: { SPARKY_IDEMPOTENCY_KEY: `unit/${path.basename(dir)}` },
  });
  log.close();
  const escaped = Number(readFileSync(path.join(dir, 'escaped.pid'), 'utf8'));
  assert.equal(outcome.leftovers, 1);
  assert.deepEqual(alivePids([escaped]), []);
});

test('killTree ends a group whose leader already exited and a SIGTERM-ignoring grandchild', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-'));
  const { spawn } = await import('node:child_process');
  const leader = spawn('sh', ['-c', `(trap "" TERM; sleep 300 & echo $! > ${dir}/gc.pid; wait) & exit 0`], { detached: true, stdio: 'ignore' });
  await new Promise((r) => leader.once('exit', r));
  const gc = await waitFor('the grandchild pid', () => existsSync(path.join(dir, 'gc.pid')) && Number(readFileSync(path.join(dir, 'gc.pid'), 'utf8')));
  assert.deepEqual(alivePids([gc]), [gc]);
  const result = await killTree(leader.pid!, 300);
  assert.ok(result.forced >= 1, 'SIGTERM was ignored, so SIGKILL was needed');
  assert.deepEqual(alivePids([gc]), []);
});

test('a log file that cannot be written (a full disk) does not crash the worker; the tail says so', async (t) => {
  if (!existsSync('/dev/full')) return t.skip('no /dev/full on this system');
  const log = new StepLog('/dev/full');
  const outcome = await runProcess({ file: 'sh', args: ['-c', 'echo one; echo two'], cwd: os.tmpdir(), log });
  log.close();
  assert.equal(outcome.exitCode, 0);
  assert.match(outcome.tail, /one\ntwo\n\[exit code 0; ran .*; the log file stopped: ENOSPC\]/);
});

test('a program that does not exist is a spawn error, not a crash', async () => {
  const log = tmpLog();
  const outcome = await runProcess({ file: 'sparky-no-such-program', args: [], cwd: os.tmpdir(), log });
  log.close();
  assert.equal(outcome.exitCode, undefined);
  assert.match(outcome.spawnError ?? '', /ENOENT/);
  const log2 = tmpLog();
  const nowhere = await runProcess({ file: 'true', args: [], cwd: '/nonexistent/sparky-dir', log: log2 });
  log2.close();
  assert.equal(nowhere.spawnError, 'the working directory /nonexistent/sparky-dir does not exist');
});

test('`when`: GPUs from CUDA_VISIBLE_DEVICES when nvidia-smi lists none; reasons name what is missing', async () => {
  assert.equal((await visibleGpus({ CUDA_VISIBLE_DEVICES: '0,1' })).count >= 2, true);
  const none = await visibleGpus({ CUDA_VISIBLE_DEVICES: '-1' });
  if (none.count === 0) {
    const verdict = await evaluateWhen({ gpu: true }, { CUDA_VISIBLE_DEVICES: '-1' });
    assert.equal(verdict.run, false);
    assert.match(verdict.run ? '' : verdict.reason, /^skipped: no NVIDIA GPU is visible on this worker \(.*CUDA_VISIBLE_DEVICES is "-1"\)$/);
  }
  const arch = process.arch === 'x64' ? 'arm64' : 'x64';
  const verdict = await evaluateWhen({ arch, env: 'HOME' }, { HOME: '/root' });
  assert.deepEqual(verdict, { run: false, reason: `skipped: the worker's architecture is ${process.arch}, the step needs ${arch}` });
  assert.deepEqual(await evaluateWhen({ platform: process.platform as 'linux', env: 'X' }, { X: '1' }), { run: true });
});

test('names: containers and projects are valid, stable per run and step, and differ between runs', () => {
  const a = stepInput({ id: 'Build.Image_1', kind: 'shell', run: ['true'] }, { runWorkflowId: 'sparky-DGX-pixels-42', workstreamId: 'WS-01' });
  const name = stepResourceName(a.ctx);
  assert.match(name, /^sparky-[0-9a-f]{10}-ws-01-build-image_1$/);
  assert.equal(stepResourceName({ ...a.ctx }), name);
  assert.notEqual(stepResourceName({ ...a.ctx, runWorkflowId: 'sparky-DGX-pixels-43' }), name);
  assert.ok(stepResourceName({ ...a.ctx, stepId: 'x'.repeat(300) }).length <= 120);
  assert.ok(!safeSegment('../../etc').includes('/') && !safeSegment('..').startsWith('.'));
  assert.equal(stepLogPath('/logs', { runWorkflowId: 'sparky-p-1', workstreamId: 'WS-01', stepId: 'build' }), '/logs/sparky-p-1/WS-01/build.log');
});

test('docker run argv: the pinned GPU, env by name only, bind mounts made absolute, named volumes kept', () => {
  const input = stepInput(
    { id: 'serve', kind: 'docker', action: 'run', image: 'img:1', network: 'none', volumes: ['./data:/data:ro', 'cache:/cache'], command: ['serve', '--port', '80'] },
    { gpu: { host: 'dgx1', index: 3 } },
  );
  const args = dockerRunArgs(input as never, 'c1', ['TOKEN', 'SPARKY_RUN_ID'], '/work/proj');
  assert.deepEqual(args.slice(0, 3), ['run', '--name', 'c1']);
  assert.ok(args.join(' ').includes('--gpus device=3'));
  assert.ok(args.join(' ').includes('-e TOKEN -e SPARKY_RUN_ID'));
  assert.ok(args.includes('/work/proj/data:/data:ro') && args.includes('cache:/cache'));
  assert.deepEqual(args.slice(-4), ['img:1', 'serve', '--port', '80']);
  assert.ok(!dockerRunArgs(stepInput({ id: 's', kind: 'docker', action: 'run', image: 'i' }) as never, 'c', [], '/').includes('--gpus'));
  assert.equal(resolveVolume('/abs:/x', '/w'), '/abs:/x');
});

test('createActivities outside a worker: results name the pinned queue; skipped steps too', async () => {
  const activities = createActivities({
    logDir: mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-')),
    pinned: { host: 'dgx1', index: 0, taskQueue: 'sparky-gpu-dgx1-0' },
  });
  const ran = await activities.runStep(stepInput({ id: 'echo', kind: 'shell', run: ['echo', '{"ok": 1}'], outputs: { from: 'stdout-json' } }));
  assert.deepEqual([ran.status, ran.taskQueue, ran.pinnedTaskQueue, ran.outputs], ['succeeded', 'local', 'sparky-gpu-dgx1-0', { ok: 1 }]);
  const small = createActivities({ logDir: mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-')), tailBytes: 100 });
  const chatty = await small.runStep(stepInput({ id: 'chatty', kind: 'shell', run: ['sh', '-c', 'seq 1 1000'] }));
  assert.ok(Buffer.byteLength(chatty.tail ?? '') <= 100, `tail of ${Buffer.byteLength(chatty.tail ?? '')} bytes`);
  assert.match(chatty.tail ?? '', /1000\n\[exit code 0/);
  const skipped = await activities.runStep(stepInput({ id: 'skip', kind: 'shell', run: ['false'], when: { env: 'SPARKY_TEST_NEVER_SET' } }));
  assert.deepEqual([skipped.status, skipped.pinnedTaskQueue], ['skipped', 'sparky-gpu-dgx1-0']);
});

test('comparisons and dotted paths; durations', () => {
  assert.deepEqual(dig({ a: { b: [{ c: 5 }] } }, 'a.b[0].c'), { found: true, value: 5 });
  assert.deepEqual(dig({ a: 1 }, 'a.b'), { found: false });
  assert.deepEqual(compare(5, { atLeast: 5, atMost: 6 }), { passed: true, why: '5 ≥ 5, ≤ 6' });
  assert.equal(compare('5', { atLeast: 1 }).passed, false);
  assert.equal(compare({ x: [1] }, { equals: { x: [1] } }).passed, true);
  assert.equal(durationMs('1h30m'), 5_400_000);
  assert.throws(() => durationMs('soon'), /not a duration/);
});

test('an inference step with a bad requestTimeout fails at once, not retried, instead of running without one', async () => {
  const run = createInferenceRunner({ logDir: mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-')) }, { endpoint: 'tcp://127.0.0.1:9' });
  await assert.rejects(run(stepInput({ id: 'i', kind: 'inference', op: 'echo', requestTimeout: 'soon' } as never)),
    (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable && err.type === 'StepInvalid' && /requestTimeout: not a duration: "soon"/.test(err.message));
});

test('the last output line reaches a failed command check even without a final newline; the closing line stands alone', async () => {
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-'));
  const log = tmpLog();
  const outcome = await runProcess({ file: 'sh', args: ['-c', 'printf "first\\nwhy it failed"; exit 1'], cwd: os.tmpdir(), log });
  log.close();
  assert.equal(outcome.lastOutputLine, 'why it failed');
  assert.match(outcome.tail, /why it failed\n\[exit code 1; ran /);
  const check = createGateCheckRunner({ logDir });
  const result = await check({ check: { id: 'c', kind: 'command', run: ['sh', '-c', 'printf "first\\nwhy it failed"; exit 1'] }, ctx: { runWorkflowId: 'sparky-u-1', planName: 'u', phaseId: 'p', gateId: 'g' }, outputs: {} });
  assert.equal(result.passed, false);
  assert.match(result.message, /exited 1: why it failed \(log: /);
  const quiet = await check({ check: { id: 'q', kind: 'command', run: ['false'] }, ctx: { runWorkflowId: 'sparky-u-1', planName: 'u', phaseId: 'p', gateId: 'g' }, outputs: {} });
  assert.match(quiet.message, /^`false` exited 1 \(log: /);
});

test('$SPARKY_RUN_DIR: the run\'s own directory, in the environment and in place of a leading $SPARKY_RUN_DIR only', async () => {
  const dir = '/logs/sparky-p-1';
  assert.deepEqual(expandRunDir({ run: ['cc', '-o', '$SPARKY_RUN_DIR/out/x', '${SPARKY_RUN_DIR}', 'a/$SPARKY_RUN_DIR', '$SPARKY_RUN_DIRX'], n: 3 }, dir),
    { run: ['cc', '-o', '/logs/sparky-p-1/out/x', '/logs/sparky-p-1', 'a/$SPARKY_RUN_DIR', '$SPARKY_RUN_DIRX'], n: 3 });
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-unit-'));
  const activities = createActivities({ logDir });
  const input = stepInput({ id: 'w', kind: 'shell', run: ['sh', '-c', 'echo "$SPARKY_RUN_DIR" > "$1"', 'sh', '$SPARKY_RUN_DIR/where.txt'] });
  const result = await activities.runStep(input);
  assert.equal(result.status, 'succeeded');
  const own = runDir(logDir, input.ctx.runWorkflowId);
  assert.equal(readFileSync(path.join(own, 'where.txt'), 'utf8').trim(), own);
  const check = await activities.runGateCheck({ check: { id: 'f', kind: 'file', path: '$SPARKY_RUN_DIR/where.txt' }, ctx: { runWorkflowId: input.ctx.runWorkflowId, planName: 'test', phaseId: 'p', gateId: 'g' }, outputs: {} });
  assert.equal(check.passed, true, check.message);
});
