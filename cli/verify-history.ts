// Re-verifies every gate decision of a run from its exported history alone, trusting nothing else:
// the plan (and so the approvers' keys and the plan digest) from the start event and any accepted
// plan revision, the run id from the start event, each gate's check results from its runGateCheck
// activities, each decision from the signal or update that carried it, and which decisions counted
// from the run's own record (memo `sparkyDecisions`). Used by `sparky verify` and `sparky attest`.
import type { GateCheckResult } from '../common/activity-types.ts';
import { findApprover, type ApproverEntry } from '../common/approvers.ts';
import { buildStatement, checksDigest, planDigest } from '../common/gate-statement.ts';
import { DECISIONS_MEMO_KEY, verifyDecision, type DecisionRecord } from '../common/signed-decision.ts';
import { resolvePlanPaths } from '../plan/paths.ts';
import type { Plan } from '../plan/schema.ts';
import { describeErrors, validatePlan } from '../plan/validate.ts';
import { attributes, decodePayload, payloadsOf, type JsonEvent } from './history-json.ts';

export type Verdict = 'verified' | 'unsigned' | 'failed' | 'ignored';

export interface CheckedDecision {
  gate: string;
  approver: string;
  decision: 'approve' | 'reject';
  comment: string;
  surface: 'signal' | 'update';
  eventId: string;
  receivedAt?: string;
  signedAt?: string;
  signature?: string;
  fingerprint?: string;
  statement?: string;
  verdict: Verdict;
  reason?: string;
}

export interface HistoryVerification {
  run: string;
  runId?: string;
  plan: string;
  planDigest: string;
  /** Decisions in history order; `failed` ones make the verification fail. */
  decisions: CheckedDecision[];
  /** Problems with the history as a whole (no plan, a record without its decision…). */
  problems: string[];
  /** Whether the run kept a record of counted decisions (runs before signed gates did not). */
  recorded: boolean;
  ok: boolean;
}

interface DecisionInput { gate?: unknown; approver?: unknown; decision?: unknown; comment?: unknown; reason?: unknown; signature?: unknown; signedAt?: unknown }

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function planFrom(raw: unknown): { plan?: Plan; error?: string } {
  const result = validatePlan(raw);
  if (!result.ok) return { error: describeErrors(result.errors) };
  return { plan: resolvePlanPaths(result.plan) };
}

function gateApprovers(plan: Plan | undefined, gateId: string): ApproverEntry[] {
  const approval = plan?.phases.find((p) => p.gate?.id === gateId)?.gate?.approval;
  return [...(approval?.approvers ?? []), ...(approval?.escalate?.approvers ?? [])];
}

