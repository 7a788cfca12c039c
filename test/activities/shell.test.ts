// Shell steps as real activities on a real worker against the real dev server: process trees end on
// cancellation and timeout, arguments stay literal, secrets stay out of history, exit codes map to
// retries, outputs come back, every attempt is logged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities/index.ts';
import { stepLogPath } from '../../activities/logs.ts';
import { createWorker, uniqueTaskQueue } from '../helpers/temporal.ts';
import { type RunnerHarness, alivePids, failureOf, spawnStepWorker, startRunnerHarness } from './harness.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

let h: RunnerHarness;
before(async () => { h = await startRunnerHarness(); });
after(async () => { await h?.stop(); });

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'sparky-shell-'));

// A tree that ignores SIGTERM at every level: the main shell, a child subshell, its grandchild, and a
// grandchild that left the session with setsid. Each writes its pid, then `ready` says all are up.
const stubbornTree = (dir: string) => ['sh', '-c', [
  'trap "" TERM',
  `echo $$ > ${dir}/main.pid`,
  `( trap "" TERM; sleep 300 & echo $! > ${dir}/grandchild.pid; wait ) &`,
  `echo $! > ${dir}/child.pid`,
  `setsid sh -c 'trap "" TERM; echo $$ > ${dir}/escaped.pid; exec sleep 300' &`,
  `while [ ! -s ${dir}/grandchild.pid ] || [ ! -s ${dir}/escaped.pid ]; do sleep 0.05; done`,
  `touch ${dir}/ready`,
  'wait',
].join('\n')];

/** All strings of an object tree, byte arrays decoded as UTF-8 (protobuf toJSON would base64 them). */
function textOf(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value === null || typeof value !== 'object') return String(value);
  return Object.values(value).map(textOf).join('\n');
}

const pidsIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(path.join(dir, f), 'utf8').trim()));

