// One phase: a domainOrchestrator child per domain, all at once. Cross-domain dependencies inside
// the phase: each child is told which foreign workstreams it waits for; when one of them succeeds
// (the owning child reports it), the parent relays `dependencyFinished` with its outputs. When a
// domain fails, the others are halted (nothing new starts, running steps finish) and the phase fails.
import { ApplicationFailure, isCancellation, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { domainWorkflowId } from '../common/ids.ts';
import { findOutputRefs } from '../plan/outputs.ts';
import type { Phase, Plan } from '../plan/schema.ts';
import { domainOrchestrator, type DomainInput } from './domain-orchestrator.ts';
import { haltDomainSignal } from './messages.ts';
import type { Relay } from './relay.ts';
import { DEFAULT_CONTINUE_AS_NEW_AFTER, DEFAULT_MAX_PARALLEL, type RunContext, type RunOptions } from './run-context.ts';
import type { StatusIndex } from './status-index.ts';
import { now, type PhaseStatus } from './status.ts';
import { errorMessage } from './steps.ts';

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
}

export async function runPhase(phase: Phase, status: PhaseStatus, deps: PhaseDeps): Promise<void> {
  const { plan, run, index } = deps;
  const owner = new Map<string, string>();
  for (const d of phase.domains) for (const ws of d.workstreams) owner.set(ws.id, d.id);
  const childId = (domainId: string) => domainWorkflowId(run.runWorkflowId, phase.id, domainId);

  const inputs = phase.domains.map((domain): DomainInput => {
    const external = new Set<string>();
    for (const ws of domain.workstreams) {
      for (const dep of ws.dependsOn ?? []) if (owner.has(dep) && owner.get(dep) !== domain.id) external.add(dep);
    }
    for (const dep of external) deps.dependents.set(dep, [...(deps.dependents.get(dep) ?? []), childId(domain.id)]);
    // Only the outputs this domain's steps reference travel with it: big plans keep small inputs.
    const outputs: Record<string, Record<string, unknown>> = {};
    for (const ref of findOutputRefs(domain.workstreams)) Object.assign(outputs, index.byWorkstream.get(ref.workstream));
    return {
      run: { ...run, phaseId: phase.id }, domain, externalDeps: [...external], outputs, paused: deps.paused(),
      maxParallel: domain.maxParallel ?? plan.defaults?.maxParallel ?? DEFAULT_MAX_PARALLEL,
      continueAsNewAfter: deps.options.continueAsNewAfter ?? DEFAULT_CONTINUE_AS_NEW_AFTER,
    };
  });

  status.state = 'running';
  status.startedAt = now();
  deps.onChange();
  const taskQueue = workflowInfo().taskQueue;
  const handles: ChildWorkflowHandle<typeof domainOrchestrator>[] = await Promise.all(inputs.map((input) => {
    const workflowId = childId(input.domain.id);
    deps.active.add(workflowId);
    return startChild(domainOrchestrator, { workflowId, taskQueue, args: [input], memo: { sparkyDomain: input.domain.id } });
  }));
  deps.relay.phaseStarted(phase.id);

  let firstFailure: unknown;
  let cancellation: unknown;
  await Promise.all(handles.map(async (handle, i) => {
    const domain = status.domains[i];
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
