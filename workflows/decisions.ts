// A person's decisions about a run that needs attention: retryStep, skipStep, recheckGate, abort (as
// signals, and together as the `resolve` update). The rules for what may apply live here, once, so the
// update's validator refuses at once exactly what a signal would have ignored (and audited).
import { domainWorkflowId } from '../common/ids.ts';
import type { GateKeeper } from './gate.ts';
import type { ResolveInput } from './messages.ts';
import { needingAttention, TERMINAL } from './run-text.ts';
import type { StatusIndex } from './status-index.ts';
import { now, type DecisionEntry, type RunStatus, type WorkstreamStatus } from './status.ts';

/** A step a decision is about: where it lives and which child runs it. */
export interface StepTarget { ws: WorkstreamStatus; stepId: string; phaseId: string; domainId: string; childId: string }

export class Decisions {
  constructor(private readonly status: RunStatus, private readonly index: StatusIndex, private readonly gates: GateKeeper) {}

  /** Why this decision must be refused, or undefined when it applies now. */
  refusal(input: Partial<ResolveInput> | undefined): string | undefined {
    if (input === null || typeof input !== 'object') return 'no input: expected a JSON object (see docs/operations.md)';
    const actions = ['retryStep', 'skipStep', 'recheckGate', 'abort'];
    if (!actions.includes(input.action as string)) return `action must be one of ${actions.join(', ')}, not ${JSON.stringify(input.action)}`;
    if (typeof input.by !== 'string' || input.by.trim() === '') return 'missing "by": who decides (kept in the audit)';
    if (TERMINAL.includes(this.status.state)) return `the run already ended (${this.status.state})`;
    if (this.status.state === 'compensating') return 'the run is compensating: it is ending';
    if (this.status.aborted) return `the run is being aborted (by ${this.status.aborted.by})`;
    switch (input.action) {
      case 'abort':
        return typeof input.comment === 'string' && input.comment.trim() ? undefined : 'missing "reason": why the run is aborted';
      case 'recheckGate':
        return this.gates.recheckRefusal(input.gate);
      case 'skipStep':
        if (typeof input.comment !== 'string' || input.comment.trim() === '') return 'missing "reason": why the step is skipped';
        return this.stepRefusal(input.step);
      default:
        return this.stepRefusal(input.step);
    }
  }

  private stepRefusal(step: unknown): string | undefined {
    if (typeof step !== 'string' || step === '') return 'missing "step": "<workstream>/<step>" (or "<workstream>")';
    const [wsId, stepId] = step.split('/', 2);
    const ws = this.index.workstream(wsId);
    if (!ws) {
      const known = this.status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
      return `unknown workstream "${wsId}" (workstreams of this run: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`;
    }
    if (stepId !== undefined && !ws.steps.some((s) => s.id === stepId)) {
      return `unknown step "${step}" (steps of ${ws.id}: ${ws.steps.map((s) => s.id).join(', ')})`;
    }
    if (ws.state !== 'attention' || !ws.attention) {
      const waiting = this.inAttention().map((w) => `${w.id}/${w.attention?.step}`);
      return `${step} is not in attention (${ws.id} is ${ws.state}); ${waiting.length ? `in attention: ${waiting.join(', ')}` : 'nothing of this run is in attention'}`;
    }
    if (stepId !== undefined && stepId !== ws.attention.step) {
      return `${step} is not in attention: ${ws.id} waits at ${ws.id}/${ws.attention.step}`;
    }
    return undefined;
  }

  /** The step a (validated) retry/skip is about. */
  target(step: string): StepTarget {
    const [wsId] = step.split('/', 2);
    const ws = this.index.workstream(wsId) as WorkstreamStatus;
    for (const phase of this.status.phases) {
      for (const d of phase.domains) {
        if (d.workstreams.includes(ws)) {
          return { ws, stepId: ws.attention?.step ?? '', phaseId: phase.id, domainId: d.id, childId: domainWorkflowId(this.status.runWorkflowId, phase.id, d.id) };
        }
      }
    }
    throw new Error(`no workstream ${wsId}`);
  }

  inAttention(): WorkstreamStatus[] {
    return needingAttention(this.status);
  }

  record(entry: Omit<DecisionEntry, 'at'>): void {
    this.status.decisions.push(clean({ at: now(), ...entry }));
  }

  /** A signal that would be refused: kept in the audit with why, changes nothing else. */
  ignore(action: DecisionEntry['action'], input: Record<string, unknown> | undefined, why: string): void {
    this.record({
      surface: 'signal', action, by: typeof input?.by === 'string' ? input.by : '(none)', ignored: true, ignoredReason: why,
      step: typeof input?.step === 'string' ? input.step : undefined, gate: typeof input?.gate === 'string' ? input.gate : undefined,
    });
  }
}

function clean<T extends object>(entry: T): T {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as T;
}
