// The one call a gate makes before a decision counts (workflows/gate.ts): the approver's entry in the
// gate's current list (escalated or not), their signature over the statement the run would build
// (plan, plan digest, run, gate, decision, comment, check results, signedAt within the wait), and
// preventSelfApproval. Returns the refusal in words, or what the audit and the record keep. Pure.
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
  /** When the gate began waiting (ISO): a statement made before it is stale. */
  waitingSince?: string;
  /** Workflow time now (ISO). */
  now: string;
  starter?: RunStarter;
}

export interface DecisionFields { approver: string; decision: 'approve' | 'reject'; comment?: string; signature?: string; signedAt?: string }

export type SignedCheck = { ok: true; fingerprint?: string; checksDigest: string } | { ok: false; reason: string };

function shift(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

export function checkSignedDecision(ctx: GateSigningContext, input: DecisionFields): SignedCheck {
  const approval = ctx.gateDef.approval;
  const list = ctx.escalated ? approval?.escalate?.approvers : approval?.approvers;
  const entry = findApprover(list, input.approver);
  if (!entry) return { ok: false, reason: `${input.approver} is not an approver of gate ${ctx.gateDef.id}` };
  const digest = checksDigest(ctx.checks);
  const verified = verifyDecision({
    approverEntry: entry,
    statementFields: {
      plan: ctx.planName, planDigest: ctx.planDigest, run: ctx.runWorkflowId, gate: ctx.gateDef.id,
      decision: input.decision, comment: input.comment ?? '', checksDigest: digest, time: input.signedAt,
    },
    signature: input.signature,
    notBefore: ctx.waitingSince ? shift(ctx.waitingSince, -CLOCK_SKEW_MS) : undefined,
    notAfter: shift(ctx.now, CLOCK_SKEW_MS),
  });
  if (!verified.ok) return verified;
  if (ctx.gateDef.preventSelfApproval) {
    const refusal = selfApprovalRefusal({ gate: ctx.gateDef.id, starter: ctx.starter, approverEntry: entry, decision: input.decision, fingerprint: verified.fingerprint });
    if (refusal) return { ok: false, reason: refusal };
  }
  return { ok: true, fingerprint: verified.fingerprint, checksDigest: digest };
}

/** The run's record of a counted decision (memo `sparkyDecisions`, see signed-decision.ts). */
export function decisionRecord(ctx: GateSigningContext, input: DecisionFields, surface: 'signal' | 'update', check: { fingerprint?: string; checksDigest: string }): DecisionRecord {
  return {
    gate: ctx.gateDef.id, approver: input.approver, decision: input.decision, surface, at: ctx.now,
    ...(input.comment ? { comment: input.comment } : {}),
    ...(input.signedAt !== undefined && input.signature !== undefined ? { signedAt: input.signedAt, signature: input.signature } : {}),
    ...(check.fingerprint ? { fingerprint: check.fingerprint } : {}),
    planDigest: ctx.planDigest, checksDigest: check.checksDigest,
  };
}
