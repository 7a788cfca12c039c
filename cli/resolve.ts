// `sparky retry | skip | recheck | abort`: a person's decision about a run that needs attention, through
// the `resolve` update (a decision that cannot apply is refused at once, with the reason, exit 4).
import type { ResolveInput, ResolveResult } from '../workflows/messages.ts';
import { connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';
import { sendUpdate } from './updates.ts';

export async function resolveCommand(run: string, input: ResolveInput): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const result = await sendUpdate<ResolveResult>(handle, 'resolve', input);
  console.log(`${result.accepted} (${input.action} by ${input.by} on ${handle.workflowId})`);
  return 0;
}
