// Phase gates: automated checks first (runGateCheck activities, every result kept with what it
// measured), then approval by `required` distinct approvers out of `approvers`, through the signals
// approveGate/rejectGate (tctl has no updates) or the update decideGate. A single rejection by a
// listed approver rejects the gate. A decision that would be refused is refused by the update's
// validator and, for a signal (which cannot answer), recorded in the audit trail as ignored.
// A rejection sends the phase (or the workstreams it names) back for rework; with `onFailure: ask`
// failed checks wait for `recheckGate` instead of ending the run (docs/orchestration.md).
import { ApplicationFailure, condition, proxyActivities } from '@temporalio/workflow';
import { substituteOutputs } from '../plan/outputs.ts';
import type { GateCheckResult, SparkyActivities } from '../common/activity-types.ts';
import type { Gate, GateCheck } from '../plan/schema.ts';
import { durationMs, formatMs } from './durations.ts';
import type { DecideGateInput, DecideGateResult } from './messages.ts';
import { approverNames } from '../common/approvers.ts';
import { checksDigest } from '../common/gate-statement.ts';
import type { Notifier } from './notifier.ts';
import type { RunSigning } from './signing.ts';
import { now, type AuditEntry, type GateStatus, type RunStatus } from './status.ts';
import { errorMessage } from './errors.ts';

export type Surface = 'signal' | 'update';

/** Every gate of the run, by id, with the rules for who may decide what, when. */
export class GateKeeper {
  constructor(
    private readonly status: RunStatus, private readonly onChange: () => void,
    private readonly signing?: RunSigning, private readonly notifier?: Notifier,
  ) {}

  find(id: string): GateStatus | undefined {
    for (const phase of this.status.phases) if (phase.gate?.id === id) return phase.gate;
    return undefined;
  }

  /** Why this decision must be refused, or undefined when it counts. */
  refusal(input: Partial<DecideGateInput> | undefined): string | undefined {
    if (input === null || typeof input !== 'object' || (input.gate === undefined && input.approver === undefined)) {
      return 'no input: expected {"gate": "...", "approver": "..."}';
    }
    if (typeof input.gate !== 'string' || input.gate === '') return 'missing "gate"';
    if (typeof input.approver !== 'string' || input.approver === '') return 'missing "approver"';
    if (input.decision !== 'approve' && input.decision !== 'reject') return `decision must be "approve" or "reject", not ${JSON.stringify(input.decision)}`;
    const gate = this.find(input.gate);
    if (!gate) {
      const known = this.status.phases.flatMap((p) => (p.gate ? [p.gate.id] : []));
      return `unknown gate "${input.gate}" (gates of this run: ${known.join(', ') || 'none'})`;
    }
    if (gate.state !== 'waiting') return `gate ${gate.id} is not waiting for approval (it is ${gate.state})`;
    if (!gate.approvers.includes(input.approver)) {
      return `${input.approver} is not an approver of gate ${gate.id}${gate.escalated ? ' (escalated)' : ''} (approvers: ${gate.approvers.join(', ')})`;
    }
    if (gate.approvals.includes(input.approver)) return `${input.approver} already approved gate ${gate.id}: one vote per person`;
    if (input.rework !== undefined) {
      if (input.decision !== 'reject') return '"rework" goes with a rejection only';
      if (!Array.isArray(input.rework) || input.rework.some((w) => typeof w !== 'string')) return '"rework" must be a list of workstream ids';
      const phase = this.status.phases.find((p) => p.gate === gate);
      const mine = phase?.domains.flatMap((d) => d.workstreams.map((w) => w.id)) ?? [];
      const unknown = input.rework.filter((w) => !mine.includes(w));
      if (unknown.length) return `rework names ${unknown.join(', ')}, not a workstream of phase ${phase?.id} (its workstreams: ${mine.join(', ')})`;
    }
    // Keys, signatures and preventSelfApproval (common/gate-signing.ts).
    const signed = this.signing?.check(gate, input as DecideGateInput);
    if (signed && !signed.ok) return signed.reason;
    return undefined;
  }