test('cancelling the workflow ends the whole process tree, SIGTERM-ignoring grandchildren included', async () => {
  const dir = tmp();
  const { workflowId, input } = await h.startStep({ id: 'stubborn', kind: 'shell', run: stubbornTree(dir) }, { heartbeatTimeout: '3s' });
  await waitFor('the tree to start', () => existsSync(path.join(dir, 'ready')));
  await sleep(1_200); // the runner learns the setsid'd orphan within a tick
  const pids = pidsIn(dir);
  assert.equal(pids.length, 4);
  assert.deepEqual(alivePids(pids), pids, 'all four processes run before the cancel');
  const handle = h.env.client.workflow.getHandle(workflowId);
  await handle.cancel();
  await assert.rejects(handle.result(), WorkflowFailedError);
  // The fixture waits for the activity to finish its cancellation, so nothing may be left now.
  assert.deepEqual(alivePids(pids), [], 'no process of the step survives its cancellation');
  const log = readFileSync(stepLogPath(h.logDir, input.ctx), 'utf8');
  assert.match(log, /^--- attempt 1 \d{4}-\d\d-\d\dT[\d:.]+Z ---/m);
  assert.match(log, /\[cancelled: process tree ended/);
});

test('a timeout ends the whole process tree and fails the step as StepTimeout', async () => {
  const dir = tmp();
  const started = Date.now();
  const failure = await failureOf(h.runStep({ id: 'slow', kind: 'shell', run: stubbornTree(dir), timeout: '2s' }, { heartbeatTimeout: '10s' }));
  assert.equal(failure.type, 'StepTimeout');
  assert.match(failure.message, /timed out after 2s \(its process tree was ended\)/);
  assert.ok(Date.now() - started < 15_000);
  const pids = pidsIn(dir);
  assert.ok(pids.length >= 3, `the tree had started: ${pids}`);
  assert.deepEqual(alivePids(pids), [], 'no process of the step survives its timeout');
});

test('a retry after the worker was SIGKILLed ends the processes the dead attempt left running', async () => {
  const dir = tmp();
  const activityQueue = uniqueTaskQueue('shell-activities');
  const doomed = await spawnStepWorker(h, activityQueue);
  // Attempt 1 starts a SIGTERM-ignoring tree and waits forever; attempt 2 just finishes.
  writeFileSync(path.join(dir, 'tree.sh'), stubbornTree(dir)[2]);
  const run = ['sh', '-c', `if [ "$SPARKY_ATTEMPT" = 1 ]; then sh ${dir}/tree.sh; fi; echo '{"done": true}'`];
  const { workflowId } = await h.startStep({ id: 'orphaned', kind: 'shell', run, outputs: { from: 'stdout-json' } },
    { heartbeatTimeout: '3s', maximumAttempts: 2, taskQueue: activityQueue });
  await waitFor('attempt 1 to start its tree', () => existsSync(path.join(dir, 'ready')));
  doomed.kill('SIGKILL');
  await new Promise((r) => doomed.once('exit', r));
  const pids = pidsIn(dir);
  assert.deepEqual(alivePids(pids), pids, 'killing the worker did not end the step\'s processes');
  const rescuer = await createWorker(h.env, { taskQueue: activityQueue, activities: createActivities({ logDir: h.logDir, killGraceMs: 500 }) });
  const result = await rescuer.runUntil(h.env.client.workflow.getHandle(workflowId).result());
  assert.deepEqual(result.outputs, { done: true });
  assert.ok(Number(result.details?.earlierAttemptProcessesEnded) >= 3, `ended ${result.details?.earlierAttemptProcessesEnded}`);
  assert.deepEqual(alivePids(pids), [], 'the retry ended every process of the dead attempt');
});

test('arguments reach the program as literal text: nothing is executed by a shell', async () => {
  const dir = tmp();
  mkdirSync(path.join(dir, 'x'));
  writeFileSync(path.join(dir, 'x', 'keep'), 'keep');
  const hostile = [`; rm -rf ${dir}/x`, `$(touch ${dir}/y)`, `\`touch ${dir}/z\``, '$HOME *', '"quoted" \'single\' | cat > /dev/null &'];
  const result = await h.runStep({
    id: 'literal', kind: 'shell', outputs: { from: 'stdout-json' },
    run: ['node', '-e', 'console.log(JSON.stringify({ args: process.argv.slice(1) }))', ...hostile],
  });
  assert.deepEqual(result.outputs, { args: hostile });
  assert.equal(result.viaShell, undefined);
  assert.ok(existsSync(path.join(dir, 'x', 'keep')), 'rm -rf did not run');
  assert.ok(!existsSync(path.join(dir, 'y')) && !existsSync(path.join(dir, 'z')), 'no command substitution ran');
});

test('shell: true runs through /bin/sh, says so, and passes the extra argv as literal positional arguments', async () => {
  const dir = tmp();
  const result = await h.runStep({
    id: 'via-shell', kind: 'shell', shell: true, outputs: { from: 'stdout-last-line' },
    run: ['echo "first line"; printf \'{"arg": "%s", "n": %d}\\n\' "$1" $#', `$(touch ${dir}/y)`],
  });
  assert.equal(result.viaShell, true);
  assert.deepEqual(result.outputs, { arg: `$(touch ${dir}/y)`, n: 1 });
  assert.ok(!existsSync(path.join(dir, 'y')));
});

test('a secret given by reference reaches the program but not the history, the tail or the log', async () => {
  const variable = `SPARKY_TEST_SECRET_${randomUUID().slice(0, 8).toUpperCase()}`;
  const value = `s3cr3t-${randomUUID()}`;
  process.env[variable] = value; // the worker runs in this process: this is the worker's environment
  try {
    const { workflowId } = await h.startStep({
      id: 'secret', kind: 'shell', secrets: { API_TOKEN: { fromEnv: variable } }, outputs: { from: 'stdout-json' },
      run: ['sh', '-c', 'echo "token is $API_TOKEN"; echo "$API_TOKEN" >&2; echo "{\\"length\\": ${#API_TOKEN}, \\"echo\\": \\"$API_TOKEN\\"}"'],
    }, { heartbeatTimeout: '5s' });
    const handle = h.env.client.workflow.getHandle(workflowId);
    const result = await handle.result();
    assert.equal(result.outputs?.length, value.length, 'the program saw the secret value');
    assert.equal(result.outputs?.echo, '***', 'outputs are redacted too');
    assert.match(result.tail ?? '', /token is \*\*\*/);
    const history = await handle.fetchHistory();
    // Every payload's bytes as text (JSON.stringify would give base64), so the search below means something…
    const decoded = textOf(history);
    assert.ok(decoded.includes('token is ***'), 'the history holds the redacted tail');
    assert.ok(decoded.includes(variable), 'the reference (the variable name) is what history holds');
    assert.ok(!decoded.includes(value), 'the secret value is absent from the history');
    // …and the exported history JSON as such (payloads in base64 there).
    assert.ok(!JSON.stringify(history).includes(value));
    assert.ok(!readFileSync(result.logPath!, 'utf8').includes(value), 'the step log is redacted');
    assert.ok(!(result.tail ?? '').includes(value));
  } finally {
    delete process.env[variable];
  }
});

test('a secret whose variable is missing fails at once, naming the variable', async () => {
  const failure = await failureOf(h.runStep(
    { id: 'no-secret', kind: 'shell', secrets: { TOKEN: { fromEnv: 'SPARKY_TEST_UNSET_VAR' } }, run: ['true'] },
    { maximumAttempts: 3 },
  ));
  assert.equal(failure.type, 'SecretMissing');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /SPARKY_TEST_UNSET_VAR, which is not set/);
});

