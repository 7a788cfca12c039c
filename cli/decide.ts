// `sparky approve` / `sparky reject`: through the decideGate update, so a refusal (not an approver,
// gate not waiting, second vote, missing or bad signature) comes back at once with its reason and a
// non-zero exit. `--key` signs the decision's statement with ssh-keygen (or through ssh-agent when
// the key is a .pub); `--signature FILE --signed-at TIME` sends a signature made elsewhere.
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { buildStatement } from '../common/gate-statement.ts';
import { verifySshsig } from '../common/sshsig.ts';
import { connectClient, CliError } from './connection.ts';
import { statementFieldsOf } from './gate-facts.ts';
import { resolveRun } from './runs.ts';
import { expandHome, sshSign } from './ssh-sign.ts';
import { sendUpdate } from './updates.ts';

export interface DecideOptions {
  as: string; decision: 'approve' | 'reject'; comment?: string; reason?: string; rework?: string[];
  key?: string; signature?: string; signedAt?: string;
}

export async function decideCommand(run: string, gate: string, opts: DecideOptions): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const comment = opts.decision === 'reject' ? opts.reason : opts.comment;
  let signed: { signature: string; signedAt: string } | undefined;
  let fingerprint: string | undefined;
  if (opts.key !== undefined) {
    if (opts.signature !== undefined) throw new CliError('give --key or --signature, not both', 2);
    ({ fingerprint, ...signed } = await signDecision(handle, gate, opts.decision, comment ?? '', opts.key, opts.rework ?? []));
  } else if (opts.signature !== undefined) {
    if (!opts.signedAt) throw new CliError('--signature needs --signed-at: the time line of the statement you signed', 2);
    signed = { signature: readFileSync(expandHome(opts.signature), 'utf8'), signedAt: opts.signedAt };
  }
  const result = await sendUpdate<Record<string, unknown>>(handle, 'decideGate', {
    gate, approver: opts.as, decision: opts.decision, ...(comment ? { comment } : {}), ...(opts.rework?.length ? { rework: opts.rework } : {}), ...signed,
  });
  console.log(`${opts.decision === 'approve' ? 'approved' : 'rejected'} ${gate} as ${opts.as}${fingerprint ? ` (signed, key ${fingerprint})` : signed ? ' (signed)' : ''} on ${handle.workflowId}`);
  if (opts.decision === 'reject') {
    console.log(`rework: ${opts.rework?.length ? opts.rework.join(', ') : 'every workstream of the phase'} (and their same-phase dependents) are undone and wait for \`sparky retry\``);
  }
  if (result && typeof result === 'object') console.log(summariseDecision(result));
  return 0;
}

/** Signs a decision's statement (as of now) with a key (or its .pub through ssh-agent): what decideGate needs. */
export async function signDecision(handle: WorkflowHandle, gate: string, decision: 'approve' | 'reject', comment: string, key: string,
  rework: string[] = []): Promise<{ signature: string; signedAt: string; fingerprint?: string }> {
  const signedAt = new Date().toISOString();
  const statement = buildStatement(await statementFieldsOf(handle, gate, decision, comment, signedAt, rework));
  const signature = await sshSign(statement, key);
  const check = verifySshsig(statement, signature);
  if (!check.ok) throw new CliError(`the signature ssh-keygen made does not verify: ${check.reason}`, 2);
  return { signature, signedAt, fingerprint: check.fingerprint };
}

function summariseDecision(result: Record<string, unknown>): string {
  const parts = Object.entries(result)
    .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v) || Array.isArray(v))
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  return parts.length ? `  ${parts.join('  ·  ')}` : '';
}
