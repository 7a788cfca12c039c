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
  /** The step was taken from the cache: it did not run in this run, so its compensation does not either (it says why). */
  cached?: { run: string; at: string };
}

export type ProgressEvent =
  | {
    type: 'workstream'; workstreamId: string; state: WorkstreamState; at: string; error?: string; attention?: Attention;
    /** Plans with cached steps: the fingerprint of a workstream that succeeded (its last step's). */
    fingerprint?: string;
    /** Its host task queue, once chosen (one host per workstream). */
    host?: string;
  }
  | {
    type: 'step'; workstreamId: string; step: StepStatus;
    /** Full outputs of a finished step (for later substitutions and gate metric checks). */
    outputs?: Record<string, unknown>;
    saga?: SagaEntry;
    /** Plans with cached steps: the finished step's fingerprint (plan/cache-key.ts), for the keys of later steps. */
    fingerprint?: string;
  }
  | { type: 'domain'; runs: number };

export interface DomainProgress { phaseId: string; domainId: string; events: ProgressEvent[] }

export interface DependencyFinished {
  /** `fingerprints`: plans with cached steps only (the workstream's and its steps'). */
  workstreams: { id: string; outputs: Record<string, Record<string, unknown>>; fingerprints?: Record<string, string> }[];
}

/** `answer`: with a retry, a person's answer to the agent's question (the session resumes told it). */
export interface StepDecision { workstream: string; step: string; action: 'retry' | 'skip'; by: string; reason?: string; answer?: string }

export interface ReviseDomain {
  domain: Domain;
  revision: number;
  /** Plan-level settings the revision may have changed (they apply to steps that start from now on). */
  run?: Pick<RunContext, 'defaults' | 'pools' | 'env' | 'budgets' | 'prices'>;
}
