// Which task queue a step goes to, from its `pool`: `cpu` → the CPU queue (`sparky`), `gpu` → any GPU
// worker (`sparky-gpu`), a pool name declared in the plan's `pools` or a literal `gpu:<host>:<index>`
// → that one GPU's pinned queue (`sparky-gpu-<host>-<index>`).
import { CPU_TASK_QUEUE, GPU_POOL_TASK_QUEUE, pinnedGpuTaskQueue } from '../common/task-queues.ts';
import type { Plan } from '../plan/schema.ts';

export interface QueueTarget {
  taskQueue: string;
  /** Set for a pinned GPU, so the activity knows which device it owns. */
  gpu?: { host: string; index: number };
  /** True for the shared GPU pool (where `stickyGpu` may redirect later steps). */
  gpuPool?: boolean;
}

export function resolvePool(pool: string | undefined, plan: Pick<Plan, 'pools'>, cpuTaskQueue = CPU_TASK_QUEUE): QueueTarget {
  const name = pool ?? 'cpu';
  if (name === 'cpu') return { taskQueue: cpuTaskQueue };
  if (name === 'gpu') return { taskQueue: GPU_POOL_TASK_QUEUE, gpuPool: true };
  const declared = plan.pools?.[name];
  if (declared) return { taskQueue: pinnedGpuTaskQueue(declared.host, declared.gpu), gpu: { host: declared.host, index: declared.gpu } };
  const literal = /^gpu:([A-Za-z0-9._-]+):(\d+)$/.exec(name);
  if (literal) return { taskQueue: pinnedGpuTaskQueue(literal[1], literal[2]), gpu: { host: literal[1], index: Number(literal[2]) } };
  throw new Error(`unknown pool "${name}": use cpu, gpu, a name declared in the plan's pools, or gpu:<host>:<index>`);
}

/** The pinned GPU behind a pinned queue name (`sparky-gpu-<host>-<n>`), for `stickyGpu`. */
export function gpuOfPinnedQueue(queue: string): { host: string; index: number } | undefined {
  const m = /^sparky-gpu-(.+)-(\d+)$/.exec(queue);
  return m ? { host: m[1], index: Number(m[2]) } : undefined;
}
