// Phase gates: automated checks first (runGateCheck activities, every result kept with what it
// measured), then approval by `required` distinct approvers out of `approvers`, through the signals
// approveGate/rejectGate (tctl has no updates) or the update decideGate. A single rejection by a
// listed approver rejects the gate. A decision that would be refused is refused by the update's
// validator and, for a signal (which cannot answer), recorded in the audit trail as ignored.
import { ApplicationFailure, condition, proxyActivities } from '@temporalio/workflow';
import type { GateCheckResult, SparkyActivities } from '../common/activity-types.ts';
import type { Gate, GateCheck } from '../plan/schema.ts';
import { durationMs, formatMs } from './durations.ts';
import type { DecideGateInput, DecideGateResult } from './messages.ts';
import { now, type AuditEntry, type GateStatus, type RunStatus } from './status.ts';
import { errorMessage } from './steps.ts';

export type Surface = 'signal' | 'update';

/** Every gate of the run, by id, with the rules for who may decide what, when. */
export class GateKeeper {
  constructor(private readonly status: RunStatus, private readonly onChange: () => void) {}

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
    return undefined;
  }

  /** Applies a decision that passed `refusal`. */
  decide(input: DecideGateInput, surface: Surface): DecideGateResult {
    const gate = this.find(input.gate) as GateStatus;
    gate.audit.push(clean({
      at: now(), surface, approver: input.approver, decision: input.decision,
      comment: input.decision === 'approve' ? input.comment : undefined,
      reason: input.decision === 'reject' ? input.comment : undefined,
    }));
    if (input.decision === 'reject') {
      gate.state = 'rejected';
      gate.decidedAt = now();
    } else {
      gate.approvals.push(input.approver);
      if (gate.approvals.length >= gate.required) { gate.state = 'approved'; gate.decidedAt = now(); }
    }
    this.onChange();
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
  return `waiting for approval of ${gate.id}: ${gate.approvals.length} of ${gate.required} (${gate.approvers.join(', ')})`
    + `${gate.escalated ? ' [escalated]' : ''}${deadline}; approve with: \`sparky approve ${runWorkflowId} ${gate.id} --as NAME\``;
}

export interface GateDeps {
  cpuTaskQueue: string;
  checkCtx: { runWorkflowId: string; planName: string; phaseId: string };
  outputs: Record<string, Record<string, unknown>>;
  onChange: () => void;
}

async function runCheck(check: GateCheck, gateId: string, deps: GateDeps): Promise<GateCheckResult> {
  const { runGateCheck } = proxyActivities<SparkyActivities>({
    taskQueue: deps.cpuTaskQueue,
    startToCloseTimeout: durationMs(check.timeout ?? '5m'),
    retry: { maximumAttempts: 2, initialInterval: 1000 },
    summary: `check ${gateId}/${check.id}`,
  });
  try {
    return await runGateCheck({ check, ctx: { ...deps.checkCtx, gateId }, outputs: deps.outputs });
  } catch (err) {
    return { id: check.id, kind: check.kind, passed: false, message: `check could not run: ${errorMessage(err)}`, durationMs: 0 };
  }
}

/** Runs a gate to its decision. Resolves when approved; throws a non-retryable failure otherwise. */
export async function runGate(def: Gate, gate: GateStatus, deps: GateDeps): Promise<void> {
  if (def.checks?.length) {
    gate.state = 'checking';
    deps.onChange();
    gate.checks = await Promise.all(def.checks.map((check) => runCheck(check, def.id, deps)));
    const failed = gate.checks.filter((c) => !c.passed);
    if (failed.length > 0) {
      gate.state = 'failed';
      gate.decidedAt = now();
      deps.onChange();
      throw ApplicationFailure.nonRetryable(
        `gate ${def.id}: ${failed.length} check(s) failed: ${failed.map((c) => `${c.id} (${c.message})`).join('; ')}`,
        'SparkyGateChecksFailed', { gate: def.id, checks: gate.checks });
    }
  }
  const approval = def.approval;
  if (!approval) {
    gate.state = 'approved';
    gate.decidedAt = now();
    deps.onChange();
    return;
  }
  let timeout = durationMs(approval.timeout);
  gate.state = 'waiting';
  gate.waitingSince = now();
  for (;;) {
    gate.deadline = timeout === undefined ? undefined : new Date(Date.now() + timeout).toISOString();
    deps.onChange();
    const decided = timeout === undefined
      ? (await condition(() => gate.state !== 'waiting'), true)
      : await condition(() => gate.state !== 'waiting', timeout);
    if (decided) break;
    const onTimeout = gate.escalated ? 'reject' : approval.onTimeout ?? 'reject';
    const waited = formatMs(timeout ?? 0);
    if (onTimeout === 'escalate' && approval.escalate) {
      // The second approver list takes over; votes so far were for the first list and do not carry.
      gate.audit.push({ at: now(), surface: 'timeout', approver: '(timeout)', decision: 'escalate',
        reason: `no decision within ${waited}: escalated to ${approval.escalate.approvers.join(', ')}` });
      gate.escalated = true;
      gate.approvers = [...approval.escalate.approvers];
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
    break;
  }
  gate.deadline = undefined;
  deps.onChange();
  if (gate.state === 'rejected') {
    const last = [...gate.audit].reverse().find((a) => !a.ignored && a.decision === 'reject');
    throw ApplicationFailure.nonRetryable(
      `gate ${def.id} rejected by ${last?.approver ?? '?'}${last?.reason ? `: ${last.reason}` : ''}`,
      'SparkyGateRejected', { gate: def.id, audit: gate.audit });
  }
}
