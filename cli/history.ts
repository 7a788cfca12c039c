// `sparky history <run> [--out file]`: the run's event history as JSON, the format that
// `Worker.runReplayHistories` and `temporal workflow show --output json` use (for replay tests).
import { writeFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';

export async function historyCommand(run: string, opts: { out?: string }): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const history = await handle.fetchHistory();
  const json = historyToJSON(history);
  if (opts.out) {
    writeFileSync(opts.out, json);
    console.error(`wrote ${history.events?.length ?? 0} events of ${handle.workflowId} to ${opts.out}`);
  } else {
    process.stdout.write(`${json}\n`);
  }
  return 0;
}
