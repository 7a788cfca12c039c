// Re-verifies a run's decisions from its exported history alone, trusting nothing else, with the
// same rules the workflow applies (common/gate-signing.ts, common/revision-signing.ts,
// common/signed-decision.ts): the plan and the starter from the start event (the start signature is
// checked like a decision's), each plan revision from its update, each gate's check results from its
// runGateCheck activities, each decision from the signal or update that carried it, and what counted
// from the run's own record (memo `sparkyDecisions`). Used by `sparky verify` and `sparky attest`.
//
// Runs of release 0.2 (patch `sparky-signed-rounds` in their history) also record each gate round,
// each decided gate and each revision with its signatures, so every decision is checked against its
// round (escalated or not), each signature counts once, and a revision that changed approvals, keys,
// git, notify or baseDir must carry its quorum's signatures. For runs of release 0.1 the same
// signatures are checked, and a decision that verifies only through keys an unsigned revision
// brought fails.
import type { GateCheckResult } from '../common/activity-types.ts';
import { findApprover, type ApproverEntry } from '../common/approvers.ts';
import { checkSignedDecision, CLOCK_SKEW_MS, voteFromSignal } from '../common/gate-signing.ts';
import { buildStatement, checksDigest, planDigest } from '../common/gate-statement.ts';
import { authorizeRevision } from '../common/revision-signing.ts';
import {
  DECISIONS_MEMO_KEY, SIGNED_ROUNDS_PATCH, starterRefusal, verifyDecision, verifyStarter,
  type DecisionRecord, type RevisionRecord, type RunRecord, type RunStarter,
} from '../common/signed-decision.ts';
import { planChanges } from '../plan/changes.ts';
import { resolvePlanPaths } from '../plan/paths.ts';
import type { Plan } from '../plan/schema.ts';
import { describeErrors, validatePlan } from '../plan/validate.ts';
import { attributes, decodePayload, payloadsOf, type JsonEvent } from './history-json.ts';
import { count } from '../common/plural.ts';

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
  /** The gate's round it counted in (runs of 0.2). */
  round?: number;
  statement?: string;
  verdict: Verdict;
  reason?: string;
}

export interface CheckedRevision {
  revision: number;
  by: string;
  eventId: string;
  changes: string[];
  /** signed: its quorum signed it; unsigned: it changed nothing that needs signatures; failed: it did without them. */
  verdict: 'signed' | 'unsigned' | 'failed';
  signers?: { gate: string; approvers: { name: string; fingerprint: string }[] }[];
  reason?: string;
}

export interface CheckedStarter { name: string; fingerprint?: string; verdict: 'verified' | 'unsigned' | 'failed'; reason?: string }

export interface HistoryVerification {
  run: string;
  runId?: string;
  plan: string;
  planDigest: string;
  /** Which rules the run followed: 1 (release 0.1) or 2 (0.2 and later). */
  rules: 1 | 2;
  starter?: CheckedStarter;
  /** Decisions in history order; `failed` ones make the verification fail. */
  decisions: CheckedDecision[];
  revisions: CheckedRevision[];
  /** Problems with the history as a whole (no plan, a record without its decision…). */
  problems: string[];
  /** Whether the run kept a record of counted decisions (runs before signed gates did not). */
  recorded: boolean;
  ok: boolean;
}

interface Collected {
  gate: string; approver: string; decision: 'approve' | 'reject'; comment: string; rework?: string[]; surface: 'signal' | 'update';
  eventId: string; receivedAt?: string; signedAt?: string; signature?: string;
  /** The plan in force (and the plan whose keys may be trusted) when it arrived, and the gate's check results then. */
  planAt?: Plan; trustedAt?: Plan; digestAt: string; checksAt?: GateCheckResult[];
}

interface AppliedRevision { eventId: string; by: string; next?: Plan; error?: string; signedAt?: string; signatures?: string[]; before?: Plan; beforeDigest: string }

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[] : undefined);

function planFrom(raw: unknown): { plan?: Plan; error?: string } {
  const result = validatePlan(raw);
  if (!result.ok) return { error: describeErrors(result.errors) };
  return { plan: resolvePlanPaths(result.plan) };
}

