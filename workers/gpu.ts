// GPU worker pools: per GPU one inference server (`--gpu N`) and a worker on its pinned queue
// `sparky-gpu-<host>-<index>`, plus one worker on the shared pool queue `sparky-gpu` (Temporal allows
// one worker per queue per process) that runs each step on a GPU with a free slot. Each GPU has
// `slotsPerGpu` slots (default 1) shared by both queues (workers/gpu-leases.ts).
// With no GPU, one CPU-backed server (index 0) and the same two queues, so that every plan still runs.
//   tsx workers/gpu.ts   (TEMPORAL_ADDRESS + TLS: workers/temporal-connection.ts; SPARKY_GPUS, SPARKY_HOST, SPARKY_GPU_SLOTS, SPARKY_LOG_DIR)
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { InferenceClient } from '../activities/inference-client.ts';
import type { InferenceDeps } from '../activities/inference.ts';
import { GPU_POOL_TASK_QUEUE, pinnedGpuTaskQueue } from '../common/task-queues.ts';
import type { SparkyActivities } from '../common/activity-types.ts';
import { GpuSlots, takeSlot } from './gpu-leases.ts';
import { discoverGpus, hostName, type GpuInfo } from '../host/gpus.ts';
import { startInferenceServer, type InferenceServerHandle, type InferenceServerOptions } from '../host/inference-server.ts';
import { DATA_DIR, JUST_BIN } from '../host/paths.ts';
import { installRuntime } from './runtime.ts';
import { sparkyWorkerOptions } from './worker-options.ts';
import { describeConnection, temporalConnectionSettings } from '../host/temporal-connection.ts';

export interface GpuPoolOptions {
  connection: NativeConnection;
  namespace?: string;
  /** Host part of the pinned queues (default SPARKY_HOST or the sanitized hostname). */
  host?: string;
  /** GPUs to serve (default: discoverGpus(), i.e. SPARKY_GPUS or nvidia-smi). */
  gpus?: GpuInfo[];
  /** Activity slots per GPU and queue (default SPARKY_GPU_SLOTS or 1). */
  slotsPerGpu?: number;
  logDir?: string;
  workdir?: string;
  /** Options for every inference server (extra flags, metrics…); `gpu` and `serverId` are set per GPU. */
  server?: Omit<InferenceServerOptions, 'gpu'>;
  /** Extra inference deps (timeouts, retries, CURVE keys). */
  inference?: Partial<InferenceDeps>;
  activityDeps?: Partial<ActivityDeps>;
  workerOptions?: Partial<WorkerOptions>;
  /**
   * An inference server this pool does not start (docker-compose: one container per GPU). Only with
   * exactly one GPU; env SPARKY_INFERENCE_ENDPOINT / SPARKY_INFERENCE_PROGRESS_ENDPOINT for `tsx workers/gpu.ts`.
   */
  external?: { endpoint: string; progressEndpoint: string; serverId?: string };
  /** Also poll the shared pool queue (default true). */
  poolQueue?: boolean;
}

export interface GpuPoolMember {
  gpu: GpuInfo | null;
  host: string;
  index: number;
  taskQueue: string;
  server: InferenceServerHandle;
  client: InferenceClient;
  activities: SparkyActivities;
  /** This GPU's slots, shared by its pinned queue and the pool queue. */
  slots: GpuSlots;
  /** Its pinned-queue worker and the (shared) pool-queue worker. */
  workers: Worker[];
}

/** runStep takes a GPU slot among `members` first, then runs on that GPU's activities. */
function leased(members: GpuPoolMember[], checks: SparkyActivities): SparkyActivities {
  return {
    async runStep(input) {
      const member = await takeSlot(members);
      try {
        return await member.activities.runStep(input);
      } finally {
        member.slots.release();
      }
    },
    runGateCheck: (input) => checks.runGateCheck(input),
    notify: (input) => checks.notify(input),
    claimHost: async () => ({}), // GPU workers hold no worktrees
    // A dry run's question about a GPU step: asked of a GPU's worker, which needs no slot for it.
    inspectStep: (input) => checks.inspectStep(input),
  };
}

export interface GpuPool {
  members: GpuPoolMember[];
  /** Settles when every worker has stopped (after stop(), or a shutdown signal) and the servers are down. */
  done: Promise<void>;
  stop(): Promise<void>;
  /** One line for banners: which queues, servers and devices. */
  describe(): string;
}

