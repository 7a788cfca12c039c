// One phase: a domainOrchestrator child per domain, all at once. Cross-domain dependencies inside
// the phase: each child is told which foreign workstreams it waits for; when one of them succeeds
// (the owning child reports it), the parent relays `dependencyFinished` with its outputs. When a
// domain fails, the others are halted (nothing new starts, running steps finish) and the phase fails.
// A rework run of a phase (after a gate's rejection) starts children only for the domains with
// reopened workstreams, telling them what is already done and which workstreams wait for a person.
// Children parked while the gate before this phase waited (workflows/parked.ts) are started with a
// `startDomain` signal instead of a new workflow.
import { ApplicationFailure, isCancellation, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { domainWorkflowId } from '../common/ids.ts';
import { findOutputRefs } from '../plan/outputs.ts';
import type { Phase, Plan } from '../plan/schema.ts';
import { domainOrchestrator, type DomainInput } from './domain-orchestrator.ts';
import { haltDomainSignal, startDomainSignal } from './messages.ts';
import type { ParkedChildren } from './parked.ts';
import type { Relay } from './relay.ts';
import { DEFAULT_CONTINUE_AS_NEW_AFTER, DEFAULT_MAX_PARALLEL, type RunContext, type RunOptions } from './run-context.ts';
import type { StatusIndex } from './status-index.ts';
import { now, type Attention, type PhaseStatus } from './status.ts';
import { domainSpendInput, hostsOf, runBudgets } from './spend.ts';
import { errorMessage } from './errors.ts';
import { domainCacheInput, type DomainCacheInput } from './cache.ts';

export interface PhaseDeps {
  plan: Plan;
  options: RunOptions;
  run: Omit<RunContext, 'phaseId'>;
  index: StatusIndex;
  relay: Relay;
  paused: () => boolean;
  /** Children now running, by workflow id (pause/resume are relayed to them). */
  active: Set<string>;
  /** Foreign workstream → the children that wait for it (filled per phase, read by the progress handler). */
  dependents: Map<string, string[]>;
  onChange: () => void;
  onFailure: 'ask' | 'compensate' | 'halt';
  revision: number;
  /** `<workstream>.<step>` skipped by a person → who and why. */
  skipped: Record<string, string>;
  /** The next phase's children, started while a gate waits. */
  parked: ParkedChildren;
  /** Cached steps of these workstreams (or all: true) run whatever the cache holds (--no-cache, --from). */
  noCache?: true | string[];
}

/**
 * A phase run again for rework (or a subset run's phase): what stays done (or is left out), which
 * workstreams start in attention, and the cache keys of the outputs a reviewer sent back.
 */
export interface Rerun { done: Set<string>; held: Record<string, Attention>; avoid?: DomainCacheInput['avoid'] }

export async function runPhase(phase: Phase, status: PhaseStatus, deps: PhaseDeps, rerun?: Rerun): Promise<void> {
  const { plan, run, index } = deps;
  const owner = new Map<string, string>();
  for (const d of phase.domains) for (const ws of d.workstreams) { owner.set(ws.id, d.id); deps.dependents.delete(ws.id); }
  const childId = (domainId: string) => domainWorkflowId(run.runWorkflowId, phase.id, domainId);
  const isDone = (ws: string) => rerun?.done.has(ws) ?? false;
  const domains = phase.domains.filter((d) => d.workstreams.some((ws) => !isDone(ws.id)));

  const inputs = domains.map((domain): DomainInput => {
    const external = new Set<string>();
    for (const ws of domain.workstreams) {
      if (isDone(ws.id)) continue;
      for (const dep of ws.dependsOn ?? []) if (owner.has(dep) && owner.get(dep) !== domain.id) external.add(dep);
    }
    const externalDone = [...external].filter(isDone);
    for (const dep of externalDone) external.delete(dep);
    for (const dep of external) deps.dependents.set(dep, [...(deps.dependents.get(dep) ?? []), childId(domain.id)]);
    // Only the outputs this domain's steps reference travel with it: big plans keep small inputs.
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const ref of findOutputRefs(domain.workstreams)) Object.assign(outputs, index.byWorkstream.get(ref.workstream));
    const held = Object.fromEntries(domain.workstreams.filter((ws) => rerun?.held[ws.id]).map((ws) => [ws.id, rerun!.held[ws.id]]));
    const hosts = hostsOf(status, domain.id);
    const spend = domainSpendInput(index, phase.id, domain.id);
    const cache = domainCacheInput(plan, domain, index.fingerprints, { noCache: deps.noCache, avoid: rerun?.avoid });
    return {
      run: { ...run, phaseId: phase.id, ...runBudgets(plan, phase) }, domain,
      ...(hosts ? { hosts } : {}), ...(spend ? { spend } : {}), externalDeps: [...external, ...externalDone], outputs, paused: deps.paused(),
      maxParallel: domain.maxParallel ?? plan.defaults?.maxParallel ?? DEFAULT_MAX_PARALLEL,
      continueAsNewAfter: deps.options.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER,
      onFailure: deps.onFailure, revision: deps.revision, skipped: deps.skipped, ...(cache && { cache }),
      ...(rerun ? {
        held, carry: { done: domain.workstreams.filter((ws) => isDone(ws.id)).map((ws) => ws.id), externalDone, pinned: {}, runs: 0 },
      } : {}),
    };
  });

  status.state = 'running';
  status.startedAt ??= now();
  for (const domain of status.domains) if (domains.some((d) => d.id === domain.id)) { domain.state = 'running'; domain.finishedAt = undefined; }
  deps.onChange();
  deps.relay.phaseRestarting(phase.id);
  const taskQueue = workflowInfo().taskQueue;
  const handles: ChildWorkflowHandle<typeof domainOrchestrator>[] = await Promise.all(inputs.map(async (input) => {
    const workflowId = childId(input.domain.id);
    deps.active.add(workflowId);
    const parked = await deps.parked.take(phase.id, input.domain.id);
    if (parked) {
      void parked.signal(startDomainSignal, input).catch(() => undefined); // a child gone by now fails its result, below
      return parked;
    }
    return startChild(domainOrchestrator, { workflowId, taskQueue, args: [input], memo: { sparkyDomain: input.domain.id } });
  }));
  deps.parked.standDown(phase.id); // parked children of domains a revision removed
  deps.relay.phaseStarted(phase.id);

  let firstFailure: unknown;
  let cancellation: unknown;
  await Promise.all(handles.map(async (handle, i) => {
    const domain = status.domains.find((d) => d.id === inputs[i].domain.id) as PhaseStatus['domains'][number];
    try {
      const result = await handle.result();
      domain.state = result.state;
      domain.runs = Math.max(domain.runs, result.runs);
    } catch (err) {
      if (isCancellation(err)) {
        domain.state = 'cancelled';
        cancellation ??= err;
      } else {
        domain.state = 'failed';
        domain.error = errorMessage(err);
        if (firstFailure === undefined) {
          firstFailure = err;
          const others = [...deps.active].filter((id) => id !== handle.workflowId);
          deps.relay.send(phase.id, others, haltDomainSignal, { reason: `domain ${domain.id} failed` });
        }
      }
    } finally {
      domain.finishedAt = now();
      deps.active.delete(handle.workflowId);
      deps.onChange();
    }
  }));
  if (cancellation !== undefined) { status.state = 'cancelled'; throw cancellation; }
  if (firstFailure !== undefined) {
    status.state = 'failed';
    status.finishedAt = now();
    const failed = status.domains.filter((d) => d.state === 'failed');
    throw ApplicationFailure.nonRetryable(
      `phase ${phase.id} failed: ${failed.map((d) => `${d.error}`).join('; ')}`, 'SparkyPhaseFailed',
      { phase: phase.id, domains: failed.map((d) => d.id) });
  }
}
