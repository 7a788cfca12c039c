// Is there a Docker engine, and which compose command does this machine have? Both are asked of the
// real `docker` CLI, which honours DOCKER_HOST (and contexts) exactly as a person's shell would.
import { execa } from 'execa';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

export function dockerHost(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST && env.DOCKER_HOST.length > 0 ? env.DOCKER_HOST : DEFAULT_DOCKER_HOST;
}

export type DockerProbe = { ok: true; serverVersion: string; host: string } | { ok: false; reason: string; host: string };

/**
 * `docker info` within `timeoutMs`: the engine answers, or a reason a person can act on. The default is
 * generous: on a loaded host `docker info` can take seconds, and a step's `when: { docker: true }` must not
 * read a slow engine as none (the step would be skipped, and a later run would find no cache entry for it).
 */
export async function probeDocker(timeoutMs = 20_000): Promise<DockerProbe> {
  const host = dockerHost();
  const result = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  const version = String(result.stdout ?? '').trim();
  if (result.exitCode === 0 && version.length > 0 && !version.includes('<no value>')) return { ok: true, serverVersion: version, host };
  if (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message ?? ''))) {
    return { ok: false, host, reason: 'the docker CLI is not installed on this worker (apt-get install docker.io)' };
  }
  const why = result.timedOut ? `no answer within ${timeoutMs / 1000}s; ` : '';
  return { ok: false, host, reason: `no Docker engine answers at ${host} (${why}set DOCKER_HOST or start dockerd)` };
}

let composeCommand: Promise<string[] | undefined> | undefined;

/** `docker compose` (v2 plugin) if it exists, else `docker-compose` (v1), else undefined. */
export function findCompose(): Promise<string[] | undefined> {
  composeCommand ??= (async () => {
    const v2 = await execa('docker', ['compose', 'version'], { reject: false, timeout: 10_000, stdin: 'ignore' });
    if (v2.exitCode === 0) return ['docker', 'compose'];
    const v1 = await execa('docker-compose', ['version'], { reject: false, timeout: 10_000, stdin: 'ignore' });
    if (v1.exitCode === 0) return ['docker-compose'];
    return undefined;
  })();
  return composeCommand;
}
