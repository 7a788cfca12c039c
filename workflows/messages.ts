// Signals, updates and queries: contracts operators type into `temporal` and `tctl`
// (docs/orchestration.md, docs/operations.md). Every one takes ONE JSON object argument (or none, where that makes sense:
// `temporal workflow signal --name pause` sends no input), so handlers accept `undefined` too.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunStatus } from './status.ts';
import type { SignedFields } from '../common/signed-decision.ts';
import type { DependencyFinished, DomainProgress, ReviseDomain, StepDecision } from './progress.ts';
import type { DomainInput } from './domain-orchestrator.ts';

/**
 * `signature` (armored SSHSIG of `ssh-keygen -Y sign -n sparky-gate` over `sparky statement`'s output)
 * and `signedAt` (that statement's time line): required where the approver has a key in the plan.
 */
export interface ApproveGateInput extends SignedFields { gate: string; approver: string; comment?: string }
/** `rework`: the workstreams to redo (default: every workstream of the gate's phase). */
export interface RejectGateInput extends SignedFields { gate: string; approver: string; reason: string; rework?: string[] }
export interface DecideGateInput extends SignedFields { gate: string; approver: string; decision: 'approve' | 'reject'; comment?: string; rework?: string[] }
/** What `decideGate` answers: the gate after the vote. */
export interface DecideGateResult { gate: string; state: string; approvals: string[]; required: number; approvers: string[] }

export const approveGateSignal = defineSignal<[ApproveGateInput?]>('approveGate');
export const rejectGateSignal = defineSignal<[RejectGateInput?]>('rejectGate');
export const pauseSignal = defineSignal<[Record<string, never>?]>('pause');
export const resumeSignal = defineSignal<[Record<string, never>?]>('resume');
export const decideGateUpdate = defineUpdate<DecideGateResult, [DecideGateInput]>('decideGate');

// Fix and continue (docs/orchestration.md, "Attention"): a person decides what happens to a step
// that failed for good, a gate whose checks failed, or the whole run.
/** `step`: `<workstream>/<step>`, or `<workstream>` for the step its attention names. */
export interface RetryStepInput { step: string; by: string; comment?: string }
export interface SkipStepInput { step: string; by: string; reason: string }
export interface RecheckGateInput { gate: string; by: string; comment?: string }
export interface AbortInput { by: string; reason: string }
/** Send named workstreams of a gate's phase back for rework (from `checks-failed` or a waiting gate). */
export interface ReworkGateInput { gate: string; by: string; reason: string; rework: string[] }
/** A person answers the question an agent step stopped at: its session resumes with the answer (docs/agents.md). */
export interface AnswerQuestionInput { step: string; by: string; answer: string }
export type ResolveAction = 'retryStep' | 'skipStep' | 'recheckGate' | 'abort' | 'rework' | 'answer';
/** One update for every operator decision; `comment` is the skip's, abort's or rework's reason; `answer` an agent's answer. */
export interface ResolveInput { action: ResolveAction; step?: string; gate?: string; by: string; comment?: string; rework?: string[]; answer?: string }
export interface ResolveResult { action: ResolveAction; accepted: string }
/**
 * A corrected plan. A revision that changes approvals, keys, `git`, `notify`, `baseDir` or `starters`
 * carries `signatures` (armored SSHSIG, one per signer) over the revision statement
 * (`sparky revise RUN PLAN --statement`) made at `signedAt`, from the quorum of the current approvers.
 */
export interface RevisePlanInput { plan: unknown; by: string; comment?: string; signedAt?: string; signatures?: string[] }
export interface RevisePlanResult { revision: number; changes: string[] }
/** What the `plan` query answers: the plan in force, its digest and revision (for `sparky revise --statement`). */
export interface PlanInForce { plan: unknown; planDigest: string; revision: number }

export const retryStepSignal = defineSignal<[RetryStepInput?]>('retryStep');
export const skipStepSignal = defineSignal<[SkipStepInput?]>('skipStep');
export const recheckGateSignal = defineSignal<[RecheckGateInput?]>('recheckGate');
export const abortSignal = defineSignal<[AbortInput?]>('abort');
export const reworkGateSignal = defineSignal<[ReworkGateInput?]>('reworkGate');
export const answerQuestionSignal = defineSignal<[AnswerQuestionInput?]>('answerQuestion');
export const resolveUpdate = defineUpdate<ResolveResult, [ResolveInput]>('resolve');
export const revisePlanUpdate = defineUpdate<RevisePlanResult, [RevisePlanInput]>('revisePlan');
export const statusQuery = defineQuery<RunStatus, [Record<string, never>?]>('status');
export const planQuery = defineQuery<PlanInForce, [Record<string, never>?]>('plan');

// Internal: between the metaOrchestrator and its domainOrchestrator children (see docs/orchestration.md).
/** child → parent: steps and workstreams that started/finished (batched). */
export const domainProgressSignal = defineSignal<[DomainProgress]>('domainProgress');
/** parent → child: workstreams of other domains this domain waits for have finished. */
export const dependencyFinishedSignal = defineSignal<[DependencyFinished]>('dependencyFinished');
/** parent → child: another domain failed; start nothing new, let running steps finish, then return. */
export const haltDomainSignal = defineSignal<[{ reason: string }]>('haltDomain');
/** parent → child: a person's decision about a step in attention (retry it, or skip it and go on). */
export const stepDecisionSignal = defineSignal<[StepDecision]>('stepDecision');
/** parent → child: the plan was revised; the child's workstreams not yet finished follow the new definition. */
export const reviseDomainSignal = defineSignal<[ReviseDomain]>('reviseDomain');
/** parent → parked child: its phase starts now; what to run (a child started before its phase waits for this). */
export const startDomainSignal = defineSignal<[DomainInput]>('startDomain');
/** parent → child (plans with phase or run budgets): what the phase and the run spent outside the child, as agent steps report it. */
export const budgetSpendSignal = defineSignal<[{ phase: { usd: number; tokens: number; turns: number }; run: { usd: number; tokens: number; turns: number } }]>('budgetSpend');
/** A domain child's own status (its slice of the run). */
export const domainStatusQuery = defineQuery<unknown, [Record<string, never>?]>('domainStatus');
