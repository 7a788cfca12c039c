// Docker steps against a real engine (started by test/helpers/docker.ts where it is not running):
// images are built FROM scratch with busybox, nothing is pulled. Without an engine every test here
// skips and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../activities/index.ts';
import { stepResourceName } from '../../activities/docker-names.ts';
import { dockerForTests } from '../helpers/docker.ts';
import { createWorker, uniqueTaskQueue } from '../helpers/temporal.ts';
import { type RunnerHarness, failureOf, spawnStepWorker, startRunnerHarness, stepInput } from './harness.ts';
import { waitFor } from '../helpers/wait.ts';

let h: RunnerHarness;
let docker: Awaited<ReturnType<typeof dockerForTests>>;
before(async () => {
  docker = await dockerForTests();
  if (docker.ok) h = await startRunnerHarness();
});
after(async () => { await h?.stop(); });

const needsDocker = (t: { skip(message: string): void }) => {
  if (docker.ok) return false;
  t.skip(`no Docker engine: ${docker.reason}`);
  return true;
};

const containersOf = async (label: string) =>
  String((await execa('docker', ['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}} {{.State}}'])).stdout).split('\n').filter(Boolean);

function contextDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-docker-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('build a real image with build args, then run a container from it with env, network none and outputs', async (t) => {
  if (needsDocker(t)) return;
  const dir = contextDir({ 'app/Dockerfile': 'FROM sparky-busybox:latest\nARG GREETING\nRUN echo "$GREETING" > /greeting\nCMD ["cat", "/greeting"]\n' });
  const tag = `sparky-test-app:${Date.now()}`;
  const buildDef = { id: 'build', kind: 'docker' as const, action: 'build' as const, cwd: dir, context: 'app', tag, buildArgs: { GREETING: 'hello from the build' } };
  const buildCtx = stepInput(buildDef).ctx;
  const built = await h.runStep(buildDef, {}, buildCtx);
  assert.equal(built.outputs?.image, tag);
  assert.match(String(built.outputs?.imageId), /^sha256:[0-9a-f]{64}$/);
  const label = String((await execa('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "sparky.step"}}', tag])).stdout);
  assert.equal(label, 'ws/build');

  const runDef = {
    id: 'run', kind: 'docker' as const, action: 'run' as const, image: tag, network: 'none', env: { FOO: 'bar' }, outputs: { from: 'stdout-json' as const },
    command: ['sh', '-c', 'cat /greeting; echo "{\\"foo\\": \\"$FOO\\", \\"attempt\\": $SPARKY_ATTEMPT}"'],
  };
  const { ctx } = stepInput(runDef);
  const run = await h.runStep(runDef, {}, ctx);
  assert.equal(run.outputs?.foo, 'bar');
  assert.equal(run.outputs?.attempt, 1);
  assert.match(run.tail ?? '', /hello from the build/);
  assert.match(String(run.details?.containerId), /^[0-9a-f]{64}$/);
  const name = stepResourceName(ctx);
  assert.equal(run.outputs?.container, name);
  assert.deepEqual(await containersOf(`sparky.run=${ctx.runWorkflowId}`), [`${name} exited`]);

  // rm (by default the container this run's step made) and rmi are idempotent.
  const rmDef = { id: 'run', kind: 'docker' as const, action: 'rm' as const };
  assert.equal((await h.runStep(rmDef, {}, { ...ctx, compensation: true })).details?.removed, true);
  assert.equal((await h.runStep(rmDef, {}, { ...ctx, compensation: true })).details?.removed, false);
  assert.deepEqual(await containersOf(`sparky.run=${ctx.runWorkflowId}`), []);
  // The compensation of the build names no tag: the image is found by its run and step labels.
  const rmi = await h.runStep({ id: 'drop-image', kind: 'docker', action: 'rmi' }, {}, { ...buildCtx, compensation: true });
  assert.equal(rmi.details?.removed, true);
  assert.equal((await execa('docker', ['image', 'inspect', tag], { reject: false })).exitCode, 1, 'the image is gone');
  const again = await h.runStep({ id: 'drop-image', kind: 'docker', action: 'rmi', tag });
  assert.equal(again.details?.removed, false);
});