  /** Why a recheck must be refused, or undefined when the gate's checks may run again. */
  recheckRefusal(gateId: unknown): string | undefined {
    if (typeof gateId !== 'string' || gateId === '') return 'missing "gate"';
    const gate = this.find(gateId);
    if (!gate) return `unknown gate "${gateId}" (gates of this run: ${this.status.phases.flatMap((p) => (p.gate ? [p.gate.id] : [])).join(', ') || 'none'})`;
    if (gate.state === 'merge-conflict') return undefined; // the merge is tried again (git flow)
    if (gate.state !== 'checks-failed') {
      return `gate ${gate.id} has no failed checks to run again (it is ${gate.state}${gate.state === 'waiting' || gate.state === 'approved' ? ': its checks passed' : ''})`;
    }
    return undefined;
  }

  /** Asks the gate's checks to run again (after recheckRefusal said yes). */
  recheck(gateId: string, by: string, comment?: string): void {
    const gate = this.find(gateId) as GateStatus;
    gate.audit.push(clean({ at: now(), surface: 'signal', approver: by, decision: 'recheck', comment }));
    this.rechecks.add(gateId);
    this.onChange();
  }

  /** Resolves when someone asked for a recheck of this gate (and takes the request). */
  async rechecked(gateId: string): Promise<void> {
    await condition(() => this.rechecks.has(gateId));
    this.rechecks.delete(gateId);
  }

  private readonly rechecks = new Set<string>();

  /** Applies a decision that passed `refusal`. */
  decide(input: DecideGateInput, surface: Surface): DecideGateResult {
    const gate = this.find(input.gate) as GateStatus;
    const signed = this.signing?.check(gate, input);
    const fingerprint = signed?.ok ? signed.fingerprint : undefined;
    gate.audit.push(clean({
      at: now(), surface, approver: input.approver, decision: input.decision,
      comment: input.decision === 'approve' ? input.comment : undefined,
      reason: input.decision === 'reject' ? input.comment : undefined,
      rework: input.decision === 'reject' && input.rework?.length ? [...input.rework] : undefined,
      ...(input.signature !== undefined ? { signedAt: input.signedAt, signature: input.signature } : {}),
      fingerprint,
    }));
    // Signed decisions only: runs without keys keep the histories they always had (replay-safe).
    if (signed?.ok && fingerprint) this.signing?.record(gate, input, surface, signed);
    if (input.decision === 'reject') {
      gate.state = 'rejected';
      gate.decidedAt = now();
    } else {
      gate.approvals.push(input.approver);
      if (gate.approvals.length >= gate.required) { gate.state = 'approved'; gate.decidedAt = now(); }
    }
    this.onChange();
    if (gate.state !== 'waiting') {
      this.notifier?.gate('decided', gate, { approver: input.approver, decision: input.decision, comment: input.comment, fingerprint });
    }
    return { gate: gate.id, state: gate.state, approvals: [...gate.approvals], required: gate.required, approvers: [...gate.approvers] };
  }

  /** A signal that would be refused: kept in the audit of the gate it names (or of the waiting gate). */
  ignore(input: Partial<DecideGateInput> | undefined, surface: Surface, why: string): void {
    const gate = (typeof input?.gate === 'string' ? this.find(input.gate) : undefined) ?? this.waiting() ?? this.lastGate();
    if (!gate) return;
    gate.audit.push(clean({
      at: now(), surface, approver: typeof input?.approver === 'string' ? input.approver : '(none)',
      decision: input?.decision === 'approve' || input?.decision === 'reject' ? input.decision : undefined,
      comment: input?.comment, ignored: true, ignoredReason: why,
      ...(typeof input?.signature === 'string' ? { signedAt: input.signedAt, signature: input.signature } : {}),
    }));
    this.onChange();
  }

  waiting(): GateStatus | undefined {
    return this.status.phases.find((p) => p.gate?.state === 'waiting')?.gate;
  }

  private lastGate(): GateStatus | undefined {
    return [...this.status.phases].reverse().find((p) => p.gate && p.gate.state !== 'pending')?.gate;
  }
}

