// The next phase's domain children, started early and parked. A gate's approval would otherwise wait
// for new child workflows to start (a workflow start and its first task on the critical path: most of
// a gate's latency, docs/performance.md); so while a gate waits, its next phase's children are
// started with only their place (`ParkedDomainInput`) and run nothing until the phase starts and
// `startDomain` brings their input, computed then from the plan in force (a revision made at the gate
// is honoured). A parked child whose domain is gone by then (revised away) is cancelled; so are all of
// them when the run ends early.
import { CancellationScope, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { Phase } from '../plan/schema.ts';
import { domainOrchestrator } from './domain-orchestrator.ts';

type Handle = ChildWorkflowHandle<typeof domainOrchestrator>;
interface Parked { phaseId: string; domainId: string; scope: CancellationScope; handle: Promise<Handle | undefined>; ended: Promise<void> }

export class ParkedChildren {
  private parked: Parked[] = [];
  private standingDown: Promise<void>[] = [];

  constructor(private readonly childId: (phaseId: string, domainId: string) => string) {}

  /** Starts a parked child for each domain of the phase (once; a phase run again for rework parks nothing new). */
  park(phase: Phase): void {
    if (this.parked.some((p) => p.phaseId === phase.id)) return;
    const taskQueue = workflowInfo().taskQueue;
    for (const domain of phase.domains) {
      const scope = new CancellationScope();
      const workflowId = this.childId(phase.id, domain.id);
      const handle = scope.run(() => startChild(domainOrchestrator, {
        workflowId, taskQueue, args: [{ parked: { phaseId: phase.id, domainId: domain.id } }], memo: { sparkyDomain: domain.id, sparkyParked: true },
      })).then((h) => {
        h.result().catch(() => undefined); // a child cancelled while parked ends nothing; a started one is awaited by its phase
        return h;
      }, () => undefined); // not started (cancelled first, or the id is taken): the phase starts that domain itself
      const ended = handle.then((h) => h?.result()).then(() => undefined, () => undefined);
      this.parked.push({ phaseId: phase.id, domainId: domain.id, scope, handle, ended });
    }
  }

  /** The parked child of this phase's domain, if one was started; it is the phase's from now on. */
  async take(phaseId: string, domainId: string): Promise<Handle | undefined> {
    const i = this.parked.findIndex((p) => p.phaseId === phaseId && p.domainId === domainId);
    if (i < 0) return undefined;
    const [entry] = this.parked.splice(i, 1);
    return entry.handle;
  }

  /** Cancels the children still parked for this phase (their domains were revised away), or all of them (the run ends). */
  standDown(phaseId?: string): void {
    for (const p of this.parked) {
      if (phaseId === undefined || p.phaseId === phaseId) { p.scope.cancel(); this.standingDown.push(p.ended); }
    }
    this.parked = this.parked.filter((p) => phaseId !== undefined && p.phaseId !== phaseId);
  }

  /** Resolves once every child stood down has ended (a run closes after its children, so they end cancelled, not terminated). */
  async ended(): Promise<void> {
    await Promise.all(this.standingDown);
  }
}
