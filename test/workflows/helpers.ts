// Shared by the orchestration tests: real workers (workers/cpu.ts with the real activities), the
// real `temporal` CLI against the test server, plan builders whose steps do real work in a temp dir.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { execa } from 'execa';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCpuWorker } from '../../workers/cpu.ts';
import { TEMPORAL_BIN } from '../../host/paths.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { serverAddress, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { after, before } from 'node:test';

export async function tempDir(prefix = 'sparky-wf-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** A CPU worker (workers/cpu.ts, real activities from activities/index.ts) on its own task queue, in this process. */
export async function cpuWorker(env: TestWorkflowEnvironment, taskQueue = uniqueTaskQueue('cpu')): Promise<{ worker: Worker; taskQueue: string; logDir: string }> {
  const logDir = await tempDir('sparky-logs-');
  const worker = await startCpuWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, logDir });
  return { worker, taskQueue, logDir };
}

export { serverAddress } from '../helpers/temporal.ts';

/** Runs the real `temporal` CLI against the test server. */
export async function temporal(env: TestWorkflowEnvironment, args: string[]) {
  return execa(TEMPORAL_BIN, [...args, '--address', serverAddress(env), '--namespace', env.namespace ?? 'default'],
    { reject: false, all: true, stdin: 'ignore' });
}

export async function status(env: TestWorkflowEnvironment, workflowId: string): Promise<RunStatus> {
  return env.client.workflow.getHandle(workflowId).query<RunStatus>('status');
}

export async function lines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** A shell step that appends `text` to `file` (through sh, since the step's job is a redirect). */
export function append(id: string, file: string, text: string, extra: Record<string, unknown> = {}) {
  return { id, kind: 'shell' as const, run: ['sh', '-c', `echo ${text} >> ${file}`], ...extra };
}

/** A step that appends `text` and can be undone: its compensation appends `undo-<text>` to `undoLog`. */
export function undoable(id: string, file: string, text: string, undoLog: string, extra: Record<string, unknown> = {}) {
  return { ...append(id, file, text, extra), compensate: append(`undo-${id}`, undoLog, `undo-${text}`) };
}

export function gateOf(run: RunStatus, gateId: string) {
  const gate = run.phases.find((p) => p.gate?.id === gateId)?.gate;
  if (!gate) throw new Error(`no gate ${gateId}`);
  return gate;
}

export function workstreamOf(run: RunStatus, id: string) {
  for (const p of run.phases) for (const d of p.domains) for (const w of d.workstreams) if (w.id === id) return w;
  throw new Error(`no workstream ${id}`);
}

export interface Stack { env: TestWorkflowEnvironment; worker: Worker; taskQueue: string; logDir: string }

/**
 * A real dev server and a real CPU worker for one test file: `const stack = useStack();` at the top;
 * its fields are set before the first test and everything is shut down after the last. The worker
 * serves its own task queue unless `taskQueue` names one (e.g. `sparky`, for runs the CLI starts).
 */
export function useStack(options: { start?: () => Promise<TestWorkflowEnvironment>; taskQueue?: string } = {}): Stack {
  const stack = {} as Stack;
  let running: Promise<void> | undefined;
  before(async () => {
    const env = await (options.start ?? startDevServer)();
    Object.assign(stack, { env, ...(await cpuWorker(env, options.taskQueue)) });
    running = stack.worker.run();
  });
  after(async () => {
    stack.worker?.shutdown();
    await running;
    await stack.env?.teardown();
  });
  return stack;
}
