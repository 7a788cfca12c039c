// The CPU worker: serves task queue `sparky`: the orchestration workflows (metaOrchestrator,
// domainOrchestrator) and every `cpu` step and gate check. `tsx workers/cpu.ts` connects to
// TEMPORAL_ADDRESS (default 127.0.0.1:7233; TLS: workers/temporal-connection.ts) and serves until SIGINT/SIGTERM, then shuts down
// gracefully (running steps get SPARKY_SHUTDOWN_GRACE to finish; Temporal retries what did not).
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActivityDeps } from '../activities/index.ts';
import type { SparkyActivities } from '../common/activity-types.ts';
import { CPU_TASK_QUEUE } from '../common/task-queues.ts';
import { DATA_DIR } from './paths.ts';
import { installRuntime } from './runtime.ts';
import { workflowBundle } from './workflow-bundle.ts';
import { sparkyWorkerOptions } from './worker-options.ts';
import { describeConnection, temporalConnectionSettings } from './temporal-connection.ts';

export interface CpuWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  logDir?: string;
  /** Replace the real activities (a test that needs a step to misbehave on purpose). */
  activities?: SparkyActivities;
  activityDeps?: Partial<ActivityDeps>;
  workerOptions?: Partial<WorkerOptions>;
}

export async function startCpuWorker(opts: CpuWorkerOptions): Promise<Worker> {
  const logDir = opts.logDir ?? path.join(DATA_DIR, 'logs');
  // Loaded only when needed: a test that brings its own activities does not load every runner.
  const activities = opts.activities ?? (await import('../activities/index.ts')).createActivities({ logDir, ...opts.activityDeps });
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? CPU_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities,
    ...sparkyWorkerOptions(),
    ...opts.workerOptions,
  });
}

async function main(): Promise<void> {
  installRuntime({ tags: { worker: 'cpu' } }); // Prometheus metrics when SPARKY_METRICS_PORT is set
  const settings = temporalConnectionSettings();
  const { address, namespace, tls } = settings;
  const taskQueue = process.env.SPARKY_TASK_QUEUE ?? CPU_TASK_QUEUE;
  const connection = await NativeConnection.connect({ address, tls });
  const worker = await startCpuWorker({ connection, namespace, taskQueue, logDir: process.env.SPARKY_LOG_DIR });
  // Worker.run installs its own SIGINT/SIGTERM handling (shutdownSignals) and drains gracefully.
  console.log(`sparky cpu worker: ${describeConnection(settings)} namespace ${namespace} task queue ${taskQueue}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  console.log('sparky cpu worker: stopped');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`sparky cpu worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
