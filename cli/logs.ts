// `sparky logs <run> <workstream>/<step> [--follow]`: a step's log file. The path comes from the run's
// status when the step has run (the worker recorded it); otherwise from the log-path convention of
// activities/logs.ts (`<logDir>/<run workflow id>/<workstream>/<step>.log`) on this machine. A step the
// run's plan does not have is named as unknown, with a "did you mean".
import { statusQuery } from '../workflows/messages.ts';
import type { RunStatus } from '../workflows/status.ts';
import { createReadStream, existsSync, statSync, watchFile, unwatchFile } from 'node:fs';
import path from 'node:path';
import { stepLogPath } from '../activities/logs.ts';
import { suggest } from '../plan/suggest.ts';
import { DATA_DIR } from '../host/paths.ts';
import { CliError, connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';

/** Where a step's log is on this machine when the status does not say (the workers' own convention). */
export function localStepLogPath(runWorkflowId: string, workstreamId: string, stepId: string, logDir = path.join(DATA_DIR, 'logs')): string {
  return stepLogPath(logDir, { runWorkflowId, workstreamId, stepId });
}

/**
 * Why `<workstream>/<step>` names no step of the run (with a "did you mean"), or undefined when it does.
 */
export function unknownStep(status: RunStatus, workstream: string, step: string): string | undefined {
  const workstreams = status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams));
  const refs = workstreams.flatMap((w) => w.steps.map((s) => `${w.id}/${s.id}`));
  const ws = workstreams.find((w) => w.id === workstream);
  if (!ws) return `run ${status.runWorkflowId} has no workstream "${workstream}"${suggest(`${workstream}/${step}`, refs) || suggest(workstream, workstreams.map((w) => w.id))}`;
  if (!ws.steps.some((s) => s.id === step)) {
    return `workstream ${workstream} of run ${status.runWorkflowId} has no step "${step}"${suggest(`${workstream}/${step}`, refs)} (its steps: ${ws.steps.map((s) => s.id).join(', ')})`;
  }
  return undefined;
}

export async function logsCommand(run: string, stepRef: string, opts: { follow?: boolean }): Promise<number> {
  const [workstream, step] = stepRef.split('/');
  if (!workstream || !step) throw new CliError(`give the step as <workstream>/<step>, e.g. WS-01/build (got "${stepRef}")`, 2);
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const status = await runStatus(handle);
  const unknown = status && unknownStep(status, workstream, step);
  if (unknown) throw new CliError(unknown, 2);
  const recorded = status?.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).find((w) => w.id === workstream)?.steps.find((s) => s.id === step)?.logPath;
  const file = recorded ?? localStepLogPath(handle.workflowId, workstream, step);
  if (!existsSync(file)) {
    if (!opts.follow) throw new CliError(`no log yet for ${workstream}/${step} of ${handle.workflowId} (looked at ${file}); the step may not have started, or ran on another machine`, 2);
    console.error(`waiting for ${file} …`);
  }
  await printFrom(file, 0);
  if (!opts.follow) return 0;
  // Follow: print what is appended until the run ends (or Ctrl-C).
  let offset = existsSync(file) ? statSync(file).size : 0;
  await new Promise<void>((resolve) => {
    watchFile(file, { interval: 500 }, async (cur) => {
      if (cur.size > offset) { const from = offset; offset = cur.size; await printFrom(file, from, cur.size); }
    });
    const poll = setInterval(async () => {
      const { status } = await handle.describe();
      if (status.name !== 'RUNNING') { clearInterval(poll); unwatchFile(file); resolve(); }
    }, 2000);
  });
  return 0;
}

async function printFrom(file: string, start: number, end?: number): Promise<void> {
  if (!existsSync(file)) return;
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file, { start, ...(end !== undefined ? { end: end - 1 } : {}) });
    stream.on('data', (chunk) => process.stdout.write(chunk));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}

/** The run's status (with the log paths the workers recorded), if a worker answers the query. */
async function runStatus(handle: Awaited<ReturnType<typeof resolveRun>>): Promise<RunStatus | undefined> {
  try {
    return await handle.query(statusQuery);
  } catch {
    return undefined; // no worker answers the query: fall back to the path convention
  }
}
