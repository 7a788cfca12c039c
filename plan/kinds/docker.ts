// Step kind `docker`: a docker CLI action (build, run, compose-up/down, rm, rmi). Runner: activities/docker.ts.
import { z } from 'zod';
import { Outputs, StepCommon } from '../step-base.ts';
import { defineStepKind, type Obj } from './kind.ts';

export const DockerStep = z.strictObject({
  ...StepCommon,
  kind: z.literal('docker'),
  action: z.enum(['build', 'run', 'compose-up', 'compose-down', 'rm', 'rmi']),
  context: z.string().optional(),          // build
  dockerfile: z.string().optional(),       // build
  tag: z.string().optional(),              // build (image tag), rmi
  buildArgs: z.record(z.string(), z.string()).optional(),
  image: z.string().optional(),            // run
  command: z.array(z.string()).optional(), // run
  volumes: z.array(z.string()).optional(), // run: host:container[:ro]
  network: z.string().optional(),          // run
  file: z.string().optional(),             // compose
  project: z.string().optional(),          // compose project name (default: from run + step)
  services: z.array(z.string()).optional(),
  container: z.string().optional(),        // rm (default: the container this run's step created)
  cwd: z.string().optional(),
  outputs: Outputs.optional(),
});
export type DockerStep = z.infer<typeof DockerStep>;

/** Host side of a bind mount (`./data:/data`); named volumes (`cache:/cache`) stay as they are. */
function resolveVolume(spec: string, base: string, joinUnder: (p: string) => string): string {
  const colon = spec.indexOf(':');
  const host = colon < 0 ? spec : spec.slice(0, colon);
  if (!(host === '.' || host === '..' || host.startsWith('./') || host.startsWith('../'))) return spec;
  return joinUnder(host) + (colon < 0 ? '' : spec.slice(colon));
}

export const dockerKind = defineStepKind<DockerStep>({
  kind: 'docker',
  schema: DockerStep,
  json: { id: 'DockerStep', description: 'A docker CLI action: build, run, compose-up, compose-down, rm, rmi.' },
  docs: 'plan-reference.md#docker',
  rules(st, at, { compensated }, err) {
    // Actions that name nothing to act on (and where nothing can be inferred) are mistakes.
    const undoes = (action: string) => (compensated as Obj | undefined)?.kind === 'docker' && compensated?.action === action;
    const where = compensated ? ' (it can only be inferred when compensating a docker ' : '';
    switch (st.action) {
      case 'rm':
        if (st.container === undefined && !undoes('run')) err(at, `docker rm needs "container"${compensated ? `${where}run step)` : ''}`);
        break;
      case 'rmi':
        if (st.tag === undefined && st.image === undefined && !undoes('build')) err(at, `docker rmi needs "tag"${compensated ? `${where}build step)` : ''}`);
        break;
      case 'compose-down':
        if (st.file === undefined && st.project === undefined && !undoes('compose-up')) err(at, `docker compose-down needs "file" or "project"${compensated ? `${where}compose-up step)` : ''}`);
        break;
      case 'run':
        if (st.image === undefined) err(at, 'docker run needs "image"');
        break;
      case 'compose-up':
        if (st.file === undefined) err(at, 'docker compose-up needs "file"');
        break;
    }
  },
  resolvePaths(step, base, under) {
    const cwd = under(base, step.cwd) ?? base;
    return {
      ...step, cwd,
      ...(step.context !== undefined && { context: under(cwd, step.context) }),
      ...(step.dockerfile !== undefined && { dockerfile: under(cwd, step.dockerfile) }),
      ...(step.file !== undefined && { file: under(cwd, step.file) }),
      ...(step.volumes !== undefined && { volumes: step.volumes.map((v) => resolveVolume(v, cwd, (p) => under(cwd, p)!)) }),
    };
  },
  inWorktree: (step, mv) => ({
    ...step,
    ...(step.cwd !== undefined && { cwd: mv(step.cwd) }),
    ...(step.context !== undefined && { context: mv(step.context) }),
    ...(step.dockerfile !== undefined && { dockerfile: mv(step.dockerfile) }),
    ...(step.file !== undefined && { file: mv(step.file) }),
    ...(step.volumes !== undefined && { volumes: step.volumes.map((v) => { const i = v.indexOf(':'); return i < 0 ? mv(v) : mv(v.slice(0, i)) + v.slice(i); }) }),
  }),
  workPaths: (step) => ({
    field: 'cwd', where: 'runs in',
    paths: [step.cwd, step.context, step.dockerfile, step.file, ...(step.volumes ?? []).map((v) => v.split(':')[0]).filter((h) => h.startsWith('/') || h.startsWith('.'))]
      .filter((p, i) => i === 0 || p !== undefined),
  }),
});