function gateList(plan: Plan | undefined, gateId: string, escalated?: boolean): ApproverEntry[] {
  const approval = plan?.phases.find((p) => p.gate?.id === gateId)?.gate?.approval;
  if (escalated === undefined) return [...(approval?.approvers ?? []), ...(approval?.escalate?.approvers ?? [])];
  return (escalated ? approval?.escalate?.approvers : approval?.approvers) ?? [];
}

/** Whether the history records the patch that marks a run of release 0.2 (workflows/signing.ts): a marker whose data names it. */
function hasPatch(events: JsonEvent[], id: string): boolean {
  return events.some((e) => e.eventType === 'EVENT_TYPE_MARKER_RECORDED'
    && [...JSON.stringify(attributes(e)).matchAll(/"data":"([A-Za-z0-9+/=]*)"/g)].some((m) => Buffer.from(m[1], 'base64').toString('utf8').includes(id)));
}

/** What the report shows of a decision that arrived (the rest was only needed to check it). */
function shown(d: Collected): Omit<CheckedDecision, 'verdict'> {
  return {
    gate: d.gate, approver: d.approver, decision: d.decision, comment: d.comment, surface: d.surface, eventId: d.eventId,
    ...(d.receivedAt ? { receivedAt: d.receivedAt } : {}), ...(d.signedAt ? { signedAt: d.signedAt } : {}), ...(d.signature ? { signature: d.signature } : {}),
  };
}

