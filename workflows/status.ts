// The status model: what the `status` query answers and what the Web UI's current details summarise.
// The metaOrchestrator owns the one complete copy; domain children send it progress events
// (workflows/progress.ts) as their steps start and finish. Plain JSON, times in workflow time (ISO).
import type { GateCheckResult } from '../common/activity-types.ts';
import type { Plan } from '../plan/schema.ts';

export type RunState = 'running' | 'paused' | 'waiting' | 'compensating' | 'completed' | 'failed' | 'cancelled';
export type StepState = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type WorkstreamState = 'pending' | 'running' | 'succeeded' | 'failed' | 'halted' | 'cancelled';
export type DomainState = 'pending' | 'running' | 'succeeded' | 'failed' | 'halted' | 'cancelled';
export type PhaseState = 'pending' | 'running' | 'gate' | 'succeeded' | 'failed' | 'cancelled';
export type GateState = 'pending' | 'checking' | 'waiting' | 'approved' | 'rejected' | 'failed';

export interface StepStatus {
  id: string;
  kind: string;
  state: StepState;
  startedAt?: string;
  finishedAt?: string;
  /** Attempts the activity took (reported by the worker; on failure: the attempts the retry policy allowed). */
  attempts?: number;
  lastError?: string;
  skippedReason?: string;
  taskQueue?: string;
  /** Output keys and short values, never whole blobs. */
  outputs?: Record<string, string>;
  viaShell?: boolean;
  logPath?: string;
  durationMs?: number;
}

export interface WorkstreamStatus {
  id: string;
  name?: string;
  state: WorkstreamState;
  dependsOn: string[];
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  steps: StepStatus[];
}

export interface DomainStatus {
  id: string;
  workflowId: string;
  state: DomainState;
  /** How many runs the child took (continue-as-new keeps big domains under the history limits). */
  runs: number;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  workstreams: WorkstreamStatus[];
}

export interface AuditEntry {
  at: string;
  surface: 'signal' | 'update' | 'timeout';
  approver: string;
  decision?: 'approve' | 'reject' | 'escalate';
  comment?: string;
  reason?: string;
  /** The approval was automatic (onTimeout: approve). */
  automatic?: boolean;
  /** A signal that would have been refused: kept, with why, and not counted. */
  ignored?: boolean;
  ignoredReason?: string;
}

export interface GateStatus {
  id: string;
  phaseId: string;
  state: GateState;
  checks: GateCheckResult[];
  approvers: string[];
  required: number;
  /** Approvers whose approval counts now (distinct, from the current approver list). */
  approvals: string[];
  escalated: boolean;
  waitingSince?: string;
  deadline?: string;
  decidedAt?: string;
  audit: AuditEntry[];
}

export interface PhaseStatus {
  id: string;
  name?: string;
  state: PhaseState;
  startedAt?: string;
  finishedAt?: string;
  domains: DomainStatus[];
  gate?: GateStatus;
}

export interface CompensationStatus {
  /** `<workstream>.<step>` of the step this undoes. */
  of: string;
  stepId: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
  taskQueue: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
}

export interface RunStatus {
  runWorkflowId: string;
  plan: string;
  state: RunState;
  paused: boolean;
  currentPhase?: string;
  /** What the run waits for, in words (also the Web UI's current details). */
  waitingFor: string;
  startedAt: string;
  finishedAt?: string;
  error?: string;
  onFailure: 'compensate' | 'halt';
  phases: PhaseStatus[];
  compensations: CompensationStatus[];
  counts: { phases: number; domains: number; workstreams: number; steps: number; finishedWorkstreams: number };
}

export function now(): string {
  return new Date().toISOString(); // workflow time: deterministic inside the workflow sandbox
}

export function initialStatus(plan: Plan, runWorkflowId: string, domainId: (phaseId: string, domainId: string) => string): RunStatus {
  let domains = 0; let workstreams = 0; let steps = 0;
  const phases: PhaseStatus[] = plan.phases.map((phase) => ({
    id: phase.id, name: phase.name, state: 'pending',
    domains: phase.domains.map((d) => {
      domains += 1;
      return {
        id: d.id, workflowId: domainId(phase.id, d.id), state: 'pending', runs: 0,
        workstreams: d.workstreams.map((ws) => {
          workstreams += 1; steps += ws.steps.length;
          return {
            id: ws.id, name: ws.name, state: 'pending' as const, dependsOn: ws.dependsOn ?? [],
            steps: ws.steps.map((s) => ({ id: s.id, kind: s.kind, state: 'pending' as const })),
          };
        }),
      };
    }),
    gate: phase.gate ? {
      id: phase.gate.id, phaseId: phase.id, state: 'pending', checks: [], escalated: false, audit: [], approvals: [],
      approvers: phase.gate.approval?.approvers ?? [], required: phase.gate.approval?.required ?? 1,
    } : undefined,
  }));
  return {
    runWorkflowId, plan: plan.name, state: 'running', paused: false, waitingFor: 'starting', startedAt: now(),
    onFailure: plan.onFailure ?? 'compensate', phases, compensations: [],
    counts: { phases: phases.length, domains, workstreams, steps, finishedWorkstreams: 0 },
  };
}

/** Short printable values for the status: outputs can be large, the status must stay small. */
export function summariseOutputs(outputs: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!outputs) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(outputs)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    out[k] = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  }
  return out;
}
