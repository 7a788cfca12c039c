// The one call a gate makes before a decision counts (workflows/decisions/gate-vote.ts), and the one
// `sparky verify` makes again from the history: the approver's entry in the gate's current list
// (escalated or not), their signature over the statement the run would build (plan, plan digest,
// run, gate, round, decision, comment, rework list, check results, signedAt within the round), a
// signature never counted before in this run, and preventSelfApproval. Returns the refusal in words,
// or what the audit and the record keep. Pure.
import type { GateCheckResult } from './activity-types.ts';
import { findApprover } from './approvers.ts';
import { checksDigest } from './gate-statement.ts';
import { selfApprovalRefusal, verifyDecision, type DecisionRecord, type RunStarter } from './signed-decision.ts';
import type { Gate } from '../plan/schema.ts';

/** Clocks differ between a laptop and the server: a statement may be this much early or late. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export interface GateSigningContext {
  planName: string;
  planDigest: string;
  runWorkflowId: string;
  gateDef: Gate;
  escalated: boolean;
  checks: readonly GateCheckResult[];
  /** The digest of the checks when the results themselves are not at hand (`sparky verify` from a record). */
  checksDigest?: string;
  /** When the gate's round began (ISO): a statement made before it is stale. */
  waitingSince?: string;
  /** The gate's round (rules of release 0.2): the statement names it. Undefined: a run of release 0.1 (v1 statements). */
  round?: number;
  /** Ids of signatures that already counted in this run (signatureId): each counts once. */
  used?: ReadonlySet<string>;
  /** Workflow time now (ISO). */
  now: string;
  starter?: RunStarter;
}

export interface DecisionFields { approver: string; decision: 'approve' | 'reject'; comment?: string; rework?: readonly string[]; signature?: string; signedAt?: string }

export type SignedCheck = { ok: true; fingerprint?: string; checksDigest: string; signatureId?: string } | { ok: false; reason: string };

function shift(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

export function checkSignedDecision(ctx: GateSigningContext, input: DecisionFields): SignedCheck {
  const approval = ctx.gateDef.approval;
  const list = ctx.escalated ? approval?.escalate?.approvers : approval?.approvers;
  const entry = findApprover(list, input.approver);
  if (!entry) return { ok: false, reason: `${input.approver} is not an approver of gate ${ctx.gateDef.id}` };
  const digest = ctx.checksDigest ?? checksDigest(ctx.checks);
  const verified = verifyDecision({
    approverEntry: entry,
    statementFields: {
      plan: ctx.planName, planDigest: ctx.planDigest, run: ctx.runWorkflowId, gate: ctx.gateDef.id,
      decision: input.decision, comment: input.comment ?? '', checksDigest: digest, time: input.signedAt,
      ...(ctx.round !== undefined ? { round: ctx.round, rework: input.rework ?? [] } : {}),
    },
    signature: input.signature,
    notBefore: ctx.waitingSince ? shift(ctx.waitingSince, -CLOCK_SKEW_MS) : undefined,
    notAfter: shift(ctx.now, CLOCK_SKEW_MS),
  });
  if (!verified.ok) return verified;
  const id = verified.signed ? verified.signatureId : undefined;
  if (id !== undefined && ctx.used?.has(id)) {
    return { ok: false, reason: `this signature already counted in this run: each signed decision counts once (sign a new statement: \`sparky statement ${ctx.runWorkflowId} ${ctx.gateDef.id} --decision ${input.decision}\`)` };
  }
  if (ctx.gateDef.preventSelfApproval) {
    const refusal = selfApprovalRefusal({ gate: ctx.gateDef.id, starter: ctx.starter, approverEntry: entry, decision: input.decision, fingerprint: verified.fingerprint });
    if (refusal) return { ok: false, reason: refusal };
  }
  return { ok: true, fingerprint: verified.fingerprint, checksDigest: digest, ...(id !== undefined ? { signatureId: id } : {}) };
}

/** The run's record of a counted decision (memo `sparkyDecisions`, see signed-decision.ts). */
export function decisionRecord(ctx: GateSigningContext, input: DecisionFields, surface: 'signal' | 'update', check: { fingerprint?: string; checksDigest: string }): DecisionRecord {
  return {
    gate: ctx.gateDef.id, approver: input.approver, decision: input.decision, surface, at: ctx.now,
    ...(input.comment ? { comment: input.comment } : {}),
    ...(ctx.round !== undefined ? { round: ctx.round } : {}),
    ...(input.decision === 'reject' && input.rework?.length ? { rework: [...input.rework] } : {}),
    ...(input.signedAt !== undefined && input.signature !== undefined ? { signedAt: input.signedAt, signature: input.signature } : {}),
    ...(check.fingerprint ? { fingerprint: check.fingerprint } : {}),
    planDigest: ctx.planDigest, checksDigest: check.checksDigest,
  };
}

/**
 * A vote as the run reads it from the signals approveGate / rejectGate (a rejection's `reason` is its
 * comment) — the one mapping the workflow and `sparky verify` share.
 */
export function voteFromSignal(name: 'approveGate' | 'rejectGate', msg: Record<string, unknown> | undefined):
  { gate?: unknown; approver?: unknown; decision: 'approve' | 'reject'; comment?: unknown; rework?: unknown; signature?: unknown; signedAt?: unknown } {
  const signed = msg?.signature !== undefined || msg?.signedAt !== undefined ? { signature: msg?.signature, signedAt: msg?.signedAt } : {};
  return name === 'approveGate'
    ? { gate: msg?.gate, approver: msg?.approver, comment: msg?.comment, decision: 'approve', ...signed }
    : { gate: msg?.gate, approver: msg?.approver, comment: msg?.reason, decision: 'reject', rework: msg?.rework, ...signed };
}
