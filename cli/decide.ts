// `sparky approve` / `sparky reject`: through the decideGate update, so a refusal (not an approver,
// gate not waiting, second vote) comes back at once with its reason and a non-zero exit.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { connectClient, CliError } from './connection.ts';
import { resolveRun } from './runs.ts';

export async function decideCommand(run: string, gate: string, opts: {
  as: string; decision: 'approve' | 'reject'; comment?: string; reason?: string;
}): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const comment = opts.decision === 'reject' ? opts.reason : opts.comment;
  try {
    const result = await handle.executeUpdate('decideGate', {
      args: [{ gate, approver: opts.as, decision: opts.decision, ...(comment ? { comment } : {}) }],
    });
    console.log(`${opts.decision === 'approve' ? 'approved' : 'rejected'} ${gate} as ${opts.as} on ${handle.workflowId}`);
    if (result && typeof result === 'object') console.log(summariseDecision(result as Record<string, unknown>));
    return 0;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(`refused: ${(err.cause as Error | undefined)?.message ?? err.message}`, 4);
    }
    throw err;
  }
}

function summariseDecision(result: Record<string, unknown>): string {
  const parts = Object.entries(result)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v) || Array.isArray(v))
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return parts.length ? `  ${parts.join('  ·  ')}` : '';
}
