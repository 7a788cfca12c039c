// `sparky status <run> [--json] [--watch]`: the run's status query, as a tree (or JSON).
import { statusQuery } from '../workflows/messages.ts';
import { buildOf } from '../workers/deployment.ts';
import { connectClient, findWebUi } from './connection.ts';
import { renderStatus } from './progress.ts';
import { liveAgents } from './agent-live.ts';
import { resolveRun } from './runs.ts';
import { watchRun } from './watch.ts';

export async function statusCommand(run: string, opts: { json?: boolean; watch?: boolean; autoApprove?: string[] }): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  if (!opts.json) await findWebUi(); // the ways to decide include the run's Web UI page
  if (opts.watch) {
    const result = await watchRun(handle, { autoApprove: opts.autoApprove, interactive: true });
    return result.state === 'completed' ? 0 : 1;
  }
  const status = await handle.query(statusQuery);
  if (opts.json) console.log(JSON.stringify(status, null, 2));
  else {
    const described = await handle.describe();
    console.log(renderStatus(status, await liveAgents(client, status)));
    console.log(`build: ${buildOf(described.raw) ?? 'unversioned'}${described.status.name !== 'RUNNING' ? `  (workflow ${described.status.name.toLowerCase()})` : ''}`);
  }
  return 0;
}