export function verifyHistory(events: JsonEvent[]): HistoryVerification {
  const problems: string[] = [];
  const started = attributes(events[0] ?? ({} as JsonEvent));
  if (events[0]?.eventType !== 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED') problems.push('the history does not begin with the run\'s start event');
  const run = str(started.workflowId) ?? '(unknown run)';
  const [input] = payloadsOf(started.input) as [{ plan?: unknown; options?: { startedBy?: unknown } } | undefined];
  const first = planFrom(input?.plan);
  if (first.error) problems.push(`the plan in the start event is not valid: ${first.error}`);
  let plan = first.plan;
  let trusted = first.plan;
  let digest = plan ? planDigest(plan) : '(no plan)';
  const rules: 1 | 2 = hasPatch(events, SIGNED_ROUNDS_PATCH) ? 2 : 1;

  // The starter, checked like a decision (its statement names the plan digest and the run).
  let starter: RunStarter | undefined;
  let checkedStarter: CheckedStarter | undefined;
  const startedBy = input?.options?.startedBy;
  if (startedBy !== undefined && plan) {
    const v = verifyStarter(startedBy, { plan: plan.name, planDigest: digest, run });
    const name = str((startedBy as { name?: unknown })?.name) ?? '(none)';
    if (!v.ok) checkedStarter = { name, verdict: 'failed', reason: v.reason };
    else {
      starter = v.starter;
      checkedStarter = { name, ...(v.starter.fingerprint ? { fingerprint: v.starter.fingerprint } : {}), verdict: v.starter.fingerprint ? 'verified' : 'unsigned' };
    }
  }
  // The starter rule: a run of 0.2 that breaks it fails; for a run of release 0.1, which did not enforce
  // it, the report says its preventSelfApproval rests on a name alone.
  if (plan && checkedStarter?.verdict !== 'failed') {
    const why = starterRefusal(plan, starter);
    if (why && rules === 2) checkedStarter = { ...(checkedStarter ?? { name: '(none)' }), verdict: 'failed', reason: why };
    else if (why) checkedStarter = { ...(checkedStarter ?? { name: '(none)', verdict: 'unsigned' as const }), reason: `release 0.1 did not require it, so preventSelfApproval rests on a name alone: ${why}` };
  }

  // Walk the history: check results as they came, decisions and revisions as they arrived.
  const scheduled = new Map<string, { gate: string; check: string }>();
  const latest = new Map<string, Map<string, GateCheckResult>>();
  const checksOf = (gate: string): GateCheckResult[] | undefined => {
    const got = latest.get(gate);
    const def = plan?.phases.find((p) => p.gate?.id === gate)?.gate?.checks ?? [];
    if (def.length === 0) return [];
    if (!got || def.some((c) => !got.has(c.id))) return undefined; // a check did not complete: not reproducible
    return def.map((c) => got.get(c.id)!);
  };
  const pendingRevisions = new Map<string, { eventId: string; input: Record<string, unknown> | undefined }>();
  const collected: Collected[] = [];
  const revisions: AppliedRevision[] = [];
  let records: RunRecord[] | undefined;
  const collect = (inp: Record<string, unknown> | undefined, v: ReturnType<typeof voteFromSignal>, surface: 'signal' | 'update', event: JsonEvent): Collected => {
    const gate = str(v.gate) ?? '(none)';
    return {
      gate, approver: str(v.approver) ?? '(none)', decision: v.decision, comment: str(v.comment) ?? '', rework: strings(v.rework), surface,
      eventId: event.eventId, receivedAt: event.eventTime, signedAt: str(v.signedAt), signature: str(v.signature),
      planAt: plan, trustedAt: trusted, digestAt: digest, checksAt: checksOf(gate),
    };
  };

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
        const [inp] = payloadsOf(a.input) as [Record<string, unknown> | undefined];
        collected.push(collect(inp, voteFromSignal(name, inp), 'signal', event));
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED': {
        const req = a.acceptedRequest as { input?: { name?: string; args?: unknown }; meta?: { updateId?: string } } | undefined;
        const name = req?.input?.name;
        const [inp] = payloadsOf(req?.input?.args) as [Record<string, unknown> | undefined];
        if (name === 'decideGate') {
          const decision = inp?.decision === 'reject' ? 'reject' : 'approve';
          collected.push(collect(inp, { ...(inp ?? {}), decision } as ReturnType<typeof voteFromSignal>, 'update', event));
        } else if (name === 'revisePlan' && req?.meta?.updateId) {
          pendingRevisions.set(req.meta.updateId, { eventId: event.eventId, input: inp });
        }
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED': {
        const id = (a.meta as { updateId?: string } | undefined)?.updateId;
        const pending = id ? pendingRevisions.get(id) : undefined;
        if (pending && (a.outcome as { success?: unknown } | undefined)?.success) {
          const revised = planFrom(pending.input?.plan);
          const applied: AppliedRevision = {
            eventId: pending.eventId, by: str(pending.input?.by) ?? '(none)', before: plan, beforeDigest: digest,
            signedAt: str(pending.input?.signedAt), signatures: strings(pending.input?.signatures),
            ...(revised.plan ? { next: revised.plan } : { error: revised.error }),
          };
          revisions.push(applied);
          if (revised.plan) {
            plan = revised.plan; digest = planDigest(plan);
            // Rules of 0.1 took any revision: its guarded changes are not trusted (the records walk decides for 0.2).
            if (rules === 1 && applied.before && !planChanges(applied.before, revised.plan).some((c) => c.guard)) trusted = revised.plan;
          } else problems.push(`an accepted plan revision is not valid: ${revised.error}`);
        }
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED': {
        const fields = (a.upsertedMemo as { fields?: Record<string, unknown> } | undefined)?.fields;
        if (fields && DECISIONS_MEMO_KEY in fields) records = decodePayload(fields[DECISIONS_MEMO_KEY] as never) as RunRecord[];
        break;
      }
    }
  }

  const decisionRecords = (records ?? []).filter((r): r is DecisionRecord => r.kind === undefined || r.kind === 'decision');
  const paired = pairRecords(collected, decisionRecords, records !== undefined);
  for (const r of paired.unmatched) problems.push(`the run recorded a decision (${r.gate}: ${r.decision} by ${r.approver}) that no signal or update in the history carries`);
  const checkedRevisions = rules === 2
    ? verifyRevisionsV2(run, first.plan, revisions, records ?? [], problems)
    : revisions.map((r, i) => legacyRevision(r, i + 1));
  const ctx = { run, starter, records: records ?? [], rules };
  const decisions = rules === 2 ? verifyV2(ctx, first.plan, collected, paired, checkedRevisions, revisions, problems) : collected.map((d, i) => verifyV1(d, paired.of[i], paired.exact[i] !== undefined, run, records !== undefined));
  if (checkedStarter?.verdict === 'failed') problems.push(`the run's starter ${checkedStarter.name}: ${checkedStarter.reason}`);
  return {
    run, runId: str(started.originalExecutionRunId), plan: plan?.name ?? '(unknown)', planDigest: digest, rules,
    ...(checkedStarter ? { starter: checkedStarter } : {}),
    decisions, revisions: checkedRevisions, problems, recorded: records !== undefined,
    ok: problems.length === 0 && decisions.every((d) => d.verdict !== 'failed') && checkedRevisions.every((r) => r.verdict !== 'failed'),
  };
}

