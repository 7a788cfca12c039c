// Signals, updates and queries: contracts operators type into `temporal` and `tctl`
// (shared/docs/DESIGN.md). Every one takes ONE JSON object argument (or none, where that makes sense:
// `temporal workflow signal --name pause` sends no input), so handlers accept `undefined` too.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunStatus } from './status.ts';
import type { DependencyFinished, DomainProgress } from './progress.ts';

export interface ApproveGateInput { gate: string; approver: string; comment?: string }
export interface RejectGateInput { gate: string; approver: string; reason: string }
export interface DecideGateInput { gate: string; approver: string; decision: 'approve' | 'reject'; comment?: string }
/** What `decideGate` answers: the gate after the vote. */
export interface DecideGateResult { gate: string; state: string; approvals: string[]; required: number; approvers: string[] }

export const approveGateSignal = defineSignal<[ApproveGateInput?]>('approveGate');
export const rejectGateSignal = defineSignal<[RejectGateInput?]>('rejectGate');
export const pauseSignal = defineSignal<[Record<string, never>?]>('pause');
export const resumeSignal = defineSignal<[Record<string, never>?]>('resume');
export const decideGateUpdate = defineUpdate<DecideGateResult, [DecideGateInput]>('decideGate');
export const statusQuery = defineQuery<RunStatus, [Record<string, never>?]>('status');

// Internal: between the metaOrchestrator and its domainOrchestrator children (see docs/orchestration.md).
/** child → parent: steps and workstreams that started/finished (batched). */
export const domainProgressSignal = defineSignal<[DomainProgress]>('domainProgress');
/** parent → child: workstreams of other domains this domain waits for have finished. */
export const dependencyFinishedSignal = defineSignal<[DependencyFinished]>('dependencyFinished');
/** parent → child: another domain failed; start nothing new, let running steps finish, then return. */
export const haltDomainSignal = defineSignal<[{ reason: string }]>('haltDomain');
/** A domain child's own status (its slice of the run). */
export const domainStatusQuery = defineQuery<unknown, [Record<string, never>?]>('domainStatus');
