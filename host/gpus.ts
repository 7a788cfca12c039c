// GPU discovery: `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`,
// or configuration (SPARKY_GPUS) so a machine can use a subset of its GPUs, and so tests can fake two
// "GPUs" that are really two CPU-backed inference servers.
import { execFile } from 'node:child_process';
import os from 'node:os';

export interface GpuInfo {
  index: number;
  uuid?: string;
  name: string;
  memoryMiB?: number;
  /** Named by SPARKY_GPUS rather than seen by nvidia-smi. */
  configured?: boolean;
}

/** Parses `index, uuid, name, memory.total` CSV lines (with or without units such as "81559 MiB"). */
export function parseNvidiaSmi(csv: string): GpuInfo[] {
  return csv.split('\n').map((line) => line.trim()).filter(Boolean).flatMap((line) => {
    const [index, uuid, name, memory] = line.split(',').map((s) => s.trim());
    const n = Number(index);
    if (!Number.isInteger(n) || n < 0) return [];
    const mib = Number.parseFloat(memory ?? '');
    return [{ index: n, uuid: uuid || undefined, name: name || `GPU ${n}`, memoryMiB: Number.isFinite(mib) ? mib : undefined }];
  });
}

/**
 * SPARKY_GPUS: unset → ask nvidia-smi; `none` or empty → no GPU; `0,1` → those indexes; a JSON list of
 * indexes or of `{index, name?, uuid?, memoryMiB?}` objects.
 */
export function parseGpuConfig(value: string): GpuInfo[] {
  const text = value.trim();
  if (text === '' || text.toLowerCase() === 'none') return [];
  const items: unknown[] = text.startsWith('[') ? JSON.parse(text) as unknown[] : text.split(',').map((s) => Number(s.trim()));
  return items.map((item) => {
    const obj = (typeof item === 'number' ? { index: item } : item) as Partial<GpuInfo>;
    if (!Number.isInteger(obj.index) || (obj.index as number) < 0) {
      throw new Error(`SPARKY_GPUS: ${JSON.stringify(item)} is not a GPU index (expected e.g. "0,1" or [{"index":0}])`);
    }
    return { name: `GPU ${obj.index}`, ...obj, index: obj.index as number, configured: true };
  });
}

function runNvidiaSmi(): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=index,uuid,name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 10_000 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

/** The GPUs this machine's workers should use ([] when there are none: the pool falls back to the CPU). */
export async function discoverGpus(env: NodeJS.ProcessEnv = process.env): Promise<GpuInfo[]> {
  if (env.SPARKY_GPUS !== undefined) return parseGpuConfig(env.SPARKY_GPUS);
  const out = await runNvidiaSmi();
  return out ? parseNvidiaSmi(out) : [];
}

/** This host's name in pinned task queues: SPARKY_HOST, or os.hostname() made safe for a queue name. */
export function hostName(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.SPARKY_HOST ?? os.hostname();
  return raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'localhost';
}
