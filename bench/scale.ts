// Scaling benchmark: plans of 200 and 2,000 workstreams (10,000 with --scale-10k: slow on a small
// machine), one no-op step each, in 4 domains × 4 lanes. For each: wall time per workstream and the
// parent (metaOrchestrator) history's size in events, and how many runs the domain children took
// (continue-as-new). Cost that grows linearly shows as a flat time per workstream and a parent history
// that grows no faster than the plan.
import type { Plan } from '../plan/schema.ts';
import type { RunStatus } from '../workflows/status.ts';
import { startPlan, type Harness } from './orchestration.ts';
import { round, type BenchRow } from './stats.ts';

const DOMAINS = 4;
const LANES = 4;

export function scalePlan(workstreams: number): Plan {
  const per = Math.ceil(workstreams / DOMAINS);
  return {
    name: `bench-scale-${workstreams}`,
    phases: [{
      id: 'p',
      domains: Array.from({ length: DOMAINS }, (_, d) => ({
        id: `d${d}`, maxParallel: LANES,
        workstreams: Array.from({ length: Math.min(per, workstreams - d * per) }, (_, w) => ({ id: `w${d}-${w}`, steps: [{ id: 'noop', kind: 'shell' as const, run: ['true'] }] })),
      })),
    }],
  };
}

export async function runScaleBench(h: Harness, sizes: number[], log = console.log): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const perWorkstream: Record<number, number> = {};
  for (const n of sizes) {
    log(`· scale: ${n} workstreams …`);
    const t0 = performance.now();
    const handle = await startPlan(h, scalePlan(n));
    await handle.result();
    const ms = performance.now() - t0;
    const [history, status] = await Promise.all([handle.fetchHistory(), handle.query<RunStatus>('status')]);
    const events = history.events?.length ?? 0;
    const childRuns = status.phases.flatMap((p) => p.domains.map((d) => d.runs));
    perWorkstream[n] = ms / n;
    const first = sizes[0];
    rows.push({
      name: `scale: ${n} workstreams (1 no-op step each, ${DOMAINS} domains × ${LANES} lanes)`,
      baseline: n === first ? 'time per workstream and parent history per workstream' : `the ${first}-workstream plan: ${round(perWorkstream[first])} ms per workstream`,
      value: `${round(ms / n)} ms per workstream (${round(ms / 1000)} s); parent history ${events} events (${round(events / n)} per workstream)`,
      ratio: n === first ? undefined : round(perWorkstream[n] / perWorkstream[first]),
      details: { workstreams: n, wallMs: round(ms), msPerWorkstream: round(ms / n), parentHistoryEvents: events, eventsPerWorkstream: round(events / n, 3), domainChildRuns: childRuns },
    });
  }
  return rows;
}
