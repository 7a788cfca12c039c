// Worker Versioning for Sparky's orchestration workers (ADR 0005): workers declare a deployment
// (`sparky`, or SPARKY_DEPLOYMENT) and a build id derived from the workflow code; every run is PINNED
// to the build it started on, new runs go to the deployment's current build, and old builds drain:
// their workers keep serving the runs pinned to them until none is open. Every workflow worker is
// versioned unless SPARKY_UNVERSIONED=1 says otherwise (versioningFromEnv: the one reading of the
// variables).
import type { Client } from '@temporalio/client';
import type { WorkerDeploymentOptions } from '@temporalio/worker';

export const DEFAULT_DEPLOYMENT = 'sparky';

export function deploymentName(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPARKY_DEPLOYMENT || DEFAULT_DEPLOYMENT;
}

/** When a versioned worker makes its build the deployment's current one (new runs start on it). */
export type MakeCurrent = 'always' | 'if-none' | 'never';

/** How a workflow worker process (workers/cpu.ts) takes part in Worker Versioning. */
export type Versioning =
  | { versioned: false }
  /** `buildId`: serve this earlier build from the bundle cache (SPARKY_BUILD_ID); else the code's own build. */
  | { versioned: true; name: string; buildId?: string; makeCurrent: MakeCurrent };

const BUILD_ID = /^build-[0-9a-f]{16}$/;

/**
 * Reads SPARKY_UNVERSIONED, SPARKY_DEPLOYMENT, SPARKY_BUILD_ID and SPARKY_MAKE_CURRENT. Versioned by
 * default (deployment `sparky`, the code's own build, made current only when the deployment has no
 * current build yet); a value that cannot be meant is an error naming the fix.
 */
export function versioningFromEnv(env: NodeJS.ProcessEnv = process.env): Versioning {
  const flag = (name: string): '1' | '0' | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (v === '1' || v === '0') return v;
    throw new Error(`${name}=${v}: use 1 or 0 (or leave it unset)`);
  };
  const unversioned = flag('SPARKY_UNVERSIONED');
  const makeCurrent = flag('SPARKY_MAKE_CURRENT');
  const buildId = env.SPARKY_BUILD_ID || undefined;
  if (unversioned === '1') {
    const conflicting = [env.SPARKY_DEPLOYMENT && 'SPARKY_DEPLOYMENT', buildId && 'SPARKY_BUILD_ID', makeCurrent === '1' && 'SPARKY_MAKE_CURRENT=1'].filter(Boolean);
    if (conflicting.length) throw new Error(`SPARKY_UNVERSIONED=1 asks for an unversioned worker, but ${conflicting.join(' and ')} ask${conflicting.length === 1 ? 's' : ''} for a versioned one: unset one or the other`);
    return { versioned: false };
  }
  if (buildId && !BUILD_ID.test(buildId)) {
    throw new Error(`SPARKY_BUILD_ID=${buildId} is not a build id: use build-<16 hex digits>, as \`sparky status\` or \`temporal worker deployment describe --name ${deploymentName(env)}\` prints it`);
  }
  // An earlier build served for draining never takes new runs unless asked.
  const when: MakeCurrent = makeCurrent === '1' ? 'always' : makeCurrent === '0' || buildId ? 'never' : 'if-none';
  return { versioned: true, name: deploymentName(env), ...(buildId ? { buildId } : {}), makeCurrent: when };
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

/** The deployment's current build (where new runs start), or undefined while it has none (or does not exist yet). */
export async function currentBuild(client: Client, name: string): Promise<string | undefined> {
  try {
    const { workerDeploymentInfo } = await client.workflowService.describeWorkerDeployment({ namespace: client.options.namespace, deploymentName: name });
    const routing = workerDeploymentInfo?.routingConfig;
    return routing?.currentDeploymentVersion?.buildId || undefined;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return undefined; // NOT_FOUND: no worker of it has polled yet
    throw err;
  }
}

/**
 * Applies a worker's MakeCurrent once its build polls: `always` makes it current, `if-none` only when the
 * deployment has no current build (the first start: otherwise no run could start anywhere). Returns a
 * line saying what the worker is for.
 */
export async function settleCurrent(client: Client, d: Deployment, when: MakeCurrent): Promise<string> {
  const current = when === 'always' ? undefined : await currentBuild(client, d.name);
  if (when === 'always' || (when === 'if-none' && !current)) {
    await makeCurrent(client, d);
    return `${d.buildId} is the current build of ${d.name}: new runs start on it`;
  }
  if (current === d.buildId) return `${d.buildId} is the current build of ${d.name}: new runs start on it`;
  const fix = `to start new runs here: SPARKY_MAKE_CURRENT=1, or temporal worker deployment set-current-version --deployment-name ${d.name} --build-id ${d.buildId}`;
  return current ? `${d.buildId} serves the runs pinned to it; new runs start on ${current}, the current build of ${d.name} (${fix})`
    : `${d.buildId} serves the runs pinned to it; ${d.name} has no current build, so new runs wait for one (${fix})`;
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