test('a failed build fails the step with the tail of the build log in the error', async (t) => {
  if (needsDocker(t)) return;
  const dir = contextDir({ Dockerfile: 'FROM sparky-busybox:latest\nRUN echo "compiler says: missing semicolon" && exit 7\n' });
  const failure = await failureOf(h.runStep({ id: 'bad-build', kind: 'docker', action: 'build', context: dir }, { maximumAttempts: 1 }));
  assert.equal(failure.type, 'DockerBuildFailed');
  assert.match(failure.message, /docker build of sparky-\w+-ws-bad-build:latest failed/);
  assert.match(failure.message, /compiler says: missing semicolon/);
});

test('killing the worker after `docker run` started: the retry on a new worker replaces the container, exactly one is left', async (t) => {
  if (needsDocker(t)) return;
  const activityQueue = uniqueTaskQueue('docker-activities');
  const doomed = await spawnStepWorker(h, activityQueue);
  const step = {
    id: 'serve', kind: 'docker' as const, action: 'run' as const, image: 'sparky-busybox:latest', network: 'none', outputs: { from: 'stdout-json' as const },
    // The first attempt would run for a minute: it is still running when the retry starts.
    command: ['sh', '-c', 'if [ "$SPARKY_ATTEMPT" = 1 ]; then sleep 60; fi; echo "{\\"attempt\\": $SPARKY_ATTEMPT}"'],
  };
  const { workflowId, input } = await h.startStep(step, { heartbeatTimeout: '3s', maximumAttempts: 3, taskQueue: activityQueue });
  const name = stepResourceName(input.ctx);
  await waitFor('the container of attempt 1 to run', async () => (await containersOf(`sparky.run=${input.ctx.runWorkflowId}`)).some((c) => c === `${name} running`), 30_000);
  doomed.kill('SIGKILL');
  await new Promise((r) => doomed.once('exit', r));
  // A new worker takes the retry once the heartbeat timeout has declared attempt 1 lost.
  const rescuer = await createWorker(h.env, { taskQueue: activityQueue, activities: createActivities({ logDir: h.logDir, killGraceMs: 1_000 }) });
  const result = await rescuer.runUntil(h.env.client.workflow.getHandle(workflowId).result());
  assert.equal(result.outputs?.attempt, 2);
  assert.equal(result.details?.replacedLeftover, true, 'attempt 2 found the running container of attempt 1 and replaced it');
  assert.deepEqual(await containersOf(`sparky.run=${input.ctx.runWorkflowId}`), [`${name} exited`], 'exactly one container of the step');
  await execa('docker', ['rm', '-f', name]);
});

test('cancelling a running container step removes the container; `when: {docker: true}` lets it run', async (t) => {
  if (needsDocker(t)) return;
  const step = {
    id: 'long', kind: 'docker' as const, action: 'run' as const, image: 'sparky-busybox:latest', network: 'none',
    when: { docker: true }, command: ['sleep', '300'],
  };
  const { workflowId, input } = await h.startStep(step, { heartbeatTimeout: '3s' });
  const name = stepResourceName(input.ctx);
  await waitFor('the container to run', async () => (await containersOf(`sparky.run=${input.ctx.runWorkflowId}`)).includes(`${name} running`), 30_000);
  const handle = h.env.client.workflow.getHandle(workflowId);
  await handle.cancel();
  await assert.rejects(handle.result(), WorkflowFailedError);
  assert.deepEqual(await containersOf(`sparky.run=${input.ctx.runWorkflowId}`), [], 'no container of the cancelled step is left');
});

test('a container step past its timeout fails as StepTimeout and leaves no container', async (t) => {
  if (needsDocker(t)) return;
  const step = { id: 'stuck', kind: 'docker' as const, action: 'run' as const, image: 'sparky-busybox:latest', network: 'none', timeout: '3s', command: ['sleep', '300'] };
  const { ctx } = stepInput(step);
  const failure = await failureOf(h.runStep(step, {}, ctx));
  assert.equal(failure.type, 'StepTimeout');
  assert.deepEqual(await containersOf(`sparky.run=${ctx.runWorkflowId}`), []);
});