test('a retryable exit code is retried (SPARKY_ATTEMPT counts), each attempt logged under its header', async () => {
  const result = await h.runStep({
    id: 'flaky', kind: 'shell', outputs: { from: 'stdout-json' },
    run: ['sh', '-c', 'echo "{\\"attempt\\": $SPARKY_ATTEMPT, \\"step\\": \\"$SPARKY_STEP_ID\\", \\"key\\": \\"$SPARKY_IDEMPOTENCY_KEY\\"}"; [ "$SPARKY_ATTEMPT" -ge 3 ]'],
  }, { maximumAttempts: 5 }, { workstreamId: 'train' });
  assert.equal(result.outputs?.attempt, 3);
  assert.equal(result.outputs?.step, 'train/flaky');
  assert.match(String(result.outputs?.key), /^sparky-test-\w+\/train\/flaky$/);
  const log = readFileSync(result.logPath!, 'utf8');
  assert.deepEqual([...log.matchAll(/^--- attempt (\d+) /gm)].map((m) => Number(m[1])), [1, 2, 3]);
  assert.equal([...log.matchAll(/\[exit code 1;/g)].length, 2);
  assert.match(result.logPath!, /\/train\/flaky\.log$/);
});

test('an exit code in nonRetryableExitCodes stops the retries; the error carries the code and the tail', async () => {
  const dir = tmp();
  const failure = await failureOf(h.runStep({
    id: 'fatal', kind: 'shell', nonRetryableExitCodes: [42],
    run: ['sh', '-c', `echo run >> ${dir}/runs; echo "disk on fire" >&2; exit 42`],
  }, { maximumAttempts: 5 }));
  assert.equal(failure.type, 'StepExitNonRetryable');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /exited with code 42/);
  assert.match(failure.message, /disk on fire/);
  assert.equal(readFileSync(path.join(dir, 'runs'), 'utf8'), 'run\n', 'ran once');

  const retried = await failureOf(h.runStep({
    id: 'retried', kind: 'shell', nonRetryableExitCodes: [42],
    run: ['sh', '-c', `echo run >> ${dir}/retried; exit 3`],
  }, { maximumAttempts: 2 }));
  assert.equal(retried.type, 'StepExitCode');
  assert.equal(readFileSync(path.join(dir, 'retried'), 'utf8'), 'run\nrun\n', 'exit 3 is retried');
});

