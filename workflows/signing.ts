// Signed decisions inside the run: the plan digest (of the plan in force), the verified starter, the
// rules version, the signatures already counted, each gate's rounds; the checks every decision and
// every revision passes before it counts (common/gate-signing.ts, common/revision-signing.ts); and
// the run's record of what counted, upserted to the memo `sparkyDecisions` so `sparky verify` can
// apply the same rules from the history alone. Deterministic: pure-JS ed25519/sha2, workflow time.
//
// Rules version: runs started on release 0.2 or later record the patch `sparky-signed-rounds` in
// their first workflow task and follow the 0.2 rules (rounds in statements, signatures counted once,
// signed revisions, a starter known by a listed key). Runs of release 0.1 replay without the patch
// and keep the rules they started under, so their histories stay deterministic.
import { ApplicationFailure, patched, upsertMemo } from '@temporalio/workflow';
import { approverKeys, approverName } from '../common/approvers.ts';
import { checkSignedDecision, decisionRecord, type DecisionFields, type GateSigningContext, type SignedCheck } from '../common/gate-signing.ts';
import { planDigest } from '../common/gate-statement.ts';
import { authorizeRevision, type RevisionAuthorization, type RevisionSignatures } from '../common/revision-signing.ts';
import {
  DECISIONS_MEMO_KEY, SIGNED_ROUNDS_PATCH, starterRefusal, verifyStarter, type RevisionRecord, type RunRecord, type RunStarter,
} from '../common/signed-decision.ts';
import { unresolvedSigners } from '../plan/allowed-signers.ts';
import { formatPath } from '../plan/field-path.ts';
import type { Gate, Plan } from '../plan/schema.ts';
import type { GateStatus, RunStatus } from './status.ts';
import { now } from './status.ts';


/** Why a plan (at start, or a revision) cannot be signed for: it still names allowed_signers files. */
export function signersRefusal(plan: Plan): string | undefined {
  const unresolved = unresolvedSigners(plan);
  return unresolved.length ? unresolved.map((p) => `${formatPath(p.path)}: ${p.message}`).join('\n') : undefined;
}

const invalid = (message: string, path: string) => ApplicationFailure.nonRetryable(`invalid input: ${message}`, 'SparkyInvalidPlan', { errors: [{ path, message }] });

export class RunSigning {
  /** The digest of the plan in force (a revision changes it: statements signed before no longer match). */
  planDigest: string;
  readonly starter?: RunStarter;
  /** Rules of release 0.2 (see the file comment). */
  readonly v2: boolean;
  private readonly records: RunRecord[] = [];
  /** Signatures that counted (signatureId): each counts once per run. */
  private readonly used = new Set<string>();

  /** `dryRun`: a dry run starts nothing and decides nothing, so it needs no starter the plan lists. */
  constructor(private plan: Plan, private readonly runWorkflowId: string, startedBy: unknown, opts: { dryRun?: boolean } = {}) {
    this.v2 = patched(SIGNED_ROUNDS_PATCH);
    const unresolved = signersRefusal(plan);
    if (unresolved) throw ApplicationFailure.nonRetryable(`invalid plan:\n  ${unresolved.replace(/\n/g, '\n  ')}`, 'SparkyInvalidPlan', { errors: unresolvedSigners(plan).map((p) => ({ path: formatPath(p.path), message: p.message })) });
    this.planDigest = planDigest(plan);
    if (startedBy !== undefined) {
      const verified = verifyStarter(startedBy, { plan: plan.name, planDigest: this.planDigest, run: runWorkflowId });
      if (!verified.ok) throw invalid(verified.reason, 'options.startedBy');
      this.starter = verified.starter;
    }
    if (this.v2 && !opts.dryRun) {
      const why = starterRefusal(plan, this.starter);
      if (why) throw invalid(why, 'options.startedBy');
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
      ...(this.v2 ? { round: gate.round ?? 1, used: this.used } : {}),
    };
  }

  check(gate: GateStatus, input: DecisionFields): SignedCheck {
    const ctx = this.context(gate);
    if (!ctx) return { ok: false, reason: `gate ${gate.id} is not in the plan` };
    return checkSignedDecision(ctx, input);
  }

  /** Keeps a counted decision in the history (the whole list, so the last memo holds every one). */
  record(gate: GateStatus, input: DecisionFields, surface: 'signal' | 'update', check: { fingerprint?: string; checksDigest: string; signatureId?: string }): void {
    const ctx = this.context(gate);
    if (!ctx) return;
    if (check.signatureId) this.used.add(check.signatureId);
    this.keep(decisionRecord(ctx, input, surface, check));
  }

  /** A gate's round begins (its first wait, a fresh quorum, escalation, revised checks): rules of 0.2 only. */
  startRound(gate: GateStatus, cause: 'waiting' | 'escalated' | 'rework' | 'revised'): void {
    if (!this.v2) return;
    gate.round = (gate.round ?? 0) + 1;
    this.keep({ kind: 'round', gate: gate.id, round: gate.round, at: now(), escalated: gate.escalated, cause, checksDigest: gate.checksDigest ?? '' });
  }

  /** A gate reached its decision (0.2): verify then knows a later revision may not need it. */
  decided(gate: GateStatus): void {
    if (!this.v2 || (gate.state !== 'approved' && gate.state !== 'rejected')) return;
    this.keep({ kind: 'decided', gate: gate.id, state: gate.state, at: now(), ...(gate.round !== undefined ? { round: gate.round } : {}) });
  }

  /** Who must sign a revision, and whether they did (rules of 0.2; a 0.1 run takes revisions unsigned, as it did). */
  authorizeRevision(next: Plan, status: RunStatus, input: RevisionSignatures): RevisionAuthorization | undefined {
    if (!this.v2) return undefined;
    const gates = status.phases.flatMap((p) => (p.gate ? [p.gate] : []));
    return authorizeRevision({
      current: this.plan, next, run: this.runWorkflowId, revision: status.revision + 1, planDigest: this.planDigest, newPlanDigest: planDigest(next),
      decided: new Set(gates.filter((g) => g.state === 'approved' || g.state === 'merge-conflict').map((g) => g.id)),
      escalated: new Set(gates.filter((g) => g.escalated).map((g) => g.id)),
      now: now(), used: this.used,
    }, input);
  }

  /** An accepted revision (0.2): its signatures count once, and verify finds who signed. */
  recordRevision(entry: Omit<RevisionRecord, 'kind'>, signatureIds: string[]): void {
    if (!this.v2) return;
    for (const id of signatureIds) this.used.add(id);
    this.keep({ kind: 'revision', ...entry });
  }

  /** An operator's rework of a gate's phase (0.2). */
  recordRework(gate: string, by: string, rework: string[], reason: string): void {
    if (!this.v2) return;
    this.keep({ kind: 'rework', gate, by, at: now(), rework, reason });
  }

  private keep(record: RunRecord): void {
    this.records.push(record);
    upsertMemo({ [DECISIONS_MEMO_KEY]: this.records });
  }
}
