// Worker Versioning for Sparky's orchestration workers (ADR 0005): workers declare a deployment
// (`sparky`, or SPARKY_DEPLOYMENT) and a build id derived from the workflow code; every run is PINNED
// to the build it started on, new runs go to the deployment's current build, and old builds drain:
// their workers keep serving the runs pinned to them until none is open.
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentOptions } from '@temporalio/worker';

export const DEFAULT_DEPLOYMENT = 'sparky';

export function deploymentName(): string {
  return process.env.SPARKY_DEPLOYMENT ?? DEFAULT_DEPLOYMENT;
}

export interface Deployment { name: string; buildId: string }

/** Worker options for one build of the deployment: runs stay on the build they started on. */
export function deploymentOptions(d: Deployment): WorkerDeploymentOptions {
  return { version: { deploymentName: d.name, buildId: d.buildId }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes a build the deployment's current version (new runs start on it). The server learns of a version
 * from its workers' polls, so this retries until a worker of that build has polled.
 */
export async function makeCurrent(client: Client, d: Deployment, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: client.options.namespace, deploymentName: d.name, buildId: d.buildId, identity: 'sparky', ignoreMissingTaskQueues: true,
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`could not make ${d.name}/${d.buildId} the current build: ${(err as Error).message}`);
      await sleep(300);
    }
  }
}

/** The build a run is pinned to (or runs on), from its description; undefined for an unversioned run. */
export function buildOf(raw: unknown): string | undefined {
  const info = (raw as { workflowExecutionInfo?: { versioningInfo?: Record<string, unknown> } }).workflowExecutionInfo?.versioningInfo;
  if (!info) return undefined;
  const version = (info.deploymentVersion ?? info.override ?? {}) as { buildId?: string; deploymentName?: string };
  return version.buildId || undefined;
}

/** The key of runs that started before Worker Versioning (no build). */
export const UNVERSIONED = '(unversioned)';

/** Open Sparky runs by the build they are pinned to (to start drain workers for old builds). */
export async function openRunsByBuild(client: Client): Promise<Map<string, string[]>> {
  const byBuild = new Map<string, string[]>();
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'metaOrchestrator' AND ExecutionStatus = 'Running'` })) {
    const desc = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    const build = buildOf(desc.raw) ?? UNVERSIONED;
    byBuild.set(build, [...(byBuild.get(build) ?? []), wf.workflowId]);
  }
  return byBuild;
}
