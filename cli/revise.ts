// `sparky revise <run> <plan> --as NAME`: a corrected plan for a run that waits (attention, a gate, or
// paused). The plan file is loaded and checked like `sparky validate`; the run's `revisePlan` update
// then refuses, with every reason, a revision that touches what already ran.
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import type { RevisePlanResult } from '../workflows/messages.ts';
import { CliError, connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';
import { sendUpdate } from './updates.ts';

export async function reviseCommand(run: string, file: string, opts: { as: string; comment?: string }): Promise<number> {
  const loaded = await loadPlanFile(file);
  if (!loaded.ok || !loaded.plan) throw new CliError(`the revised plan is not valid:\n${formatErrors(loaded.errors)}`, 2);
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const result = await sendUpdate<RevisePlanResult>(handle, 'revisePlan', { plan: loaded.plan, by: opts.as, ...(opts.comment ? { comment: opts.comment } : {}) });
  console.log(`revision ${result.revision} of ${handle.workflowId} by ${opts.as}: ${result.changes.join(', ')}`);
  console.log('Nothing reruns by itself: retry a step in attention with `sparky retry` (or recheck a gate).');
  return 0;
}