test('compose up and down on services built from local Dockerfiles', async (t) => {
  if (needsDocker(t)) return;
  const service = (n: string) => `FROM sparky-busybox:latest\nRUN echo ${n} > /name\nCMD ["sh", "-c", "trap 'exit 0' TERM; cat /name; sleep 300 & wait"]\n`;
  const dir = contextDir({
    'alpha/Dockerfile': service('alpha'),
    'beta/Dockerfile': service('beta'),
    'compose.yml': 'version: "3.8"\nservices:\n  alpha:\n    build: ./alpha\n    network_mode: none\n  beta:\n    build: ./beta\n    network_mode: none\n',
  });
  const step = { id: 'deploy', kind: 'docker' as const, action: 'compose-up' as const, cwd: dir, file: 'compose.yml' };
  const input = stepInput(step);
  const up = await h.runStep(step, { startToCloseTimeout: '5m' }, input.ctx);
  const project = stepResourceName(input.ctx);
  assert.equal(up.outputs?.project, project);
  assert.equal(up.details?.containers, 2);
  const running = await containersOf(`com.docker.compose.project=${project}`);
  assert.deepEqual(running.map((c) => c.split(' ')[1]), ['running', 'running']);
  // Up again (a retry) is idempotent: still the same two containers.
  const again = await h.runStep(step, { startToCloseTimeout: '5m' }, input.ctx);
  assert.equal(again.details?.containers, 2);
  // The compensation of the same step names nothing: it finds the project and its file itself.
  const down = await h.runStep({ id: 'down', kind: 'docker', action: 'compose-down' }, { startToCloseTimeout: '5m' }, { ...input.ctx, compensation: true });
  assert.equal(down.details?.project, project);
  assert.deepEqual(await containersOf(`com.docker.compose.project=${project}`), []);
  const images = String((await execa('docker', ['images', '-q', '--filter', `reference=${project}*`])).stdout).split('\n').filter(Boolean);
  if (images.length > 0) await execa('docker', ['rmi', '-f', ...images]);
});

test('a compose project the plan named explicitly is found again by the compensation that names nothing', async (t) => {
  if (needsDocker(t)) return;
  const dir = contextDir({
    'compose.yml': 'version: "3.8"\nservices:\n  web:\n    image: sparky-busybox:latest\n    command: ["sh", "-c", "trap \'exit 0\' TERM; sleep 300 & wait"]\n    network_mode: none\n',
  });
  const project = `sparky-test-${Date.now()}`;
  const step = { id: 'up', kind: 'docker' as const, action: 'compose-up' as const, cwd: dir, file: 'compose.yml', project };
  const { ctx } = stepInput(step);
  await h.runStep(step, { startToCloseTimeout: '5m' }, ctx);
  assert.equal((await containersOf(`com.docker.compose.project=${project}`)).length, 1);
  const down = await h.runStep({ id: 'down', kind: 'docker', action: 'compose-down' }, { startToCloseTimeout: '5m' }, { ...ctx, compensation: true });
  assert.equal(down.details?.project, project);
  assert.deepEqual(await containersOf(`com.docker.compose.project=${project}`), []);
  // Downing again finds nothing to do, and says so.
  const twice = await h.runStep({ id: 'down', kind: 'docker', action: 'compose-down', project }, {}, { ...ctx, compensation: true });
  assert.equal(twice.details?.containers, 0);
});

test('with no engine at DOCKER_HOST a docker step fails retryably, naming DOCKER_HOST and dockerd', async () => {
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = 'unix:///tmp/sparky-no-engine-here.sock';
  try {
    const activities = createActivities({ logDir: mkdtempSync(path.join(os.tmpdir(), 'sparky-logs-')) });
    const error = await activities.runStep(stepInput({ id: 'b', kind: 'docker', action: 'build', context: '.' })).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'DockerUnavailable');
    assert.equal(error.nonRetryable, false);
    assert.match(error.message, /no Docker engine answers at unix:\/\/\/tmp\/sparky-no-engine-here\.sock/);
    assert.match(error.message, /DOCKER_HOST/);
    assert.match(error.message, /dockerd/);
    const skipped = await activities.runStep(stepInput({ id: 'c', kind: 'shell', run: ['true'], when: { docker: true } }));
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.skippedReason ?? '', /^skipped: no Docker engine answers at unix:\/\/\/tmp\/sparky-no-engine-here\.sock \(set DOCKER_HOST or start dockerd\)$/);
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST; else process.env.DOCKER_HOST = saved;
  }
});
