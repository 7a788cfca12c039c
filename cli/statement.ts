// `sparky statement <run> <gate> --decision approve|reject [--comment …] [--time ISO]`: prints exactly
// the bytes a signed decision signs (common/gate-statement.ts), to pipe into
//   ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519
// and, on stderr, how to send the signature with the matching signedAt.
import { buildStatement } from '../common/gate-statement.ts';
import { CliError, connectClient } from './connection.ts';
import { statementFieldsOf } from './gate-facts.ts';
import { resolveRun } from './runs.ts';

export async function statementCommand(run: string, gate: string, opts: { decision: string; comment?: string; reason?: string; rework?: string[]; time?: string }): Promise<number> {
  if (opts.decision !== 'approve' && opts.decision !== 'reject') throw new CliError(`--decision must be approve or reject, not "${opts.decision}"`, 2);
  if (opts.comment !== undefined && opts.reason !== undefined) throw new CliError('give --comment or --reason (the same line of the statement), not both', 2);
  if (opts.rework?.length && opts.decision !== 'reject') throw new CliError('--rework goes with --decision reject', 2);
  const comment = opts.reason ?? opts.comment;
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const time = opts.time ?? new Date().toISOString();
  let text: string;
  try {
    text = buildStatement(await statementFieldsOf(handle, gate, opts.decision, comment ?? '', time, opts.rework ?? []));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, 2);
  }
  process.stdout.write(text);
  const rework = opts.rework?.length ? opts.rework : undefined;
  const input = { gate, approver: 'NAME', decision: opts.decision, ...(comment ? { comment } : {}), ...(rework ? { rework } : {}), signedAt: time, signature: '<the armored signature>' };
  const words = `${comment ? ` --${opts.decision === 'reject' ? 'reason' : 'comment'} …` : ''}${rework ? ` --rework ${rework.join(',')}` : ''}`;
  console.error([
    '', `Sign it:  npx sparky statement ${handle.workflowId} ${gate} --decision ${opts.decision}${words} --time ${time} > statement.txt`,
    '          ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519 statement.txt',
    `Send it:  npx sparky ${opts.decision} ${handle.workflowId} ${gate} --as NAME${words} --signature statement.txt.sig --signed-at ${time}`,
    `   or:    temporal workflow update execute --workflow-id ${handle.workflowId} --name decideGate --input '${JSON.stringify(input)}'`,
  ].join('\n'));
  return 0;
}
