// Messages between the metaOrchestrator and its domain children. Children report every step and
// workstream transition to the parent in batches (one signal carries everything that happened since
// the last one), so the parent holds the whole run's status, outputs and saga durably in its history.
import type { Domain, StepBody } from '../plan/schema.ts';
import type { RunContext } from './run-context.ts';
import type { Attention, StepStatus, WorkstreamState } from './status.ts';

/** One finished step that can be undone: its `compensate` step, where it ran, and when. */
export interface SagaEntry {
  /** `<workstream>.<step>` */
  of: string;
  phaseId: string;
  domainId: string;
  workstreamId: string;
  stepId: string;
  compensate: StepBody;
  /** The queue the original step ran on (a compensation of a pinned GPU step goes back to that GPU). */
  taskQueue: string;
  finishedAt: string;
}

export type ProgressEvent =
  | { type: 'workstream'; workstreamId: string; state: WorkstreamState; at: string; error?: string; attention?: Attention; /** its host task queue, once chosen */ host?: string }
  | {
    type: 'step'; workstreamId: string; step: StepStatus;
    /** Full outputs of a finished step (for later substitutions and gate metric checks). */
    outputs?: Record<string, unknown>;
    saga?: SagaEntry;
  }
  | { type: 'domain'; runs: number };

export interface DomainProgress { phaseId: string; domainId: string; events: ProgressEvent[] }

export interface DependencyFinished {
  workstreams: { id: string; outputs: Record<string, Record<string, unknown>> }[];
}

/** `answer`: with a retry, a person's answer to the agent's question (the session resumes told it). */
export interface StepDecision { workstream: string; step: string; action: 'retry' | 'skip'; by: string; reason?: string; answer?: string }

export interface ReviseDomain {
  domain: Domain;
  revision: number;
  /** Plan-level settings the revision may have changed (they apply to steps that start from now on). */
  run?: Pick<RunContext, 'defaults' | 'pools' | 'env' | 'budgets' | 'prices'>;
}
