// Signals from the metaOrchestrator to its domain children (dependencies finished elsewhere, pause,
// resume, halt), sent one after another by a background loop so signal handlers never block. A
// relay for a phase waits until that phase's children have all started: a child is never signalled
// before it exists. A child that already closed cannot be signalled; that is fine (it needs nothing).
import { CancellationScope, condition, getExternalWorkflowHandle, log, type SignalDefinition } from '@temporalio/workflow';

type AnySignal = SignalDefinition<any[]>;
interface Relayed { phaseId: string; targets: string[]; signal: AnySignal; payload: unknown }

export class Relay {
  private readonly queue: Relayed[] = [];
  private readonly startedPhases = new Set<string>();

  constructor() {
    // Outside the run's cancellation: a cancelled run must not die of its idle relay loop.
    void CancellationScope.nonCancellable(() => this.loop());
  }

  phaseStarted(phaseId: string): void {
    this.startedPhases.add(phaseId);
  }

  /** A phase runs again (rework): hold its relays until the new children have started. */
  phaseRestarting(phaseId: string): void {
    this.startedPhases.delete(phaseId);
  }

  send(phaseId: string, targets: string[], signal: AnySignal, payload: unknown): void {
    if (targets.length > 0) this.queue.push({ phaseId, targets, signal, payload });
  }

  private async loop(): Promise<void> {
    for (;;) {
      await condition(() => this.queue.length > 0 && this.startedPhases.has(this.queue[0].phaseId));
      const item = this.queue.shift() as Relayed;
      await Promise.all(item.targets.map(async (workflowId) => {
        try {
          await getExternalWorkflowHandle(workflowId).signal(item.signal, item.payload);
        } catch (err) {
          log.debug('relay not delivered (child closed)', { workflowId, signal: item.signal.name, error: String(err) });
        }
      }));
    }
  }
}