export function verifyHistory(events: JsonEvent[]): HistoryVerification {
  const problems: string[] = [];
  const started = attributes(events[0] ?? ({} as JsonEvent));
  if (events[0]?.eventType !== 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED') problems.push('the history does not begin with the run\'s start event');
  const run = str(started.workflowId) ?? '(unknown run)';
  const [input] = payloadsOf(started.input) as [{ plan?: unknown } | undefined];
  let { plan, error } = planFrom(input?.plan);
  if (error) problems.push(`the plan in the start event is not valid: ${error}`);
  let digest = plan ? planDigest(plan) : '(no plan)';

  const scheduled = new Map<string, { gate: string; check: string }>();
  const latest = new Map<string, Map<string, GateCheckResult>>();
  const checksOf = (gate: string): GateCheckResult[] | undefined => {
    const got = latest.get(gate);
    const def = plan?.phases.find((p) => p.gate?.id === gate)?.gate?.checks ?? [];
    if (def.length === 0) return [];
    if (!got || def.some((c) => !got.has(c.id))) return undefined; // a check did not complete: not reproducible
    return def.map((c) => got.get(c.id)!);
  };

  const pendingRevisions = new Map<string, unknown>();
  const decisions: (CheckedDecision & { planAt?: Plan; digestAt: string; checksAt?: GateCheckResult[] })[] = [];
  let records: DecisionRecord[] | undefined;

  for (const event of events) {
    const a = attributes(event);
    switch (event.eventType) {
      case 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED': {
        if ((a.activityType as { name?: string })?.name !== 'runGateCheck') break;
        const [inp] = payloadsOf(a.input) as [{ check?: { id?: string }; ctx?: { gateId?: string } }];
        if (inp?.check?.id && inp.ctx?.gateId) scheduled.set(event.eventId, { gate: inp.ctx.gateId, check: inp.check.id });
        break;
      }
      case 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED': {
        const which = scheduled.get(String(a.scheduledEventId));
        if (!which) break;
        const [result] = payloadsOf(a.result) as [GateCheckResult];
        if (!latest.has(which.gate)) latest.set(which.gate, new Map());
        latest.get(which.gate)!.set(which.check, result);
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED': {
        const name = str(a.signalName);
        if (name !== 'approveGate' && name !== 'rejectGate') break;
        const [inp] = payloadsOf(a.input) as [DecisionInput | undefined];
        const decision = name === 'approveGate' ? 'approve' : 'reject';
        const comment = str(decision === 'approve' ? inp?.comment : inp?.reason ?? inp?.comment) ?? '';
        decisions.push(entry(inp, decision, comment, 'signal', event));
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED': {
        const req = a.acceptedRequest as { input?: { name?: string; args?: unknown }; meta?: { updateId?: string } } | undefined;
        const name = req?.input?.name;
        const [inp] = payloadsOf(req?.input?.args) as [DecisionInput & { plan?: unknown } | undefined];
        if (name === 'decideGate') {
          const decision = inp?.decision === 'reject' ? 'reject' : 'approve';
          decisions.push(entry(inp, decision, str(inp?.comment) ?? '', 'update', event));
        } else if (name === 'revisePlan' && req?.meta?.updateId) {
          pendingRevisions.set(req.meta.updateId, inp?.plan);
        }
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED': {
        const id = (a.meta as { updateId?: string } | undefined)?.updateId;
        if (id && pendingRevisions.has(id) && (a.outcome as { success?: unknown } | undefined)?.success) {
          const revised = planFrom(pendingRevisions.get(id));
          if (revised.plan) { plan = revised.plan; digest = planDigest(plan); } else problems.push(`an accepted plan revision is not valid: ${revised.error}`);
        }
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED': {
        const fields = (a.upsertedMemo as { fields?: Record<string, unknown> } | undefined)?.fields;
        if (fields && DECISIONS_MEMO_KEY in fields) records = decodePayload(fields[DECISIONS_MEMO_KEY] as never) as DecisionRecord[];
        break;
      }
    }
  }

  function entry(inp: DecisionInput | undefined, decision: 'approve' | 'reject', comment: string, surface: 'signal' | 'update', event: JsonEvent) {
    const gate = str(inp?.gate) ?? '(none)';
    return {
      gate, approver: str(inp?.approver) ?? '(none)', decision, comment, surface, eventId: event.eventId, receivedAt: event.eventTime,
      signedAt: str(inp?.signedAt), signature: str(inp?.signature), verdict: 'ignored' as Verdict,
      planAt: plan, digestAt: digest, checksAt: checksOf(gate),
    };
  }

  // Which decisions counted: the run's record when it kept one; before that, accepted updates and
  // signals that pass the checks here (a signal the run ignored cannot be told apart without it).
  // Pair each decision with the run's record of it: exactly first, then (a changed signature or
  // comment) by who decided what, where, and how it arrived; such a pair fails below.
  const unmatched = [...(records ?? [])];
  const take = (pred: (r: DecisionRecord) => boolean) => {
    const i = unmatched.findIndex(pred);
    return i >= 0 ? unmatched.splice(i, 1)[0] : undefined;
  };
  const same = (r: DecisionRecord, d: CheckedDecision) => r.gate === d.gate && r.approver === d.approver && r.decision === d.decision && r.surface === d.surface;
  const exact = decisions.map((d) => take((r) => same(r, d) && (r.signature ?? '') === (d.signature ?? '') && (r.comment ?? '') === d.comment));
  const paired: (DecisionRecord | undefined)[] = [...exact];
  const near: ((r: DecisionRecord, d: CheckedDecision) => boolean)[] = [
    (r, d) => (r.signature ?? '') === (d.signature ?? ''), // the comment changed
    (r, d) => (r.comment ?? '') === d.comment, // the signature changed
    () => true,
  ];
  for (const close of near) {
    decisions.forEach((d, i) => { if (!paired[i] && (d.surface === 'update' || records)) paired[i] = take((r) => same(r, d) && close(r, d)); });
  }
  const out: CheckedDecision[] = decisions.map((d, i) => {
    const { planAt, digestAt, checksAt, ...base } = d;
    const approverEntry = findApprover(gateApprovers(planAt, d.gate), d.approver);
    const record = paired[i];
    const differs = record !== undefined && exact[i] === undefined;
    const theChecks = checksAt === undefined ? undefined : checksDigest(checksAt);
    const cDigest = theChecks ?? record?.checksDigest;
    const fields = { plan: planAt?.name ?? '', planDigest: digestAt, run, gate: d.gate, decision: d.decision, comment: d.comment, checksDigest: cDigest ?? '(unknown)', time: d.signedAt };
    const result = approverEntry ? verifyDecision({ approverEntry, statementFields: fields, signature: d.signature }) : { ok: false as const, reason: `${d.approver} is not an approver of ${d.gate} in the plan` };
    let statement: string | undefined;
    try { statement = d.signedAt ? buildStatement({ ...fields, time: d.signedAt }) : undefined; } catch { statement = undefined; }
    // An accepted update always counted (its validator let it through); a signal counted when the run recorded it.
    const counted = d.surface === 'update' || (records ? record !== undefined : result.ok);
    let verdict: Verdict;
    let reason: string | undefined;
    if (!counted) { verdict = 'ignored'; reason = result.ok ? 'the run did not count it' : result.reason; }
    else if (!result.ok) { verdict = 'failed'; reason = result.reason; }
    else if (differs) { verdict = 'failed'; reason = 'its signature or comment differs from the run\'s record of it'; }
    else if (!result.signed) { verdict = 'unsigned'; reason = 'no key for this approver in the plan'; }
    else {
      verdict = 'verified';
      if (theChecks === undefined && cDigest !== undefined) reason = 'check results taken from the run\'s record (a check activity did not complete, so they cannot be recomputed)';
      if (record?.checksDigest && theChecks && record.checksDigest !== theChecks) { verdict = 'failed'; reason = 'the run recorded other check results than its check activities returned'; }
      if (d.signedAt && d.receivedAt && Date.parse(d.signedAt) > Date.parse(d.receivedAt) + 5 * 60_000) { verdict = 'failed'; reason = `signed at ${d.signedAt}, after the run received it (${d.receivedAt})`; }
    }
    return { ...base, statement, ...(result.ok && result.fingerprint ? { fingerprint: result.fingerprint } : {}), verdict, ...(reason ? { reason } : {}) };
  });
  for (const r of unmatched) problems.push(`the run recorded a decision (${r.gate}: ${r.decision} by ${r.approver}) that no signal or update in the history carries`);
  return {
    run, runId: str(started.originalExecutionRunId), plan: plan?.name ?? '(unknown)', planDigest: digest, decisions: out, problems,
    recorded: records !== undefined, ok: problems.length === 0 && out.every((d) => d.verdict !== 'failed'),
  };
}