/**
 * Pairs each decision that arrived with the run's record of it: exactly first, then (a changed
 * signature or comment) by who decided what, where, and how it arrived; such a pair fails later.
 */
function pairRecords(decisions: Collected[], records: DecisionRecord[], recorded: boolean) {
  const unmatched = [...records];
  const take = (pred: (r: DecisionRecord) => boolean) => {
    const i = unmatched.findIndex(pred);
    return i >= 0 ? unmatched.splice(i, 1)[0] : undefined;
  };
  const same = (r: DecisionRecord, d: Collected) => r.gate === d.gate && r.approver === d.approver && r.decision === d.decision && r.surface === d.surface;
  const exact = decisions.map((d) => take((r) => same(r, d) && (r.signature ?? '') === (d.signature ?? '') && (r.comment ?? '') === d.comment));
  const of: (DecisionRecord | undefined)[] = [...exact];
  const near: ((r: DecisionRecord, d: Collected) => boolean)[] = [
    (r, d) => (r.signature ?? '') === (d.signature ?? ''), // the comment changed
    (r, d) => (r.comment ?? '') === d.comment, // the signature changed
    () => true,
  ];
  for (const close of near) {
    decisions.forEach((d, i) => { if (!of[i] && (d.surface === 'update' || recorded)) of[i] = take((r) => same(r, d) && close(r, d)); });
  }
  return { exact, of, unmatched };
}

function statementOf(fields: Parameters<typeof buildStatement>[0] | undefined): string | undefined {
  try { return fields && fields.time ? buildStatement(fields) : undefined; } catch { return undefined; }
}

/** Rules of 0.1: the signature over the v1 statement; keys an unsigned revision brought are not trusted. */
function verifyV1(d: Collected, record: DecisionRecord | undefined, exact: boolean, run: string, recorded: boolean): CheckedDecision {
  const entry = findApprover(gateList(d.planAt, d.gate), d.approver);
  const trustedEntry = findApprover(gateList(d.trustedAt, d.gate), d.approver);
  const theChecks = d.checksAt === undefined ? undefined : checksDigest(d.checksAt);
  const cDigest = theChecks ?? record?.checksDigest;
  const fields = { plan: d.planAt?.name ?? '', planDigest: d.digestAt, run, gate: d.gate, decision: d.decision, comment: d.comment, checksDigest: cDigest ?? '(unknown)', time: d.signedAt };
  let result = entry ? verifyDecision({ approverEntry: entry, statementFields: fields, signature: d.signature }) : { ok: false as const, reason: `${d.approver} is not an approver of ${d.gate} in the plan` };
  if (result.ok && result.signed && d.trustedAt !== d.planAt) {
    const trustedResult = trustedEntry ? verifyDecision({ approverEntry: trustedEntry, statementFields: fields, signature: d.signature }) : undefined;
    if (!trustedResult?.ok) {
      result = { ok: false, reason: `it verifies only with a key an unsigned plan revision gave ${d.approver} (${trustedResult && !trustedResult.ok ? trustedResult.reason : 'not an approver before it'}): a revision of keys must be signed by the gate's approvers` };
    }
  }
  const counted = d.surface === 'update' || (recorded ? record !== undefined : result.ok);
  let verdict: Verdict;
  let reason: string | undefined;
  if (!counted) { verdict = 'ignored'; reason = result.ok ? 'the run did not count it' : result.reason; }
  else if (!result.ok) { verdict = 'failed'; reason = result.reason; }
  else if (record !== undefined && !exact) { verdict = 'failed'; reason = 'its signature or comment differs from the run\'s record of it'; }
  else if (!result.signed) { verdict = 'unsigned'; reason = 'no key for this approver in the plan'; }
  else {
    verdict = 'verified';
    if (theChecks === undefined && cDigest !== undefined) reason = 'check results taken from the run\'s record (a check activity did not complete, so they cannot be recomputed)';
    if (record?.checksDigest && theChecks && record.checksDigest !== theChecks) { verdict = 'failed'; reason = 'the run recorded other check results than its check activities returned'; }
    if (d.signedAt && d.receivedAt && Date.parse(d.signedAt) > Date.parse(d.receivedAt) + CLOCK_SKEW_MS) { verdict = 'failed'; reason = `signed at ${d.signedAt}, after the run received it (${d.receivedAt})`; }
  }
  return { ...shown(d), statement: statementOf(fields.time ? { ...fields, time: fields.time } : undefined), ...(result.ok && result.fingerprint ? { fingerprint: result.fingerprint } : {}), verdict, ...(reason ? { reason } : {}) };
}

