// What the Web UI and `temporal workflow list --query` see of a run: the search attributes
// SparkyPlan/Phase/Gate/State, kept current (upserted only when they change, to keep history
// small), SparkyGatesPassed (each gate the run passed, added when it is approved), and the current
// details text saying what the run waits for.
import { patched, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { SparkyGate, SparkyGatesPassed, SparkyPhase, SparkyPlan, SparkyState } from '../common/search-attributes.ts';

/** `gatesPassed`: the gates approved so far, in order (a gate once passed stays passed). */
export interface Visible { plan: string; phase: string; gate: string; state: string; gatesPassed?: string[] }

/**
 * SparkyGatesPassed is an upsert that runs of earlier builds never made: it goes behind this patch so
 * their histories replay (test/workflows/replay.test.ts). patched() is asked only when a gate is first
 * approved, so a run's history gets the marker at that point and nowhere else.
 */
export const GATES_PASSED_PATCH = 'sparky-gates-passed';

export class Visibility {
  private last: Partial<Visible> = {};
  private details = '';
  private passed: string[] = [];
  /** undefined until the first approval asks patched(); false for a run that replays without the patch. */
  private passedPatch?: boolean;

  constructor(private readonly searchAttributes: boolean) {}

  update(next: Visible): void {
    if (this.searchAttributes) {
      const keys = [[SparkyPlan, 'plan'], [SparkyPhase, 'phase'], [SparkyGate, 'gate'], [SparkyState, 'state']] as const;
      const pairs = keys.filter(([, field]) => this.last[field] !== next[field]).map(([key, field]) => ({ key, value: next[field] as string }));
      if (pairs.length > 0) upsertSearchAttributes(pairs);
      const added = (next.gatesPassed ?? []).filter((g) => !this.passed.includes(g));
      if (added.length > 0) {
        this.passed = [...this.passed, ...added];
        this.passedPatch ??= patched(GATES_PASSED_PATCH);
        if (this.passedPatch) upsertSearchAttributes([{ key: SparkyGatesPassed, value: [...this.passed] }]);
      }
    }
    this.last = { ...next };
  }

  setDetails(text: string): void {
    if (text === this.details) return;
    this.details = text;
    setCurrentDetails(text);
  }
}
