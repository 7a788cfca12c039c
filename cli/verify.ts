// `sparky verify <run | history.json>`: re-verifies every gate decision of a run from its exported
// history alone (cli/verify-history.ts) and prints, per gate, who decided, with which key
// fingerprint, and whether it verifies. Exit 0 when every counted decision verifies, 5 otherwise.
import { loadHistory } from './history-json.ts';
import { verifyHistory, type CheckedDecision } from './verify-history.ts';
import { count } from '../common/plural.ts';

const MARK: Record<CheckedDecision['verdict'], string> = { verified: '✔ verified', unsigned: '· unsigned', failed: '✖ FAILED', ignored: '- ignored' };

export async function verifyCommand(arg: string, opts: { json?: boolean }): Promise<number> {
  const history = await loadHistory(arg);
  const report = verifyHistory(history.events);
  if (opts.json) {
    console.log(JSON.stringify(report, null, 2));
    return report.ok ? 0 : 5;
  }
  console.log(`run ${report.run}  plan ${report.plan}  ${report.planDigest}  (from ${history.source}; rules of release ${report.rules === 2 ? '0.2' : '0.1'})`);
  if (report.starter) {
    const s = report.starter;
    console.log(`started by ${s.name}${s.fingerprint ? ` with ${s.fingerprint}` : ''}: ${s.verdict === 'verified' ? '✔ signed' : s.verdict === 'unsigned' ? '· unsigned' : '✖ FAILED'}${s.reason ? ` (${s.reason})` : ''}`);
  }
  for (const r of report.revisions) {
    const mark = r.verdict === 'signed' ? '✔ signed' : r.verdict === 'unsigned' ? '· unsigned' : '✖ FAILED';
    const by = r.signers?.map((g) => `${g.gate}: ${g.approvers.map((a) => `${a.name} with ${a.fingerprint}`).join(', ')}`).join('; ');
    console.log(`revision ${r.revision} by ${r.by} (event ${r.eventId}): ${mark}${by ? ` by ${by}` : ''} — ${r.changes.join(', ') || 'no changes'}${r.reason ? `: ${r.reason}` : ''}`);
  }
  const gates = [...new Set(report.decisions.map((d) => d.gate))];
  if (gates.length === 0) console.log('  no gate decisions in this history');
  for (const gate of gates) {
    console.log(`gate ${gate}`);
    for (const d of report.decisions.filter((x) => x.gate === gate)) {
      console.log(`  ${MARK[d.verdict].padEnd(11)} ${d.decision.padEnd(7)} by ${d.approver}${d.fingerprint ? ` with ${d.fingerprint}` : ''}`
        + ` (${d.surface}, event ${d.eventId}${d.round !== undefined ? `, round ${d.round}` : ''}${d.signedAt ? `, signed ${d.signedAt}` : ''})${d.reason ? `: ${d.reason}` : ''}`);
    }
  }
  for (const p of report.problems) console.log(`✖ ${p}`);
  if (!report.recorded) console.log('note: the run recorded no signed decision (memo sparkyDecisions): signals are judged by their signatures alone');
  const failed = report.decisions.filter((d) => d.verdict === 'failed').length + report.revisions.filter((r) => r.verdict === 'failed').length + report.problems.length;
  console.log(failed === 0 ? 'every gate decision verifies' : `${count(failed, 'problem')}: the record does not verify`);
  return failed === 0 ? 0 : 5;
}
