// `sparky revise <run> <plan> --as NAME`: a corrected plan for a run that waits (attention, a gate, or
// paused). The plan file is loaded and checked like `sparky validate`; the run's `revisePlan` update
// then refuses, with every reason, a revision that touches what already ran — or that changes
// approvals, keys, git, notify, baseDir or starters without the signatures of the current approvers'
// quorum. For those: `--statement` prints the revision statement and who must sign it; each signer
// runs ssh-keygen -Y sign -n sparky-gate over it; the signatures go with `--signature FILE… --signed-at
// TIME` (or `--key` signs here, once per key given).
import { readFileSync } from 'node:fs';
import { approverName } from '../common/approvers.ts';
import { buildRevisionStatement, planDigest } from '../common/gate-statement.ts';
import { revisionQuorums } from '../common/revision-signing.ts';
import { changeWords, planChanges } from '../plan/changes.ts';
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import type { Plan } from '../plan/schema.ts';
import { planQuery, statusQuery, type RevisePlanResult } from '../workflows/messages.ts';
import { CliError, connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';
import { expandHome, sshSign } from './ssh-sign.ts';
import { sendUpdate } from './updates.ts';
import { count } from '../common/plural.ts';

export interface ReviseOptions {
  as?: string; comment?: string; statement?: boolean; time?: string; key?: string[]; signature?: string[]; signedAt?: string;
}

export async function reviseCommand(run: string, file: string, opts: ReviseOptions): Promise<number> {
  const loaded = await loadPlanFile(file);
  if (!loaded.ok || !loaded.plan) throw new CliError(`the revised plan is not valid:\n${formatErrors(loaded.errors)}`, 2);
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  const next = loaded.plan;
  const wantsSignatures = opts.statement || opts.key?.length || opts.signature?.length;
  let signed: { signedAt: string; signatures: string[] } | undefined;
  if (wantsSignatures) {
    const { statement, time, needs } = await revisionStatement(handle, next, opts.statement ? opts.time : opts.signedAt);
    if (opts.statement) {
      process.stdout.write(statement);
      console.error([
        '', needs.length ? `Who must sign it: ${needs.join('; ')}` : 'This revision changes nothing that needs signatures: send it without.',
        `Sign it:  npx sparky revise ${handle.workflowId} ${file} --statement --time ${time} > revision.txt`,
        '          ssh-keygen -Y sign -n sparky-gate -f ~/.ssh/id_ed25519 revision.txt',
        `Send it:  npx sparky revise ${handle.workflowId} ${file} --as NAME --signed-at ${time} --signature revision.txt.sig [--signature …]`,
      ].join('\n'));
      return 0;
    }
    if (opts.signature?.length && !opts.signedAt) throw new CliError('--signature needs --signed-at: the time line of the statement that was signed', 2);
    const signatures = [
      ...(opts.signature ?? []).map((f) => readFileSync(expandHome(f), 'utf8')),
      ...await Promise.all((opts.key ?? []).map((k) => sshSign(statement, k))),
    ];
    signed = { signedAt: time, signatures };
  }
  if (!opts.as) throw new CliError('--as NAME: who revises (kept in the audit)', 2);
  const result = await sendUpdate<RevisePlanResult>(handle, 'revisePlan', {
    plan: next, by: opts.as, ...(opts.comment ? { comment: opts.comment } : {}), ...signed,
  });
  console.log(`revision ${result.revision} of ${handle.workflowId} by ${opts.as}${signed ? ` (${count(signed.signatures.length, 'signature')})` : ''}: ${result.changes.join(', ')}`);
  console.log('Nothing reruns by itself: retry a step in attention with `sparky retry` (or recheck a gate).');
  return 0;
}

/** The statement the run will check for this revision, from the plan in force (the `plan` query) and the revised plan. */
async function revisionStatement(handle: Awaited<ReturnType<typeof resolveRun>>, next: Plan, at: string | undefined) {
  let inForce: { plan: unknown; planDigest: string; revision: number };
  try {
    inForce = await handle.query(planQuery);
  } catch (e) {
    throw new CliError(`${handle.workflowId} does not tell its plan in force (a run of release 0.1?): ${(e as Error).message}`, 2);
  }
  const current = inForce.plan as Plan;
  const status = await handle.query(statusQuery);
  const gates = status.phases.flatMap((p) => (p.gate ? [p.gate] : []));
  const time = at ?? new Date().toISOString();
  const changes = planChanges(current, next);
  const statement = buildRevisionStatement({
    plan: current.name, run: status.runWorkflowId, revision: inForce.revision + 1, planDigest: inForce.planDigest, newPlanDigest: planDigest(next),
    changes: changeWords(changes), time,
  });
  const quorums = revisionQuorums({
    current,
    decided: new Set(gates.filter((g) => g.state === 'approved' || g.state === 'merge-conflict').map((g) => g.id)),
    escalated: new Set(gates.filter((g) => g.escalated).map((g) => g.id)),
  }, changes);
  const needs = quorums.map((q) => `${q.need} of ${q.approvers.map(approverName).join(', ')} (gate ${q.gate}: ${q.why.join(', ')})`);
  return { statement, time, needs };
}