export async function startGpuPool(opts: GpuPoolOptions): Promise<GpuPool> {
  const host = opts.host ?? hostName();
  const gpus = opts.gpus ?? await discoverGpus();
  const slots = opts.slotsPerGpu ?? Number(process.env.SPARKY_GPU_SLOTS ?? 1);
  const logDir = opts.logDir ?? path.join(DATA_DIR, 'logs');
  const targets: (GpuInfo | null)[] = gpus.length > 0 ? gpus : [null];
  const members: GpuPoolMember[] = [];
  const workers: Worker[] = [];
  try {
    // One at a time: each server start imports numpy (and torch), which is slow enough on its own.
    for (const gpu of targets) {
      const index = gpu?.index ?? 0;
      const taskQueue = pinnedGpuTaskQueue(host, index);
      const server = opts.external
        ? externalServer(opts.external, targets.length)
        : await startInferenceServer({
          ...opts.server, gpu: gpu ? index : undefined, serverId: opts.server?.serverId ?? `${host}-${gpu ? `gpu${index}` : 'cpu'}`,
          logFile: opts.server?.logFile ?? path.join(DATA_DIR, 'inference', `${host}-${index}.log`),
        });
      const client = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, ...opts.inference });
      const activities = createActivities({
        logDir, workdir: opts.workdir, justBin: JUST_BIN, runRoot: process.env.SPARKY_RUN_ROOT || undefined, ...opts.activityDeps,
        pinned: { host, index, taskQueue },
        inference: { endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, serverId: server.serverId, ...opts.inference, client },
      });
      members.push({ gpu, host, index, taskQueue, server, client, activities, slots: new GpuSlots(slots), workers: [] });
    }
    const common = { connection: opts.connection, namespace: opts.namespace ?? 'default', ...sparkyWorkerOptions() };
    for (const member of members) {
      member.workers.push(await Worker.create({
        ...common, taskQueue: member.taskQueue, maxConcurrentActivityTaskExecutions: slots, ...opts.workerOptions,
        activities: leased([member], member.activities),
      }));
      workers.push(...member.workers);
    }
    if (opts.poolQueue !== false) {
      // One worker for the shared queue (one per queue per process): it runs each step on a free GPU.
      const poolWorker = await Worker.create({
        ...common, taskQueue: GPU_POOL_TASK_QUEUE, maxConcurrentActivityTaskExecutions: slots * members.length, ...opts.workerOptions,
        activities: leased(members, members[0].activities),
      });
      workers.push(poolWorker);
      for (const m of members) m.workers.push(poolWorker);
    }
  } catch (err) {
    await stopMembers(members);
    throw err;
  }
  // The workers start polling now; `done` settles once they have all stopped and the servers are down.
  const done = Promise.allSettled(workers.map((w) => w.run()))
    .then(() => stopMembers(members));
  return {
    members,
    done,
    async stop() {
      for (const w of workers) {
        if (w.getState() === 'RUNNING') w.shutdown();
      }
      await done;
    },
    describe() {
      return members.map((m) => `GPU pool: "${m.taskQueue}" + "${GPU_POOL_TASK_QUEUE}" → ${m.server.serverId} (${m.server.device}) at ${m.server.endpoint}`).join('; ');
    },
  };
}

async function stopMembers(members: GpuPoolMember[]): Promise<void> {
  for (const m of members) {
    m.client.close();
    await m.server.stop();
  }
}

/** A handle on a server someone else runs: never started or stopped by the pool. */
function externalServer(ext: NonNullable<GpuPoolOptions['external']>, gpus: number): InferenceServerHandle {
  if (gpus !== 1) throw new Error(`an external inference server (${ext.endpoint}) serves one GPU, but this worker has ${gpus}: set SPARKY_GPUS to one index`);
  const unsupported = async () => { throw new Error(`the inference server at ${ext.endpoint} is not managed by this worker`); };
  return {
    endpoint: ext.endpoint, progressEndpoint: ext.progressEndpoint, serverId: ext.serverId ?? ext.endpoint,
    device: 'external', metricsUrl: null, pid: undefined, kill: unsupported, restart: unsupported, stop: async () => undefined,
  };
}

async function main(): Promise<void> {
  installRuntime({ tags: { worker: 'gpu' } }); // Prometheus metrics when SPARKY_METRICS_PORT is set
  const settings = temporalConnectionSettings();
  const connection = await NativeConnection.connect({ address: settings.address, tls: settings.tls });
  const endpoint = process.env.SPARKY_INFERENCE_ENDPOINT;
  const external = endpoint
    ? { endpoint, progressEndpoint: process.env.SPARKY_INFERENCE_PROGRESS_ENDPOINT ?? endpoint.replace(/:(\d+)$/, (_m, p) => `:${Number(p) + 1}`) }
    : undefined;
  const pool = await startGpuPool({ connection, namespace: settings.namespace, logDir: process.env.SPARKY_LOG_DIR, external });
  console.log(`sparky gpu worker: ${describeConnection(settings)}; ${pool.describe()}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void pool.stop());
  try {
    await pool.done;
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`sparky gpu worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
