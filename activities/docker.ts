// Docker steps through the real `docker` CLI: build, run, compose-up, compose-down, rm, rmi. Every
// CLI call streams into the step log. A container or compose project is named from the run and the
// step, so a retry replaces what a crashed attempt left instead of colliding with it.
import { ApplicationFailure } from '@temporalio/common';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { DockerStep } from '../plan/schema.ts';
import { attemptInfo } from './context.ts';
import { findCompose, probeDocker } from './docker-engine.ts';
import { stepLabels, stepResourceName } from './docker-names.ts';
import { shortTail, stepAttempt, stepAttemptHeader, StepLog, stepLogPath } from './logs.ts';
import { readOutputs } from './outputs.ts';
import { endEarlierAttempts } from './process-tree.ts';
import { DEFAULT_KILL_GRACE_MS, runProcess, type ProcessOutcome, type ProcessSpec } from './run-process.ts';
import type { RunnerDeps } from './runner-deps.ts';
import { resolveSecrets } from './secrets.ts';
import { processFailure, stepDeadlineMs } from './shell.ts';
import { stepEnv, stepLabel } from './step-env.ts';
import { count } from '../common/plural.ts';

type Input = StepActivityInput & { step: DockerStep };
type Run = (file: string, args: string[], extra?: Partial<ProcessSpec> & { ignoreDeadline?: boolean }) => Promise<ProcessOutcome>;
interface ActionResult { outcome?: ProcessOutcome; outputs?: Record<string, unknown>; details: Record<string, unknown> }

const invalid = (label: string, what: string) =>
  ApplicationFailure.nonRetryable(`${label}: ${what}`, 'DockerStepInvalid');

/** `./data:/data:ro` → absolute host path; a named volume (`cache:/cache`) stays as it is. */
export function resolveVolume(spec: string, cwd: string): string {
  const [host, ...rest] = spec.split(':');
  if (rest.length === 0 || !(host.startsWith('.') || host.includes('/'))) return spec;
  return [path.resolve(cwd, host), ...rest].join(':');
}

async function inspect(kind: 'container' | 'image', name: string, format: string): Promise<string | undefined> {
  const result = await execa('docker', [kind, 'inspect', '--format', format, name], { reject: false, timeout: 30_000, stdin: 'ignore' });
  return result.exitCode === 0 ? String(result.stdout).trim() : undefined;
}

/**
 * `docker rm -f`, tolerating a container that is not there (older engines exit 1 for that). As a
 * clean-up after cancellation or timeout it runs on its own clock, past the step's deadline.
 */
async function removeContainer(run: Run, name: string, cleanup = false): Promise<boolean> {
  const outcome = await run('docker', ['rm', '-f', name], { timeoutMs: 60_000, ignoreCancellation: cleanup, ignoreDeadline: cleanup });
  if (outcome.exitCode === 0) return !/No such container/i.test(outcome.tail);
  if (/No such container/i.test(outcome.tail)) return false;
  throw ApplicationFailure.create({ message: `docker rm -f ${name} failed (exit ${outcome.exitCode})\n${shortTail(outcome.tail)}`, type: 'DockerRemoveFailed' });
}

