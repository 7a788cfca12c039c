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
import { approverNames } from '../common/approvers.ts';
import { checksDigest } from '../common/gate-statement.ts';
import type { Notifier } from './notifier.ts';
import type { RunSigning } from './signing.ts';
import { now, type AuditEntry, type GateStatus, type RunStatus } from './status.ts';
import { errorMessage } from './errors.ts';
import { count } from '../common/plural.ts';

export type Surface = 'signal' | 'update';

/** A person sent workstreams of the gate's phase back (from `checks-failed` or a waiting gate): the gate ends its wait with this. */
export interface ReworkRequest { by: string; reason: string; rework?: string[] }

/**
 * Every gate of the run, by id, and the requests that move a gate out of its wait other than a vote:
 * a recheck of failed checks, a rework, a revision that changed the checks. Votes themselves are
 * decisions (workflows/decisions/gate-vote.ts).
 */
export class GateKeeper {
  private readonly rechecks = new Set<string>();
  private readonly reworks = new Map<string, ReworkRequest>();
  private readonly revisedChecks = new Set<string>();

  constructor(private readonly status: RunStatus, private readonly onChange: () => void) {}

  find(id: string): GateStatus | undefined {
    for (const phase of this.status.phases) if (phase.gate?.id === id) return phase.gate;
    return undefined;
  }

  ids(): string[] {
    return this.status.phases.flatMap((p) => (p.gate ? [p.gate.id] : []));
  }

  /** Why a recheck must be refused, or undefined when the gate's checks may run again. */
  recheckRefusal(gateId: unknown): string | undefined {
    if (typeof gateId !== 'string' || gateId === '') return 'missing "gate"';
    const gate = this.find(gateId);
    if (!gate) return `unknown gate "${gateId}" (gates of this run: ${this.ids().join(', ') || 'none'})`;
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

  /** Ends a `checks-failed` or waiting gate's wait with a rework (after the rework decision's checks). */
  rework(gateId: string, request: ReworkRequest, surface: Surface): void {
    const gate = this.find(gateId) as GateStatus;
    gate.audit.push(clean({ at: now(), surface, approver: request.by, decision: 'rework', reason: request.reason, rework: request.rework }));
    this.reworks.set(gateId, request);
    this.onChange();
  }

  /** A revision changed the checks of this waiting gate: they run again, and a fresh round follows. */
  checksRevised(gateId: string): void {
    this.revisedChecks.add(gateId);
  }

  /** Resolves when someone asked for a recheck of this gate (and takes the request), or for a rework (left for `takeRework`). */
  async rechecked(gateId: string): Promise<void> {
    await condition(() => this.rechecks.has(gateId) || this.reworks.has(gateId));
    this.rechecks.delete(gateId);
  }

  /** Whether something other than a vote ends the gate's wait now. */
  interrupted(gateId: string): boolean {
    return this.reworks.has(gateId) || this.revisedChecks.has(gateId);
  }

  takeRework(gateId: string): ReworkRequest | undefined {
    const r = this.reworks.get(gateId);
    this.reworks.delete(gateId);
    return r;
  }

  takeRevisedChecks(gateId: string): boolean {
    return this.revisedChecks.delete(gateId);
  }

  waiting(): GateStatus | undefined {
    return this.status.phases.find((p) => p.gate?.state === 'waiting')?.gate;
  }

  lastGate(): GateStatus | undefined {
    return [...this.status.phases].reverse().find((p) => p.gate && p.gate.state !== 'pending')?.gate;
  }
}

export function clean(entry: AuditEntry): AuditEntry {
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
  /** Rechecks, reworks and revised checks of this run's gates. */
  keeper: GateKeeper;
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

const reworkOutcome = (r: ReworkRequest): GateOutcome => ({ approved: false, by: r.by, reason: r.reason, rework: r.rework });

/**
 * Runs a gate to its decision: approved, or rejected for rework. Throws a non-retryable failure when
 * checks fail or a timeout rejects in a run that does not ask (`onFailure: compensate | halt`).
 * A person may end a `checks-failed` or waiting gate with a rework (GateKeeper.rework), and a
 * revision that changes a waiting gate's checks runs them again, then asks a fresh round.
 */
export async function runGate(gate: GateStatus, deps: GateDeps): Promise<GateOutcome> {
  let cause: 'waiting' | 'rework' | 'revised' = gate.round === undefined ? 'waiting' : 'rework';
  for (;;) {
    // Checks first; failed checks wait (ask) for a recheck, or a rework.
    for (;;) {
      const def = deps.def();
      if (!def.checks?.length) { gate.checks = []; break; }
      gate.state = 'checking';
      deps.onChange();
      gate.checks = await Promise.all(def.checks.map((check) => runCheck(check, def.id, deps)));
      const failed = gate.checks.filter((c) => !c.passed);
      if (failed.length === 0) break;
      const summary = `gate ${def.id}: ${count(failed.length, 'check')} failed: ${failed.map((c) => `${c.id} (${c.message})`).join('; ')}`;
      if (!deps.ask) {
        gate.state = 'failed';
        gate.decidedAt = now();
        deps.onChange();
        throw ApplicationFailure.nonRetryable(summary, 'SparkyGateChecksFailed', { gate: def.id, checks: gate.checks });
      }
      gate.state = 'checks-failed'; // attention: fix the cause, then recheckGate (or send work back: rework)
      deps.onChange();
      await deps.keeper.rechecked(gate.id);
      const rework = deps.keeper.takeRework(gate.id);
      if (rework) return reworkOutcome(rework);
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
    deps.signing?.startRound(gate, cause);
    let event: 'waiting' | 'escalated' = 'waiting';
    let revised = false;
    for (;;) {
      gate.deadline = timeout === undefined ? undefined : new Date(Date.now() + timeout).toISOString();
      deps.onChange();
      deps.notifier?.gate(event, gate);
      const ended = () => gate.state !== 'waiting' || deps.keeper.interrupted(gate.id);
      const decided = timeout === undefined ? (await condition(ended), true) : await condition(ended, timeout);
      if (decided) {
        const rework = gate.state === 'waiting' ? deps.keeper.takeRework(gate.id) : undefined;
        if (rework) { gate.deadline = undefined; return reworkOutcome(rework); }
        if (gate.state === 'waiting' && deps.keeper.takeRevisedChecks(gate.id)) { revised = true; break; }
        break;
      }
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
        if (deps.signing?.v2) { gate.waitingSince = now(); deps.signing.startRound(gate, 'escalated'); }
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
    if (revised) {
      // The checks changed under a waiting gate: votes so far judged other evidence and do not carry.
      for (const a of gate.audit) if (!a.ignored && !a.void && (a.decision === 'approve' || a.decision === 'reject')) a.void = true;
      gate.approvals = [];
      cause = 'revised';
      continue;
    }
    deps.onChange();
    deps.signing?.decided(gate);
    if (gate.state !== 'rejected') return { approved: true };
    const last = [...gate.audit].reverse().find((a) => !a.ignored && !a.void && a.decision === 'reject');
    if (last?.surface === 'timeout' && !deps.ask) {
      // Nobody answered an unattended run: it ends as its onFailure says.
      throw ApplicationFailure.nonRetryable(`gate ${def.id} rejected by ${last.approver}${last.reason ? `: ${last.reason}` : ''}`,
        'SparkyGateRejected', { gate: def.id, audit: gate.audit });
    }
    return { approved: false, by: last?.approver ?? '?', reason: last?.reason, rework: last?.rework };
  }
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
