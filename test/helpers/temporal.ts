// Test harness: a real Temporal dev server (the binary scripts/setup installed) on random free ports,
// with Sparky's search attributes registered, plus helpers to run real workers against it.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { SPARKY_SEARCH_ATTRIBUTES } from '../../common/search-attributes.ts';
import { TEMPORAL_BIN, TEMPORAL_TEST_SERVER_BIN } from '../../host/paths.ts';
import { workflowBundle } from '../../workers/workflow-bundle.ts';

// Workers log every state change at INFO and every failed workflow at WARN, which tests cause on
// purpose: only errors by default (SPARKY_TEST_LOG_LEVEL=WARN to see more).
Runtime.install({ logger: new DefaultLogger((process.env.SPARKY_TEST_LOG_LEVEL ?? 'ERROR') as 'ERROR') });

function requireBinary(bin: string): string {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run setup\` (scripts/setup) to install it`);
  return bin;
}

/** A dev server (SQLite in memory) on a free port: the same server `npm start` runs. */
export function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireBinary(TEMPORAL_BIN) },
      ip: '127.0.0.1',
      searchAttributes: SPARKY_SEARCH_ATTRIBUTES,
      extraArgs: ['--log-level', 'error'],
    },
  });
}

export const timeSkippingAvailable = existsSync(TEMPORAL_TEST_SERVER_BIN);

/** The time-skipping test server (for gate timeouts measured in days). */
export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary(TEMPORAL_TEST_SERVER_BIN) } },
  });
}

/** The dev server's address (host:port), for processes started against it (workers, the temporal CLI). */
export function serverAddress(env: TestWorkflowEnvironment): string {
  return (env.connection as unknown as { options: { address: string } }).options.address;
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A real worker on the env's server, using the cached workflow bundle. */
export async function createWorker(
  env: TestWorkflowEnvironment,
  options: Partial<WorkerOptions> & { taskQueue: string; workflowsPath?: string },
): Promise<Worker> {
  const { workflowsPath, ...rest } = options;
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    workflowBundle: await workflowBundle(workflowsPath),
    ...rest,
  });
}
