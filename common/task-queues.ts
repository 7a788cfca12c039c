// Task-queue names are a contract (docs/orchestration.md "Steps", docs/plan-reference.md "Pools"):
// workers, workflows and operators all use them.
export const CPU_TASK_QUEUE = 'sparky';
export const GPU_POOL_TASK_QUEUE = 'sparky-gpu';

/** Task queue of one pinned GPU: `sparky-gpu-<host>-<gpuIndex>`. */
export function pinnedGpuTaskQueue(host: string, gpuIndex: number | string): string {
  return `${GPU_POOL_TASK_QUEUE}-${host}-${gpuIndex}`;
}

/**
 * A CPU worker's host queue, `<cpu queue>-host-<host>` (e.g. `sparky-host-dgx1`): the worker serves it
 * beside the shared queue, and a workstream whose worktree it made runs all its later steps there.
 */
export function hostTaskQueue(cpuTaskQueue: string, host: string): string {
  return `${cpuTaskQueue}-host-${host}`;
}

export function isPinnedGpuTaskQueue(queue: string): boolean {
  return /^sparky-gpu-.+-\d+$/.test(queue);
}
