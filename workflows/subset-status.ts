// A subset run's status (plan/subset.ts): the workstreams it leaves out are shown skipped with why, and
// their steps with them; domains with nothing selected are skipped too. Pure.
import type { Selection } from '../plan/subset.ts';
import type { RunStatus } from './status.ts';

export function markExcluded(status: RunStatus, selection: Selection): void {
  for (const phase of status.phases) {
    for (const d of phase.domains) {
      for (const ws of d.workstreams) {
        const why = selection.excluded.get(ws.id);
        if (why === undefined) continue;
        ws.state = 'skipped';
        ws.skippedReason = why;
        for (const s of ws.steps) Object.assign(s, { state: 'skipped', skippedReason: why });
      }
      if (d.workstreams.every((w) => w.state === 'skipped')) d.state = 'skipped';
    }
  }
}