test('outputs come from a JSON file (relative to cwd) and from the last line of stdout', async () => {
  const dir = tmp();
  const fromFile = await h.runStep({
    id: 'json-file', kind: 'shell', cwd: dir, outputs: { from: 'json-file', file: 'out/metrics.json' },
    run: ['sh', '-c', 'mkdir -p out && echo \'{"accuracy": 0.93, "model": "m1"}\' > out/metrics.json'],
  });
  assert.deepEqual(fromFile.outputs, { accuracy: 0.93, model: 'm1' });
  const fromStdout = await h.runStep({
    id: 'stdout', kind: 'shell', outputs: { from: 'stdout-last-line' },
    run: ['sh', '-c', 'echo progress 1; echo \'{"done": true}\'; echo; echo "noise" >&2'],
  });
  assert.deepEqual(fromStdout.outputs, { done: true });
  const bad = await failureOf(h.runStep({ id: 'bad-json', kind: 'shell', outputs: { from: 'stdout-json' }, run: ['echo', 'not json'] }, { maximumAttempts: 3 }));
  assert.equal(bad.type, 'StepOutputsInvalid');
  assert.match(bad.message, /not valid JSON/);
});

test('results carry the task queue, a bounded tail and the log path; the tail keeps the last 64 KiB', async () => {
  const result = await h.runStep({
    id: 'chatty', kind: 'shell', env: { WHO: 'sparky' },
    run: ['node', '-e', 'for (let i = 0; i < 5000; i++) console.log(`line ${i} ${"x".repeat(40)}`); console.log(`bye ${process.env.WHO}`)'],
  });
  assert.equal(result.taskQueue, h.taskQueue);
  assert.ok(Buffer.byteLength(result.tail ?? '') <= 64 * 1024);
  assert.match(result.tail ?? '', /bye sparky\n\[exit code 0;/);
  assert.doesNotMatch(result.tail ?? '', /line 0 /);
  assert.equal(result.details?.lines, 5001);
  assert.match(readFileSync(result.logPath!, 'utf8'), /line 0 x/);
});

test('heartbeats carry progress (lines, bytes, elapsed) and keep a silent step alive past its heartbeat timeout', async () => {
  const { workflowId } = await h.startStep({
    id: 'progress', kind: 'shell',
    run: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo "step $i"; sleep 0.5; done; sleep 2'],
  }, { heartbeatTimeout: '2s' });
  const handle = h.env.client.workflow.getHandle(workflowId);
  const details = await waitFor('a heartbeat with progress', async () => {
    const pending = (await handle.describe()).raw.pendingActivities?.[0];
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    if (!payload?.data) return undefined;
    const progress = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { lines: number; bytes: number; elapsedMs: number };
    return progress.lines >= 2 ? progress : undefined;
  }, 10_000);
  assert.ok(details.bytes >= details.lines * 7 && details.elapsedMs > 0, JSON.stringify(details));
  const result = await handle.result(); // 6s in all, 2s of them silent, with a 2s heartbeat timeout
  assert.equal(result.status, 'succeeded');
  assert.equal(result.details?.lines, 8);
});

test('a step whose `when` is false is skipped with a reason a person reads', async () => {
  const result = await h.runStep({ id: 'gated', kind: 'shell', when: { env: 'SPARKY_TEST_NEVER_SET', platform: 'linux' }, run: ['false'] });
  assert.equal(result.status, 'skipped');
  assert.equal(result.skippedReason, 'skipped: the environment variable SPARKY_TEST_NEVER_SET is not set on this worker');
  const other = await h.runStep({ id: 'mac-only', kind: 'shell', when: { platform: 'darwin' }, run: ['false'] });
  assert.match(other.skippedReason ?? '', /platform is linux, the step needs darwin/);
});

test('an inference step on a worker without an inference server fails at once with a clear message', async () => {
  const failure = await failureOf(h.runStep({ id: 'infer', kind: 'inference', op: 'gemm' }, { maximumAttempts: 3 }));
  assert.equal(failure.type, 'InferenceUnavailable');
  assert.equal(failure.nonRetryable, true);
  assert.match(failure.message, /no inference server configured/);
});
