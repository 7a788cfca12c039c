// The CPU worker as deployed: `tsx workers/cpu.ts`, a process of its own, on a task queue of the
// caller's against a test dev server; resolves once it says it serves the queue. The agent tests kill
// it mid-turn; the agent benchmark times plans on it.
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { serverAddress } from './temporal.ts';
import { waitFor } from './wait.ts';

export async function cpuWorkerProcess(env: TestWorkflowEnvironment, taskQueue: string, logDir: string, extra: Record<string, string> = {}): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('../../workers/cpu.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TEMPORAL_ADDRESS: serverAddress(env), TEMPORAL_NAMESPACE: env.namespace ?? 'default', SPARKY_TASK_QUEUE: taskQueue, SPARKY_LOG_DIR: logDir, ...extra },
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  await waitFor('the worker process', () => {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${out}`);
    return out.includes('task queue');
  }, 60_000);
  return child;
}