function legacyRevision(r: AppliedRevision, n: number): CheckedRevision {
  const changes = r.before && r.next ? planChanges(r.before, r.next) : [];
  const guarded = changes.filter((c) => c.guard);
  return {
    revision: n, by: r.by, eventId: r.eventId, changes: changes.map((c) => c.what),
    verdict: guarded.length ? 'failed' : 'unsigned',
    ...(guarded.length ? { reason: `unsigned, yet it changed ${guarded.map((c) => c.what).join(', ')} (a run of release 0.1 took revisions unsigned: keys and approvals it brought are not trusted)` } : {}),
  };
}

/** Rules of 0.2: each revision against the quorum of the gates' current approvers, in the order the run recorded them. */
function verifyRevisionsV2(run: string, start: Plan | undefined, revisions: AppliedRevision[], records: RunRecord[], problems: string[]): CheckedRevision[] {
  const recorded = records.filter((r): r is RevisionRecord => r.kind === 'revision');
  if (recorded.length !== revisions.length) problems.push(`the history holds ${count(revisions.length, 'accepted revision')}, the run recorded ${recorded.length}`);
  const decided = new Set<string>();
  const escalated = new Set<string>();
  let current = start;
  const out: CheckedRevision[] = [];
  let k = 0;
  for (const rec of records) {
    if (rec.kind === 'decided' && rec.state === 'approved') decided.add(rec.gate);
    if (rec.kind === 'round') { if (rec.escalated) escalated.add(rec.gate); else escalated.delete(rec.gate); }
    if (rec.kind !== 'revision') continue;
    const applied = revisions[k];
    k += 1;
    if (!applied || !applied.next || !current) { out.push({ revision: rec.revision, by: rec.by, eventId: applied?.eventId ?? '?', changes: rec.changes, verdict: 'failed', reason: 'no accepted revision in the history matches the run\'s record' }); continue; }
    const next = applied.next;
    const auth = authorizeRevision({
      current, next, run, revision: rec.revision, planDigest: planDigest(current), newPlanDigest: planDigest(next),
      // Signatures counted once: a revision statement names its revision and digests, so no other signature can match it.
      decided, escalated, now: rec.at,
    }, { signedAt: applied.signedAt, signatures: applied.signatures });
    const base = { revision: rec.revision, by: applied.by, eventId: applied.eventId, changes: auth.changes.map((c) => c.what) };
    if (rec.newPlanDigest !== planDigest(next) || rec.planDigest !== planDigest(current)) out.push({ ...base, verdict: 'failed', reason: 'the run recorded other plan digests than the revision carries' });
    else if (!auth.ok) out.push({ ...base, verdict: 'failed', reason: auth.reason });
    else out.push({ ...base, verdict: auth.quorums.length ? 'signed' : 'unsigned', ...(auth.quorums.length ? { signers: auth.signers } : {}) });
    current = next;
  }
  return out;
}

