// What the Web UI and `temporal workflow list --query` see of a run: the search attributes
// SparkyPlan/Phase/Gate/State, kept current (upserted only when they change, to keep history
// small), and the current details text saying what the run waits for.
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SparkyGate, SparkyPhase, SparkyPlan, SparkyState } from '../common/search-attributes.ts';

export interface Visible { plan: string; phase: string; gate: string; state: string }

export class Visibility {
  private last: Partial<Visible> = {};
  private details = '';

  constructor(private readonly searchAttributes: boolean) {}

  update(next: Visible): void {
    if (this.searchAttributes) {
      const keys = [[SparkyPlan, 'plan'], [SparkyPhase, 'phase'], [SparkyGate, 'gate'], [SparkyState, 'state']] as const;
      const pairs = keys.filter(([, field]) => this.last[field] !== next[field]).map(([key, field]) => ({ key, value: next[field] }));
      if (pairs.length > 0) upsertSearchAttributes(pairs);
    }
    this.last = { ...next };
  }

  setDetails(text: string): void {
    if (text === this.details) return;
    this.details = text;
    setCurrentDetails(text);
  }
}
