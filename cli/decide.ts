// `sparky approve` / `sparky reject`: through the decideGate update, so a refusal (not an approver,
// gate not waiting, second vote) comes back at once with its reason and a non-zero exit.
import { connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';
import { sendUpdate } from './updates.ts';

export async function decideCommand(run: string, gate: string, opts: {
  as: string; decision: 'approve' | 'reject'; comment?: string; reason?: string; rework?: string[];
}): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const comment = opts.decision === 'reject' ? opts.reason : opts.comment;
  const result = await sendUpdate<Record<string, unknown>>(handle, 'decideGate', {
    gate, approver: opts.as, decision: opts.decision, ...(comment ? { comment } : {}), ...(opts.rework?.length ? { rework: opts.rework } : {}),
  });
  console.log(`${opts.decision === 'approve' ? 'approved' : 'rejected'} ${gate} as ${opts.as} on ${handle.workflowId}`);
  if (opts.decision === 'reject') {
    console.log(`rework: ${opts.rework?.length ? opts.rework.join(', ') : 'every workstream of the phase'} (and their same-phase dependents) are undone and wait for \`sparky retry\``);
  }
  if (result && typeof result === 'object') console.log(summariseDecision(result));
  return 0;
}

function summariseDecision(result: Record<string, unknown>): string {
  const parts = Object.entries(result)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v) || Array.isArray(v))
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return parts.length ? `  ${parts.join('  ·  ')}` : '';
}