/** Rules of 0.2: every counted decision against its gate's round, its list (escalated or not), its statement, and signatures counted once. */
function verifyV2(ctx: { run: string; starter?: RunStarter; records: RunRecord[] }, start: Plan | undefined, collected: Collected[],
  paired: ReturnType<typeof pairRecords>, revisions: CheckedRevision[], applied: AppliedRevision[], problems: string[]): CheckedDecision[] {
  // A decision the run did not count: why, as far as the signature tells (the run's own reason is in its status audit).
  const out: CheckedDecision[] = collected.map((d) => {
    const entry = findApprover(gateList(d.planAt, d.gate), d.approver);
    const check = entry ? verifyDecision({ approverEntry: entry, statementFields: { plan: d.planAt?.name ?? '', planDigest: d.digestAt, run: ctx.run, gate: d.gate, decision: d.decision, comment: d.comment, checksDigest: '', time: d.signedAt }, signature: d.signature }) : undefined;
    const why = !entry ? `${d.approver} is not an approver of ${d.gate} in the plan` : check && !check.ok && !/does not match the statement/.test(check.reason) ? check.reason : 'the run did not count it';
    return { ...shown(d), verdict: 'ignored' as Verdict, reason: why };
  });
  const rounds = new Map<string, { round: number; escalated: boolean; since: string; checksDigest: string }>();
  const used = new Set<string>();
  let inForce = start;
  let trusted = start;
  let revisionsSeen = 0;
  for (const rec of ctx.records) {
    if (rec.kind === 'round') {
      const prev = rounds.get(rec.gate)?.round ?? 0;
      if (rec.round !== prev + 1) problems.push(`gate ${rec.gate}: the run recorded round ${rec.round} after round ${prev}`);
      rounds.set(rec.gate, { round: rec.round, escalated: rec.escalated, since: rec.at, checksDigest: rec.checksDigest });
      continue;
    }
    if (rec.kind === 'revision') {
      const next = applied[revisionsSeen]?.next;
      if (next) inForce = next;
      if (revisions[revisionsSeen]?.verdict !== 'failed' && next) trusted = next;
      revisionsSeen += 1;
      continue;
    }
    if (rec.kind !== undefined && rec.kind !== 'decision') continue;
    const i = paired.of.indexOf(rec);
    if (i < 0) continue; // reported as a problem already
    const d = collected[i];
    const round = rounds.get(rec.gate);
    const mark = (verdict: Verdict, reason?: string, extra: Partial<CheckedDecision> = {}) => { out[i] = { ...out[i], verdict, ...(reason ? { reason } : { reason: undefined }), ...extra }; };
    if (paired.exact[i] === undefined) { mark('failed', 'its signature or comment differs from the run\'s record of it'); continue; }
    if (!round) { mark('failed', `the run recorded no round for gate ${rec.gate} before this decision`); continue; }
    if (rec.round !== round.round) { mark('failed', `the run counted it in round ${rec.round} of gate ${rec.gate}, which was in round ${round.round}`, { round: rec.round }); continue; }
    const gateDef = trusted?.phases.find((p) => p.gate?.id === rec.gate)?.gate;
    if (!gateDef || !inForce) { mark('failed', `gate ${rec.gate} is not in the plan`); continue; }
    const theChecks = d.checksAt === undefined ? undefined : checksDigest(d.checksAt);
    if (theChecks !== undefined && theChecks !== round.checksDigest) { mark('failed', 'the run recorded other check results than its check activities returned'); continue; }
    const digest = planDigest(inForce);
    if (rec.planDigest !== digest) { mark('failed', 'the run recorded another plan digest than the plan in force'); continue; }
    const result = checkSignedDecision({
      planName: inForce.name, planDigest: digest, runWorkflowId: ctx.run, gateDef, escalated: round.escalated, checks: [], checksDigest: round.checksDigest,
      waitingSince: round.since, now: rec.at, starter: ctx.starter, round: round.round, used,
    }, { approver: d.approver, decision: d.decision, comment: d.comment, rework: d.rework, signature: d.signature, signedAt: d.signedAt });
    if (!result.ok) {
      const inForceList = gateList(inForce, rec.gate, round.escalated);
      const why = trusted !== inForce && findApprover(inForceList, d.approver) ? `${result.reason} (keys from an unsigned revision are not trusted)` : result.reason;
      mark('failed', why, { round: round.round });
      continue;
    }
    if (result.signatureId) used.add(result.signatureId);
    const statement = statementOf(d.signedAt ? {
      plan: inForce.name, planDigest: digest, run: ctx.run, gate: d.gate, round: round.round, decision: d.decision, comment: d.comment,
      rework: d.rework ?? [], checksDigest: round.checksDigest, time: d.signedAt,
    } : undefined);
    const late = d.signedAt && d.receivedAt && Date.parse(d.signedAt) > Date.parse(d.receivedAt) + CLOCK_SKEW_MS;
    if (late) { mark('failed', `signed at ${d.signedAt}, after the run received it (${d.receivedAt})`); continue; }
    mark(result.fingerprint ? 'verified' : 'unsigned', result.fingerprint ? undefined : 'no key for this approver in the plan',
      { round: round.round, ...(result.fingerprint ? { fingerprint: result.fingerprint } : {}), ...(statement ? { statement } : {}) });
  }
  // An update that the run did not record still counted (its validator let it through): it must have been recorded.
  out.forEach((d, i) => {
    if (collected[i].surface === 'update' && paired.of[i] === undefined) out[i] = { ...d, verdict: 'failed', reason: 'an accepted decision the run did not record' };
  });
  return out;
}
