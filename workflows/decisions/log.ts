// The run's list of operator decisions (status.decisions): retries, skips, rechecks, reworks, aborts
// and revisions that counted, and every refused signal with why (a signal cannot answer, so its
// refusal is kept here for people to find).
import { now, type DecisionEntry, type RunStatus } from '../status.ts';
import { clean, record } from './pipeline.ts';

export class DecisionLog {
  constructor(private readonly status: RunStatus) {}

  record(entry: Omit<DecisionEntry, 'at'>): void {
    this.status.decisions.push(clean({ at: now(), ...entry }));
  }

  /** A signal that would be refused: kept with why, changes nothing else. */
  ignore(action: DecisionEntry['action'], raw: unknown, why: string): void {
    const input = record(raw);
    this.record({
      surface: 'signal', action, by: typeof input?.by === 'string' ? input.by : '(none)', ignored: true, ignoredReason: why,
      step: typeof input?.step === 'string' ? input.step : undefined, gate: typeof input?.gate === 'string' ? input.gate : undefined,
    });
  }
}
