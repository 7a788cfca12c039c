// `sparky attest <run | history.json> -o FILE`: the run's gate decisions as an in-toto Statement v1
// (https://in-toto.io/Statement/v1), so the approval record travels with the artifacts. Subjects:
// the plan (sha256 of its canonical JSON, the digest every signature names) and the run (sha256 of
// the exported history it was verified from). The predicate lists each gate decision with its
// statement, signature and key fingerprint, and the steps the run took from the cache (not run in it:
// where their results came from). Refuses to attest a history that does not verify.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { CliError } from './connection.ts';
import { loadHistory } from './history-json.ts';
import { verifyHistory } from './verify-history.ts';
import { cachedStepsOf } from './cache-audit.ts';
import { count } from '../common/plural.ts';
import { isWebauthnSignature } from '../common/webauthn.ts';

export const PREDICATE_TYPE = 'https://sparky.dev/attestations/gate-decisions/v1';

export async function attestCommand(arg: string, opts: { out?: string }): Promise<number> {
  const history = await loadHistory(arg);
  const report = verifyHistory(history.events);
  if (!report.ok) throw new CliError(`the history of ${report.run} does not verify: run \`sparky verify ${arg}\` to see why; nothing written`, 5);
  const counted = report.decisions.filter((d) => d.verdict !== 'ignored');
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [
      { name: `plan:${report.plan}`, digest: { sha256: report.planDigest.replace(/^sha256:/, '') } },
      { name: `run:${report.run}`, digest: { sha256: createHash('sha256').update(history.text).digest('hex') } },
    ],
    predicateType: PREDICATE_TYPE,
    predicate: {
      plan: { name: report.plan, digest: report.planDigest },
      run: { workflowId: report.run, runId: report.runId },
      verifiedBy: 'sparky verify (SSHSIG ed25519 in namespace sparky-gate, or a WebAuthn ES256 passkey assertion whose challenge is the statement\'s SHA-256)',
      gates: [...new Set(counted.map((d) => d.gate))].map((gate) => ({
        gate,
        decisions: counted.filter((d) => d.gate === gate).map((d) => ({
          approver: d.approver, decision: d.decision, comment: d.comment, surface: d.surface, receivedAt: d.receivedAt,
          verdict: d.verdict, fingerprint: d.fingerprint, signedAt: d.signedAt, statement: d.statement, signature: d.signature,
          ...(d.signature ? { signatureType: isWebauthnSignature(d.signature) ? 'webauthn' : 'sshsig' } : {}),
        })),
      })),
      // Work this run did not do: each step taken from the cache, with its key and the run it came from.
      cachedSteps: cachedStepsOf(history.events),
    },
  };
  const text = `${JSON.stringify(statement, null, 2)}\n`;
  if (opts.out) {
    writeFileSync(opts.out, text);
    console.error(`wrote an in-toto statement of ${count(counted.length, 'gate decision')} of ${report.run} to ${opts.out}`);
  } else process.stdout.write(text);
  return 0;
}
