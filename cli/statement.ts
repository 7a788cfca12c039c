// `sparky statement <run> <gate> --decision approve|reject [--comment …|--reason …] [--time ISO]`: prints exactly
// the bytes a signed decision signs (common/gate-statement.ts), to pipe into
//   ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519
// and, on stderr, how to send the signature with the matching signedAt.
import { buildStatement } from '../common/gate-statement.ts';
import { CliError, connectClient } from './connection.ts';
import { statementFieldsOf } from './gate-facts.ts';
import { resolveRun } from './runs.ts';

export async function statementCommand(run: string, gate: string, opts: { decision: string; comment?: string; reason?: string; time?: string }): Promise<number> {
  if (opts.decision !== 'approve' && opts.decision !== 'reject') throw new CliError(`--decision must be approve or reject, not "${opts.decision}"`, 2);
  // A rejection's comment is its reason: `--reason` as `sparky reject` takes it, or `--comment`; not two different texts.
  if (opts.reason !== undefined && opts.decision !== 'reject') throw new CliError('--reason goes with --decision reject (an approval takes --comment)', 2);
  if (opts.reason !== undefined && opts.comment !== undefined && opts.reason !== opts.comment) {
    throw new CliError('give the rejection\'s reason once: --reason or --comment, not both', 2);
  }
  const comment = opts.reason ?? opts.comment;
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const time = opts.time ?? new Date().toISOString();
  let text: string;
  try {
    text = buildStatement(await statementFieldsOf(handle, gate, opts.decision, comment ?? '', time));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, 2);
  }
  process.stdout.write(text);
  const input = { gate, approver: 'NAME', decision: opts.decision, ...(comment ? { comment } : {}), signedAt: time, signature: '<the armored signature>' };
  const flag = opts.decision === 'reject' ? '--reason' : '--comment';
  console.error([
    '', `Sign it:  npx sparky statement ${handle.workflowId} ${gate} --decision ${opts.decision}${comment ? ` ${flag} …` : ''} --time ${time} > statement.txt`,
    '          ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519 statement.txt',
    `Send it:  npx sparky ${opts.decision} ${handle.workflowId} ${gate} --as NAME${opts.decision === 'reject' ? ' --reason …' : comment ? ' --comment …' : ''} --signature statement.txt.sig --signed-at ${time}`,
    `   or:    temporal workflow update execute --workflow-id ${handle.workflowId} --name decideGate --input '${JSON.stringify(input)}'`,
  ].join('\n'));
  return 0;
}
