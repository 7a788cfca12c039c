// `sparky logs <run> <workstream>/<step> [--follow]`: a step's log file. The path comes from the run's
// status when the step has run (the worker recorded it); otherwise from the log-path convention
// `<logDir>/<run workflow id>/<workstream>/<step>.log` on this machine.
import { statusQuery } from '../workflows/messages.ts';
import { createReadStream, existsSync, statSync, watchFile, unwatchFile } from 'node:fs';
import path from 'node:path';
import { DATA_DIR } from '../workers/paths.ts';
import { CliError, connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';

export function stepLogPath(workflowId: string, workstream: string, step: string, logDir = path.join(DATA_DIR, 'logs')): string {
  return path.join(logDir, workflowId, workstream, `${step}.log`);
}

export async function logsCommand(run: string, stepRef: string, opts: { follow?: boolean }): Promise<number> {
  const [workstream, step] = stepRef.split('/');
  if (!workstream || !step) throw new CliError(`give the step as <workstream>/<step>, e.g. WS-01/build (got "${stepRef}")`, 2);
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const file = (await logPathFromStatus(handle, workstream, step)) ?? stepLogPath(handle.workflowId, workstream, step);
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

/** The log path the worker recorded for this step in the run's status, if the step has run. */
async function logPathFromStatus(handle: Awaited<ReturnType<typeof resolveRun>>, workstream: string, step: string): Promise<string | undefined> {
  try {
    const status = await handle.query(statusQuery);
    const ws = status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).find((w) => w.id === workstream);
    return ws?.steps.find((s) => s.id === step)?.logPath;
  } catch {
    return undefined; // no worker answers the query: fall back to the path convention
  }
}