function clean(entry: AuditEntry): AuditEntry {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as unknown as AuditEntry;
}

/**
 * The words the Web UI and `sparky status` show while a gate waits. The Web UI renders current
 * details as markdown, so the command sits in backticks (or `--as` would print as an en dash).
 */
export function waitText(gate: GateStatus, runWorkflowId: string): string {
  const deadline = gate.deadline ? `; times out at ${gate.deadline}` : '';
  const signers = gate.signedApprovers ?? [];
  // Only what would be accepted: approvers with keys must sign; with no unsigned approver left, no unsigned command.
  const allSign = signers.length > 0 && gate.approvers.every((a) => signers.includes(a));
  const how = allSign
    ? `\`sparky approve ${runWorkflowId} ${gate.id} --as NAME --key ~/.ssh/id_ed25519\` (signed: ${signers.join(', ')})`
    : `\`sparky approve ${runWorkflowId} ${gate.id} --as NAME\`${signers.length ? ` (${signers.join(', ')} must sign: add \`--key ~/.ssh/id_ed25519\`)` : ''}`;
  return `waiting for approval of ${gate.id}: ${gate.approvals.length} of ${gate.required} (${gate.approvers.join(', ')})`
    + `${gate.escalated ? ' [escalated]' : ''}${deadline}; approve with: ${how}`;
}

export interface GateDeps {
  cpuTaskQueue: string;
  checkCtx: { runWorkflowId: string; planName: string; phaseId: string };
  outputs: Record<string, Record<string, unknown>>;
  onChange: () => void;
  /** The gate's definition now (a plan revision may change its checks or approvers). */
  def: () => Gate;
  /** `onFailure: ask`: failed checks wait for a recheck, and a timeout's rejection means rework. */
  ask: boolean;
  /** Resolves when a person asks for this gate's checks to run again. */
  rechecked: () => Promise<void>;
  signing?: RunSigning;
  notifier?: Notifier;
}

/** How a gate ended: approved, or rejected and sent back for rework (every workstream of the phase when `rework` is unset). */
export type GateOutcome = { approved: true } | { approved: false; by: string; reason?: string; rework?: string[] };

async function runCheck(check: GateCheck, gateId: string, deps: GateDeps): Promise<GateCheckResult> {
  const { runGateCheck } = proxyActivities<SparkyActivities>({
    taskQueue: deps.cpuTaskQueue,
    startToCloseTimeout: durationMs(check.timeout ?? '5m'),
    retry: { maximumAttempts: 2, initialInterval: 1000 },
    summary: `check ${gateId}/${check.id}`,
  });
  let resolved: GateCheck;
  try {
    resolved = substituteOutputs(check, deps.outputs);
  } catch (err) {
    return { id: check.id, kind: check.kind, passed: false, message: (err as Error).message, durationMs: 0 };
  }
  try {
    return await runGateCheck({ check: resolved, ctx: { ...deps.checkCtx, gateId }, outputs: deps.outputs });
  } catch (err) {
    return { id: check.id, kind: check.kind, passed: false, message: `check could not run: ${errorMessage(err)}`, durationMs: 0 };
  }
}

/**
 * Runs a gate to its decision: approved, or rejected for rework. Throws a non-retryable failure when
 * checks fail or a timeout rejects in a run that does not ask (`onFailure: compensate | halt`).
 */
export async function runGate(gate: GateStatus, deps: GateDeps): Promise<GateOutcome> {
  for (;;) {
    const def = deps.def();
    if (!def.checks?.length) break;
    gate.state = 'checking';
    deps.onChange();
    gate.checks = await Promise.all(def.checks.map((check) => runCheck(check, def.id, deps)));
    const failed = gate.checks.filter((c) => !c.passed);
    if (failed.length === 0) break;
    const summary = `gate ${def.id}: ${failed.length} check(s) failed: ${failed.map((c) => `${c.id} (${c.message})`).join('; ')}`;
    if (!deps.ask) {
      gate.state = 'failed';
      gate.decidedAt = now();
      deps.onChange();
      throw ApplicationFailure.nonRetryable(summary, 'SparkyGateChecksFailed', { gate: def.id, checks: gate.checks });
    }
    gate.state = 'checks-failed'; // attention: fix the cause, then recheckGate
    deps.onChange();
    await deps.rechecked();
  }
  const def = deps.def();
  const approval = def.approval;
  if (!approval) {
    gate.state = 'approved';
    gate.decidedAt = now();
    deps.onChange();
    return { approved: true };
  }
  let timeout = durationMs(approval.timeout);
  gate.checksDigest = checksDigest(gate.checks);
  gate.signedApprovers = deps.signing?.signedApprovers(gate);
  gate.state = 'waiting';
  gate.waitingSince = now();
  let event: 'waiting' | 'escalated' = 'waiting';
  for (;;) {
    gate.deadline = timeout === undefined ? undefined : new Date(Date.now() + timeout).toISOString();
    deps.onChange();
    deps.notifier?.gate(event, gate);
    const decided = timeout === undefined
      ? (await condition(() => gate.state !== 'waiting'), true)
      : await condition(() => gate.state !== 'waiting', timeout);
    if (decided) break;
    const onTimeout = gate.escalated ? 'reject' : approval.onTimeout ?? 'reject';
    const waited = formatMs(timeout ?? 0);
    if (onTimeout === 'escalate' && approval.escalate) {
      // The second approver list takes over; votes so far were for the first list and do not carry.
      gate.audit.push({ at: now(), surface: 'timeout', approver: '(timeout)', decision: 'escalate',
        reason: `no decision within ${waited}: escalated to ${approverNames(approval.escalate.approvers).join(', ')}` });
      gate.escalated = true;
      gate.approvers = approverNames(approval.escalate.approvers);
      gate.signedApprovers = deps.signing?.signedApprovers(gate);
      event = 'escalated';
      gate.required = approval.escalate.required ?? 1;
      gate.approvals = [];
      timeout = durationMs(approval.escalate.timeout);
      continue;
    }
    const approve = onTimeout === 'approve';
    gate.audit.push(clean({ at: now(), surface: 'timeout', approver: '(timeout)', decision: approve ? 'approve' : 'reject',
      automatic: approve || undefined, reason: `no decision within ${waited}: onTimeout ${onTimeout}` }));
    gate.state = approve ? 'approved' : 'rejected';
    gate.decidedAt = now();
    deps.notifier?.gate('decided', gate, { approver: '(timeout)', decision: approve ? 'approve' : 'reject', comment: `onTimeout ${onTimeout}` });
    break;
  }
  gate.deadline = undefined;
  deps.onChange();
  if (gate.state !== 'rejected') return { approved: true };
  const last = [...gate.audit].reverse().find((a) => !a.ignored && !a.void && a.decision === 'reject');
  if (last?.surface === 'timeout' && !deps.ask) {
    // Nobody answered an unattended run: it ends as its onFailure says.
    throw ApplicationFailure.nonRetryable(`gate ${def.id} rejected by ${last.approver}${last.reason ? `: ${last.reason}` : ''}`,
      'SparkyGateRejected', { gate: def.id, audit: gate.audit });
  }
  return { approved: false, by: last?.approver ?? '?', reason: last?.reason, rework: last?.rework };
}

/**
 * After a rejection: the gate starts over once the reworked workstreams are done. Votes so far are
 * void (the audit keeps them, marked), checks run again, and the approver list is the plan's again.
 */
export function resetGate(gate: GateStatus, def: Gate): void {
  for (const a of gate.audit) if (!a.ignored && (a.decision === 'approve' || a.decision === 'reject')) a.void = true;
  Object.assign(gate, {
    state: 'pending', checks: [], approvals: [], escalated: false,
    approvers: approverNames(def.approval?.approvers), required: def.approval?.required ?? 1,
    waitingSince: undefined, deadline: undefined, decidedAt: undefined, checksDigest: undefined, signedApprovers: undefined,
  });
}
