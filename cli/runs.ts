// Finding a run from what a person typed: a full workflow id, the short run id at its end, or `last`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DATA_DIR } from '../host/paths.ts';
import { CliError } from './connection.ts';

const LAST_RUN_FILE = path.join(DATA_DIR, 'last-run');

export function rememberLastRun(workflowId: string): void {
  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(LAST_RUN_FILE, `${workflowId}\n`);
}

export async function resolveRun(client: Client, run: string): Promise<WorkflowHandle> {
  let workflowId = run;
  if (run === 'last') {
    if (!existsSync(LAST_RUN_FILE)) throw new CliError('no earlier run is remembered here: give the run id that `sparky run` printed', 2);
    workflowId = readFileSync(LAST_RUN_FILE, 'utf8').trim();
  }
  const handle = client.workflow.getHandle(workflowId);
  try {
    await handle.describe();
    return handle;
  } catch (err) {
    if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
  }
  // A short run id: look for a Sparky run whose id ends with it.
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'metaOrchestrator'`, pageSize: 200 })) {
    if (wf.workflowId.endsWith(`-${run}`)) return client.workflow.getHandle(wf.workflowId);
  }
  throw new CliError(`no run "${run}" on this server. List runs with \`temporal workflow list --query "WorkflowType='metaOrchestrator'"\` ` +
    'or give `last` for the most recent run started here.', 2);
}
