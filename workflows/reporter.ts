// A domain child's progress reporter: events queue up and one background loop sends them to the
// parent as a single `domainProgress` signal per round trip, so a burst of finishing steps costs one
// signal, not one each. While steps finish in quick succession, it sends at most one signal per
// HOLD_MS (workflow time): each signal costs a workflow task here (its acknowledgement) and one in the
// parent, which for short steps was most of Sparky's cost per step (docs/performance.md). A report
// after a quiet spell goes at once, and flush() (the child ending) sends without waiting. It runs in a
// non-cancellable scope: a cancelled child still reports what its steps did (the parent needs that
// to compensate them).
import { CancellationScope, condition, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { domainProgressSignal } from './messages.ts';
import type { ProgressEvent } from './progress.ts';

/** The least time between two progress signals of one child while it reports in bursts. */
export const HOLD_MS = 100;

export class Reporter {
  private queue: ProgressEvent[] = [];
  private sending = false;
  private flushing = false;
  private lastSent = -Infinity;

  constructor(private readonly parentWorkflowId: string, private readonly phaseId: string, private readonly domainId: string) {
    void CancellationScope.nonCancellable(() => this.loop());
  }

  push(event: ProgressEvent): void {
    this.queue.push(event);
  }

  /** Resolves once everything pushed so far has reached the parent (before returning or continuing-as-new). */
  async flush(): Promise<void> {
    this.flushing = true;
    try {
      await CancellationScope.nonCancellable(() => condition(() => this.queue.length === 0 && !this.sending));
    } finally {
      this.flushing = false;
    }
  }

  private async loop(): Promise<void> {
    const parent = getExternalWorkflowHandle(this.parentWorkflowId);
    for (;;) {
      await condition(() => this.queue.length > 0);
      const wait = this.lastSent + HOLD_MS - Date.now(); // workflow time: the same on replay
      if (wait > 0 && !this.flushing) await condition(() => this.flushing || this.queue.length >= 500, wait);
      const events = this.queue.splice(0, 500); // bounded payloads even for very large domains
      this.sending = true;
      try {
        await parent.signal(domainProgressSignal, { phaseId: this.phaseId, domainId: this.domainId, events });
      } catch (err) {
        // The parent is gone (terminated, or a test started this child alone): nobody to tell.
        log.warn('progress not delivered to the parent', { error: String(err), events: events.length });
      } finally {
        this.sending = false;
        this.lastSent = Date.now();
      }
    }
  }
}
