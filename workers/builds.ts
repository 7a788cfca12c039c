// The orchestration workers of every build that still has work (Worker Versioning, ADR 0005), as
// `sparky dev` starts them: the current build's worker; one per earlier build with open runs pinned to
// it, from the bundle cache (the code those runs started with), so they drain; and, for runs from
// before versioning (no build), an unversioned worker with today's code, which is what served them.
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { startCpuWorker, type CpuWorkerOptions } from './cpu.ts';
import { openRunsByBuild, UNVERSIONED, type Deployment } from './deployment.ts';
import { cachedBundle } from './workflow-bundle.ts';
import { count } from '../common/plural.ts';

export interface ServeBuildsOptions {
  connection: NativeConnection;
  client: Client;
  /** The build new runs start on (`codePath`: its bundle, when it is not today's workflow code). */
  current: Deployment & { codePath?: string };
  /** Options every worker shares (task queue, namespace, log folder). */
  worker?: Omit<CpuWorkerOptions, 'connection' | 'deployment'>;
}

/** Starts the workers (not yet running) and returns them with one banner line per build. */
export async function serveBuilds({ connection, client, current, worker }: ServeBuildsOptions): Promise<{ workers: Worker[]; lines: string[] }> {
  const workers = [await startCpuWorker({ ...worker, connection, deployment: current })];
  const lines = [`  build            ${current.name} / ${current.buildId} (current: new runs start on it)`];
  const open = await openRunsByBuild(client);
  for (const [build, runs] of open) {
    if (build === current.buildId) continue;
    const cached = build === UNVERSIONED ? undefined : cachedBundle(build);
    if (build === UNVERSIONED) workers.push(await startCpuWorker({ ...worker, connection }));
    else if (cached) workers.push(await startCpuWorker({ ...worker, connection, deployment: { name: current.name, buildId: build, codePath: cached.codePath } }));
    lines.push(build === UNVERSIONED ? `  unversioned      ${count(runs.length, 'open run')} from before Worker Versioning: served with today's code`
      : cached ? `  draining         ${build}: ${count(runs.length, 'open run')} pinned to it keep their code`
        : `  WARNING          ${build}: ${count(runs.length, 'open run')} pinned to it and no cached bundle here: start a worker of that build (SPARKY_BUILD_ID)`);
  }
  return { workers, lines };
}
