// The CPU worker: serves task queue `sparky`: the orchestration workflows (metaOrchestrator,
// domainOrchestrator) and every `cpu` step and gate check. `tsx workers/cpu.ts` connects to
// TEMPORAL_ADDRESS (default 127.0.0.1:7233; TLS: workers/temporal-connection.ts) and serves until SIGINT/SIGTERM, then shuts down
// gracefully (running steps get SPARKY_SHUTDOWN_GRACE to finish; Temporal retries what did not).
// Versioned by default (deployment `sparky`, build id = hash of the workflow bundle, runs pinned to it;
// ADR 0005); SPARKY_UNVERSIONED=1 for an unversioned worker (workers/deployment.ts reads the variables).
// It also serves its host queue `<queue>-host-<SPARKY_HOST or hostname>` (activities only): a workstream's
// steps stay on the host that made its worktree (docs/agents.md "One host per workstream").
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActivityDeps } from '../activities/index.ts';
import type { SparkyActivities } from '../common/activity-types.ts';
import { CPU_TASK_QUEUE, hostTaskQueue } from '../common/task-queues.ts';
import { hostName } from '../host/gpus.ts';
import { DATA_DIR, JUST_BIN } from '../host/paths.ts';
import { installRuntime } from './runtime.ts';
import { deploymentOptions, settleCurrent, versioningFromEnv } from './deployment.ts';
import { cachedBundle, workflowBundle } from './workflow-bundle.ts';
import { sparkyWorkerOptions } from './worker-options.ts';
import { describeConnection, temporalConnectionSettings } from '../host/temporal-connection.ts';

export interface CpuWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  logDir?: string;
  /** Replace the real activities (a test that needs a step to misbehave on purpose). */
  activities?: SparkyActivities;
  activityDeps?: Partial<ActivityDeps>;
  workerOptions?: Partial<WorkerOptions>;
  /**
   * Worker Versioning: serve this deployment (runs pinned to their build). `buildId` defaults to the
   * workflow code's own (workflowBuildId); `codePath` serves an earlier build's cached bundle (draining).
   * Without it the worker is unversioned (tests on a queue of their own; SPARKY_UNVERSIONED=1).
   */
  deployment?: { name: string; buildId?: string; codePath?: string };
}

export async function startCpuWorker(opts: CpuWorkerOptions): Promise<Worker> {
  const logDir = opts.logDir ?? path.join(DATA_DIR, 'logs');
  // Loaded only when needed: a test that brings its own activities does not load every runner.
  const activities = opts.activities ?? (await import('../activities/index.ts')).createActivities({ logDir, justBin: JUST_BIN, runRoot: process.env.SPARKY_RUN_ROOT || undefined, ...opts.activityDeps });
  const d = opts.deployment;
  if (d?.codePath && !d.buildId) throw new Error('startCpuWorker: a deployment with a codePath (an earlier build) needs its buildId');
  const own = d?.codePath ? undefined : await workflowBundle();
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue ?? CPU_TASK_QUEUE,
    workflowBundle: { codePath: d?.codePath ?? own!.codePath },
    activities,
    ...(d ? { workerDeploymentOptions: deploymentOptions({ name: d.name, buildId: d.buildId ?? own!.buildId }) } : {}),
    ...sparkyWorkerOptions(),
    ...opts.workerOptions,
  });
}

async function main(): Promise<void> {
  installRuntime({ tags: { worker: 'cpu' } }); // Prometheus metrics when SPARKY_METRICS_PORT is set
  const settings = temporalConnectionSettings();
  const { address, namespace, tls } = settings;
  const taskQueue = process.env.SPARKY_TASK_QUEUE ?? CPU_TASK_QUEUE;
  // Versioned unless SPARKY_UNVERSIONED=1: runs stay pinned to this build (ADR 0005); SPARKY_BUILD_ID
  // serves a cached earlier build so the runs pinned to it drain.
  const versioning = versioningFromEnv();
  let deployment: { name: string; buildId: string; codePath?: string } | undefined;
  if (versioning.versioned) {
    const drained = versioning.buildId ? cachedBundle(versioning.buildId) : undefined;
    if (versioning.buildId && !drained) throw new Error(`no cached bundle of ${versioning.buildId} on this host (${path.join(DATA_DIR, 'cache')}): serve it from a host that ran that build`);
    deployment = { name: versioning.name, ...(drained ? { buildId: versioning.buildId!, codePath: drained.codePath } : await workflowBundle()) };
  }
  const connection = await NativeConnection.connect({ address, tls });
  const hostQueue = hostTaskQueue(taskQueue, hostName());
  const logDir = process.env.SPARKY_LOG_DIR ?? path.join(DATA_DIR, 'logs');
  const activities = (await import('../activities/index.ts')).createActivities({
    logDir, justBin: JUST_BIN, runRoot: process.env.SPARKY_RUN_ROOT || undefined, hostTaskQueue: hostQueue,
  });
  const worker = await startCpuWorker({ connection, namespace, taskQueue, logDir, deployment, activities });
  // The host queue: activities only, unversioned (like the GPU queues): only this worker's host serves it.
  const hostWorker = await Worker.create({ connection, namespace, taskQueue: hostQueue, activities, ...sparkyWorkerOptions() });
  console.log(deployment ? `sparky cpu worker: deployment ${deployment.name}, build ${deployment.buildId}`
    : 'sparky cpu worker: unversioned (SPARKY_UNVERSIONED=1): runs are not pinned to a build');
  // Worker.run installs its own SIGINT/SIGTERM handling (shutdownSignals) and drains gracefully.
  console.log(`sparky cpu worker: ${describeConnection(settings)} namespace ${namespace} task queue ${taskQueue} (host queue ${hostQueue})`);
  try {
    const running = Promise.all([worker.run(), hostWorker.run()]);
    if (deployment && versioning.versioned) {
      // New runs start on this build when asked (SPARKY_MAKE_CURRENT=1) or when the deployment has none yet.
      const { Client, Connection } = await import('@temporalio/client');
      const client = new Client({ connection: await Connection.connect({ address, tls }), namespace });
      try {
        console.log(`sparky cpu worker: ${await settleCurrent(client, deployment, versioning.makeCurrent)}`);
      } finally {
        await client.connection.close();
      }
    }
    await running;
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
