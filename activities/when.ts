// A step's `when`: conditions about the worker that would run it. Each false condition becomes a
// reason a person reads in the status (the step is recorded as skipped, not failed).
import { execa } from 'execa';
import type { When } from '../plan/schema.ts';
import { dockerHost, probeDocker } from './docker-engine.ts';
import { count } from '../common/plural.ts';

export type WhenVerdict = { run: true } | { run: false; reason: string };

/** GPUs this worker sees: `nvidia-smi -L` lines, else CUDA_VISIBLE_DEVICES naming devices. */
export async function visibleGpus(env: NodeJS.ProcessEnv = process.env): Promise<{ count: number; source: string }> {
  const smi = await execa('nvidia-smi', ['-L'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  const listed = smi.exitCode === 0 ? String(smi.stdout).split('\n').filter((l) => /^GPU \d+/.test(l)).length : 0;
  if (listed > 0) return { count: listed, source: 'nvidia-smi -L' };
  const cvd = env.CUDA_VISIBLE_DEVICES?.trim();
  // "", "-1" and "NoDevFiles" all mean "no device" to CUDA.
  const devices = cvd && cvd !== '-1' && cvd !== 'NoDevFiles' ? cvd.split(',').filter((d) => d.trim() !== '' && d.trim() !== '-1') : [];
  return { count: devices.length, source: devices.length > 0 ? 'CUDA_VISIBLE_DEVICES' : smi.exitCode === undefined ? 'nvidia-smi not installed' : 'nvidia-smi -L lists none' };
}

export async function evaluateWhen(when: When | undefined, env: NodeJS.ProcessEnv = process.env): Promise<WhenVerdict> {
  if (!when) return { run: true };
  const reasons: string[] = [];
  if (when.platform !== undefined && process.platform !== when.platform) {
    reasons.push(`the worker's platform is ${process.platform}, the step needs ${when.platform}`);
  }
  if (when.arch !== undefined && process.arch !== when.arch) {
    reasons.push(`the worker's architecture is ${process.arch}, the step needs ${when.arch}`);
  }
  if (when.env !== undefined && !(env[when.env] && env[when.env] !== '')) {
    reasons.push(`the environment variable ${when.env} is not set on this worker`);
  }
  if (when.docker !== undefined) {
    const probe = await probeDocker();
    if (when.docker && !probe.ok) reasons.push(probe.reason);
    if (!when.docker && probe.ok) reasons.push(`a Docker engine answers at ${dockerHost()} (the step runs only where none does)`);
  }
  if (when.gpu !== undefined) {
    const gpus = await visibleGpus(env);
    if (when.gpu && gpus.count === 0) reasons.push(`no NVIDIA GPU is visible on this worker (${gpus.source}; CUDA_VISIBLE_DEVICES is ${env.CUDA_VISIBLE_DEVICES === undefined ? 'unset' : JSON.stringify(env.CUDA_VISIBLE_DEVICES)})`);
    if (!when.gpu && gpus.count > 0) reasons.push(`${count(gpus.count, 'GPU')} ${gpus.count === 1 ? 'is' : 'are'} visible (${gpus.source}); the step runs only without one`);
  }
  return reasons.length === 0 ? { run: true } : { run: false, reason: `skipped: ${reasons.join('; ')}` };
}