async function dockerLines(args: string[]): Promise<string[]> {
  const result = await execa('docker', args, { reject: false, timeout: 30_000, stdin: 'ignore' });
  return result.exitCode === 0 ? String(result.stdout).split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** A project's containers, and the compose files and working directory they were created from. */
async function composeLabels(project: string): Promise<{ ids: string[]; files: string[]; workdir?: string }> {
  const ids = await dockerLines(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
  if (ids.length === 0) return { ids, files: [] };
  const [json] = await dockerLines(['inspect', '--format', '{{json .Config.Labels}}', ids[0]]);
  const labels = JSON.parse(json ?? '{}') as Record<string, string>;
  const files = (labels['com.docker.compose.project.config_files'] ?? '').split(',').filter(Boolean);
  return { ids, files, workdir: labels['com.docker.compose.project.working_dir'] };
}

/**
 * An empty volume whose labels record which compose project (and files) a compose-up step brought up:
 * state kept by the engine itself, so a compensation on any worker using it finds the project even
 * when the plan named it explicitly.
 */
async function writeComposeMarker(name: string, ctx: Input['ctx'], record: { project: string; files: string[]; workdir: string }): Promise<void> {
  await execa('docker', ['volume', 'rm', '-f', name], { reject: false, timeout: 30_000 });
  // Best effort: the project is up either way; without the marker only an unnamed compensation suffers.
  await execa('docker', ['volume', 'create', ...stepLabels(ctx).flatMap((l) => ['--label', l]),
    '--label', `sparky.compose=${JSON.stringify(record)}`, name], { reject: false, timeout: 30_000 });
}

async function readComposeMarker(name: string): Promise<{ project: string; files: string[]; workdir: string } | undefined> {
  const [json] = await dockerLines(['volume', 'inspect', '--format', '{{index .Labels "sparky.compose"}}', name]);
  try { return json ? JSON.parse(json) : undefined; } catch { return undefined; }
}

async function removeProjectNetworks(project: string): Promise<number> {
  const networks = await dockerLines(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]);
  if (networks.length > 0) await execa('docker', ['network', 'rm', ...networks], { reject: false, timeout: 30_000 });
  return networks.length;
}

async function build(input: Input, run: Run, cwd: string, label: string): Promise<ActionResult> {
  const { step, ctx } = input;
  const tag = step.tag ?? `${stepResourceName(ctx)}:latest`;
  const context = path.resolve(cwd, step.context ?? '.');
  // Like compose, a Dockerfile is looked up in the context first, then relative to the step's cwd.
  const dockerfile = step.dockerfile === undefined ? undefined
    : existsSync(path.resolve(context, step.dockerfile)) ? path.resolve(context, step.dockerfile) : path.resolve(cwd, step.dockerfile);
  // --force-rm: a failed RUN leaves no intermediate container behind (the legacy builder keeps it).
  const args = ['build', '--force-rm', '-t', tag,
    ...(dockerfile ? ['-f', dockerfile] : []),
    ...Object.entries(step.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    ...stepLabels(ctx).flatMap((l) => ['--label', l]),
    context];
  const outcome = await run('docker', args);
  if (outcome.exitCode !== 0) {
    throw ApplicationFailure.create({
      message: `${label}: docker build of ${tag} failed (${outcome.timedOut ? 'timed out' : `exit ${outcome.exitCode ?? outcome.signal}`})\n--- end of the build log ---\n${shortTail(outcome.tail)}`,
      type: outcome.timedOut ? 'StepTimeout' : 'DockerBuildFailed',
      details: [{ exitCode: outcome.exitCode ?? null }],
    });
  }
  const imageId = await inspect('image', tag, '{{.Id}}');
  return { outcome, outputs: { image: tag, imageId }, details: { image: tag, imageId } };
}

/** `docker run` argv: names and labels from the run and step, env by name only, the pinned GPU. */
export function dockerRunArgs(input: Input, name: string, envNames: string[], cwd: string): string[] {
  const { step, ctx } = input;
  return ['run', '--name', name,
    ...stepLabels(ctx).flatMap((l) => ['--label', l]),
    ...(step.network ? ['--network', step.network] : []),
    ...(ctx.gpu ? ['--gpus', `device=${ctx.gpu.index}`] : []),
    // Values travel in the CLI's environment, not its argv: `ps` never shows a secret.
    ...envNames.flatMap((k) => ['-e', k]),
    ...(step.volumes ?? []).flatMap((v) => ['-v', resolveVolume(v, cwd)]),
    step.image!, ...(step.command ?? [])];
}

async function runContainer(input: Input, run: Run, cwd: string, label: string, env: Record<string, string>, logPath: string): Promise<ActionResult> {
  const { step, ctx } = input;
  if (!step.image) throw invalid(label, 'action run needs `image`');
  const name = stepResourceName(ctx);
  // A container of an earlier attempt (its worker crashed, or it timed out) is replaced, not reused.
  const replaced = await removeContainer(run, name);
  const args = dockerRunArgs(input, name, Object.keys(env), cwd);
  let outcome: ProcessOutcome;
  try {
    outcome = await run('docker', args, { env });
  } catch (error) {
    // Cancelled: ending the CLI does not end the container.
    await removeContainer(run, name, true).catch(() => undefined);
    throw error;
  }
  if (outcome.timedOut) await removeContainer(run, name, true).catch(() => undefined);
  if (outcome.exitCode === 125 && ctx.gpu && /could not select device driver/i.test(outcome.tail)) {
    // Retrying cannot help: this engine has no GPU runtime.
    throw ApplicationFailure.nonRetryable(
      `${label}: the Docker engine cannot give containers a GPU (--gpus device=${ctx.gpu.index}): install the NVIDIA Container Toolkit on ${ctx.gpu.host} and restart dockerd\n${shortTail(outcome.tail, 2048)}`,
      'DockerGpuUnavailable',
    );
  }
  if (outcome.exitCode !== 0) throw processFailure(`${label} (container ${name})`, outcome, logPath);
  const containerId = await inspect('container', name, '{{.Id}}');
  return { outcome, outputs: { container: name, containerId }, details: { container: name, containerId, image: step.image, replacedLeftover: replaced } };
}

async function compose(input: Input, run: Run, cwd: string, label: string, env: Record<string, string>, logPath: string): Promise<ActionResult> {
  const { step, ctx } = input;
  const command = await findCompose();
  if (!command) {
    throw ApplicationFailure.create({ message: `${label}: neither \`docker compose\` nor \`docker-compose\` is installed on this worker (apt-get install docker-compose)`, type: 'DockerComposeMissing' });
  }
  const marker = `${stepResourceName(ctx)}-compose`;
  // The compensation of a compose-up names neither project nor file: compose-up left a marker.
  const recorded = step.action === 'compose-down' && !step.project && !step.file ? await readComposeMarker(marker) : undefined;
  const project = step.project ?? recorded?.project ?? stepResourceName(ctx);
  let files = step.file ? [path.resolve(cwd, step.file)] : [];
  let workdir = cwd;
  if (files.length === 0 && step.action === 'compose-down') {
    // Compose labels every container with the files and directory it came from. No container left
    // means nothing is up; its networks may remain.
    const found = await composeLabels(project);
    if (found.files.length === 0) {
      // Nothing left, or containers of a compose too old to label its files: remove them by label.
      if (found.ids.length > 0) await run('docker', ['rm', '-f', ...found.ids], { timeoutMs: 120_000 });
      const removedNetworks = await removeProjectNetworks(project);
      await execa('docker', ['volume', 'rm', '-f', marker], { reject: false, timeout: 30_000 });
      return { outputs: { project }, details: { project, containers: 0, removedContainers: found.ids.length, removedNetworks } };
    }
    files = found.files;
    workdir = found.workdir ?? cwd;
  }
  const base = [...command.slice(1), ...files.flatMap((f) => ['-f', f]), '-p', project];
  const services = step.services ?? [];
  const args = step.action === 'compose-up' ? [...base, 'up', '-d', '--build', '--remove-orphans', ...services]
    : services.length > 0 ? [...base, 'rm', '--stop', '--force', ...services]
      : [...base, 'down', '--remove-orphans'];
  const outcome = await run(command[0], args, { env, cwd: workdir });
  if (outcome.exitCode !== 0) throw processFailure(`${label} (${command.join(' ')} ${step.action === 'compose-up' ? 'up' : 'down'}, project ${project})`, outcome, logPath);
  const containers = (await dockerLines(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).length;
  if (step.action === 'compose-up') await writeComposeMarker(marker, ctx, { project, files, workdir });
  else if (!step.services?.length) await execa('docker', ['volume', 'rm', '-f', marker], { reject: false, timeout: 30_000 });
  return { outcome, outputs: { project }, details: { project, compose: command.join(' '), containers } };
}

export function createDockerRunner(deps: RunnerDeps) {
  return async function runDocker(input: Input): Promise<StepResult> {
    const { step, ctx } = input;
    const { attempt, taskQueue, deadlineMs } = attemptInfo();
    const label = stepLabel(input);
    const secrets = resolveSecrets(step.secrets, process.env, label);
    const probe = await probeDocker();
    if (!probe.ok) {
      throw ApplicationFailure.create({
        message: `${label} needs a Docker engine: ${probe.reason}. Start one (e.g. \`dockerd --storage-driver=vfs --iptables=false --bridge=none &\`) or point DOCKER_HOST at one.`,
        type: 'DockerUnavailable',
      });
    }
    const cwd = path.resolve(deps.workdir ?? process.cwd(), step.cwd ?? '.');
    const env = stepEnv(input, stepAttempt(ctx, attempt), secrets.env);
    const timeout = stepDeadlineMs(step.timeout, deadlineMs);
    const deadline = timeout === undefined ? undefined : Date.now() + timeout;
    const logPath = stepLogPath(deps.logDir, ctx);
    const log = new StepLog(logPath);
    const started = Date.now();
    const run: Run = (file, args, extra) => {
      // All CLI calls of one attempt share the step's deadline.
      const { ignoreDeadline, ...spec } = extra ?? {};
      const remaining = deadline === undefined || ignoreDeadline ? undefined : Math.max(1, deadline - Date.now());
      const limits = [spec.timeoutMs, remaining].filter((n): n is number => n !== undefined);
      return runProcess({
        file, args, cwd, log, redact: secrets.redact, killGraceMs: deps.killGraceMs, tailBytes: deps.tailBytes,
        ...spec,
        // Every CLI call carries the key, so a later attempt can find and end this one's leftovers.
        env: { SPARKY_IDEMPOTENCY_KEY: ctx.idempotencyKey, ...spec.env },
        timeoutMs: limits.length > 0 ? Math.min(...limits) : undefined,
      });
    };
    let result: ActionResult;
    try {
      log.write(stepAttemptHeader(ctx, attempt, `docker ${step.action}${ctx.compensation ? ' (compensation)' : ''}`));
      // A CLI call of an attempt whose worker died (a build still streaming, say) is ended first.
      const leftovers = await endEarlierAttempts(ctx.idempotencyKey, deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      if (leftovers > 0) log.write(`[ended ${count(leftovers, 'process')} left running by an earlier attempt of this step]\n`);
      switch (step.action) {
        case 'build': result = await build(input, run, cwd, label); break;
        case 'run': result = await runContainer(input, run, cwd, label, env, logPath); break;
        case 'compose-up': case 'compose-down': result = await compose(input, run, cwd, label, env, logPath); break;
        case 'rm': {
          const container = step.container ?? stepResourceName(ctx);
          result = { details: { container, removed: await removeContainer(run, container) } };
          break;
        }
        case 'rmi': {
          // Without a tag (the compensation of a build), the images labelled with this run and step.
          const named = step.tag ?? step.image;
          const images = named ? [named] : [...new Set(await dockerLines(['images', '-q', ...stepLabels(ctx).flatMap((l) => ['--filter', `label=${l}`])]))];
          let removed = 0;
          for (const image of images) {
            const outcome = await run('docker', ['rmi', '-f', image], { timeoutMs: 120_000 });
            const missing = /No such image/i.test(outcome.tail);
            if (outcome.exitCode !== 0 && !missing) throw processFailure(`${label} (docker rmi ${image})`, outcome, logPath);
            if (!missing) removed += 1;
          }
          result = { details: { images, removed: removed > 0 } };
          break;
        }
      }
    } finally {
      log.close();
    }
    const declared = await readOutputs(step.outputs, cwd, result.outcome?.lastStdoutLine, secrets.redact);
    const outputs = result.outputs || declared ? { ...result.outputs, ...declared } : undefined;
    return {
      status: 'succeeded',
      outputs,
      logPath,
      tail: result.outcome?.tail,
      exitCode: result.outcome?.exitCode,
      durationMs: Date.now() - started,
      taskQueue,
      pinnedTaskQueue: deps.pinnedTaskQueue,
      details: { action: step.action, attempt, ...result.details },
    };
  };
}
