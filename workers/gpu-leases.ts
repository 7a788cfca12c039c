// GPU slots shared by a pool's queues. One process may run only one Temporal worker per task queue,
// so the shared `sparky-gpu` queue has one worker for all of this machine's GPUs, while each GPU's
// pinned queue has its own. Both take a slot of a GPU before a step runs: a pinned step waits for its
// GPU, a pool step takes whichever GPU has a free slot (least busy first). So each GPU runs at most
// `slots` steps at a time, whichever queue they came from.
import { currentActivity } from '../activities/context.ts';

export class GpuSlots {
  private busy = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(readonly slots: number) {}

  get free(): number { return this.slots - this.busy; }
  get inUse(): number { return this.busy; }

  tryTake(): boolean {
    if (this.busy >= this.slots) return false;
    this.busy += 1;
    return true;
  }

  release(): void {
    this.busy -= 1;
    this.waiters.shift()?.();
  }

  /** Resolves at the next release (the caller then tries again). */
  nextRelease(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Waits for a slot among `candidates` (least busy first); heartbeats while waiting; honours activity cancellation. */
export async function takeSlot<T extends { slots: GpuSlots }>(candidates: T[]): Promise<T> {
  const activity = currentActivity();
  const beat = setInterval(() => activity?.heartbeat({ stage: 'waiting for a GPU slot' }), 1_000);
  try {
    for (;;) {
      const pick = [...candidates].sort((a, b) => a.slots.inUse - b.slots.inUse).find((c) => c.slots.tryTake());
      if (pick) return pick;
      activity?.cancellationSignal.throwIfAborted();
      const released = Promise.race(candidates.map((c) => c.slots.nextRelease()));
      const cancelled = activity ? new Promise<void>((resolve) => activity.cancellationSignal.addEventListener('abort', () => resolve(), { once: true })) : undefined;
      await (cancelled ? Promise.race([released, cancelled]) : released);
    }
  } finally {
    clearInterval(beat);
  }
}
