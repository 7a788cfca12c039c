// Signed gate decisions inside the run: the plan digest (of the plan in force) and the verified starter; the
// check every decision passes before it counts (common/gate-signing.ts); and the run's record of
// counted decisions, upserted to the memo `sparkyDecisions` so `sparky verify` can tell them from
// ignored signals using the history alone. Deterministic: pure-JS ed25519/sha2, workflow time.
import { ApplicationFailure, upsertMemo } from '@temporalio/workflow';
import { approverKeys, approverName } from '../common/approvers.ts';
import { checkSignedDecision, decisionRecord, type DecisionFields, type GateSigningContext, type SignedCheck } from '../common/gate-signing.ts';
import { planDigest } from '../common/gate-statement.ts';
import { DECISIONS_MEMO_KEY, verifyStarter, type DecisionRecord, type RunStarter } from '../common/signed-decision.ts';
import { unresolvedSigners } from '../plan/allowed-signers.ts';
import { formatPath } from '../plan/field-path.ts';
import type { Gate, Plan } from '../plan/schema.ts';
import type { GateStatus } from './status.ts';
import { now } from './status.ts';

/** Why a plan (at start, or a revision) cannot be signed for: it still names allowed_signers files. */
export function signersRefusal(plan: Plan): string | undefined {
  const unresolved = unresolvedSigners(plan);
  return unresolved.length ? unresolved.map((p) => `${formatPath(p.path)}: ${p.message}`).join('\n') : undefined;
}

export class RunSigning {
  /** The digest of the plan in force (a revision changes it: statements signed before no longer match). */
  planDigest: string;
  readonly starter?: RunStarter;
  private readonly records: DecisionRecord[] = [];

  constructor(private plan: Plan, private readonly runWorkflowId: string, startedBy: unknown) {
    const unresolved = signersRefusal(plan);
    if (unresolved) throw ApplicationFailure.nonRetryable(`invalid plan:\n  ${unresolved.replace(/\n/g, '\n  ')}`, 'SparkyInvalidPlan', { errors: unresolvedSigners(plan).map((p) => ({ path: formatPath(p.path), message: p.message })) });
    this.planDigest = planDigest(plan);
    if (startedBy !== undefined) {
      const verified = verifyStarter(startedBy, { plan: plan.name, planDigest: this.planDigest, run: runWorkflowId });
      if (!verified.ok) throw ApplicationFailure.nonRetryable(`invalid input: ${verified.reason}`, 'SparkyInvalidPlan', { errors: [{ path: 'options.startedBy', message: verified.reason }] });
      this.starter = verified.starter;
    }
  }

  /** A revision took effect: keys and the digest follow the new plan. */
  revised(next: Plan): void {
    this.plan = next;
    this.planDigest = planDigest(next);
  }

  gateDef(id: string): Gate | undefined {
    return this.plan.phases.find((p) => p.gate?.id === id)?.gate;
  }

  /** Names of the approvers (of the gate's current list) whose decisions must be signed. */
  signedApprovers(gate: GateStatus): string[] {
    const approval = this.gateDef(gate.id)?.approval;
    const list = gate.escalated ? approval?.escalate?.approvers : approval?.approvers;
    return (list ?? []).filter((a) => approverKeys(a).length > 0).map(approverName);
  }

  private context(gate: GateStatus): GateSigningContext | undefined {
    const gateDef = this.gateDef(gate.id);
    if (!gateDef) return undefined;
    return {
      planName: this.plan.name, planDigest: this.planDigest, runWorkflowId: this.runWorkflowId, gateDef,
      escalated: gate.escalated, checks: gate.checks, waitingSince: gate.waitingSince, now: now(), starter: this.starter,
    };
  }

  check(gate: GateStatus, input: DecisionFields): SignedCheck {
    const ctx = this.context(gate);
    if (!ctx) return { ok: false, reason: `gate ${gate.id} is not in the plan` };
    return checkSignedDecision(ctx, input);
  }

  /** Keeps a counted decision in the history (the whole list, so the last memo holds every one). */
  record(gate: GateStatus, input: DecisionFields, surface: 'signal' | 'update', check: { fingerprint?: string; checksDigest: string }): void {
    const ctx = this.context(gate);
    if (!ctx) return;
    this.records.push(decisionRecord(ctx, input, surface, check));
    upsertMemo({ [DECISIONS_MEMO_KEY]: this.records });
  }
}
