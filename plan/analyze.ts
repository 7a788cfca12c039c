// DAG analysis of a valid plan, from the workstream estimates: topological order, parallelism per
// phase, and three durations — everything one after another, the dependency critical path ignoring
// phase barriers, and the schedule with each phase gate as a barrier — plus the critical path.
// Every duration is given for the low end, the midpoint and the high end of the estimate ranges.
// Assumptions (docs/plan-reference.md): unlimited workers (maxParallel is not applied), a gate takes
// no time, and a workstream without an estimate takes none. Pure.
import type { Plan } from './schema.ts';
import { parseEstimate } from './durations.ts';
import { topologicalOrder, type DepGraph } from './graph.ts';
import { approverNames } from '../common/approvers.ts';

/** Milliseconds at the low end, the midpoint and the high end of the estimates. */
export interface Span { low: number; mid: number; high: number }
type Key = keyof Span;
const KEYS: Key[] = ['low', 'mid', 'high'];

export interface WorkstreamSummary {
  id: string;
  name?: string;
  phaseId: string;
  domainId: string;
  dependsOn: string[];
  estimate?: string;
  span: Span;
  /** When it starts in the barrier schedule (unlimited workers). */
  start: Span;
  pools: string[];
  steps: number;
}

export interface PhaseSummary {
  id: string;
  name?: string;
  domains: string[];
  workstreams: number;
  steps: number;
  /** Most workstreams running at once in the barrier schedule (midpoints), with unlimited workers. */
  maxParallel: number;
  /** Start and length of the phase in the barrier schedule. */
  start: Span;
  length: Span;
  gate?: { id: string; name?: string; checks: number; approvers: string[]; required: number };
}

export interface PlanAnalysis {
  name: string;
  counts: { phases: number; domains: number; workstreams: number; steps: number; gates: number };
  order: string[];
  workstreams: WorkstreamSummary[];
  phases: PhaseSummary[];
  /** All workstreams one after another. */
  serial: Span;
  /** The longest dependency chain, ignoring phase barriers (the path is the midpoint one). */
  criticalPath: { path: string[]; span: Span };
  /** Phases in order, each waiting for the previous phase (and its gate) to finish. */
  scheduled: Span;
}

export function analyzePlan(plan: Plan): PlanAnalysis {
  const defaultPool = plan.defaults?.pool ?? 'cpu';
  const workstreams: WorkstreamSummary[] = [];
  const phaseOf = new Map<string, number>();
  plan.phases.forEach((phase, p) => {
    for (const domain of phase.domains) {
      for (const ws of domain.workstreams) {
        const range = ws.estimate ? parseEstimate(ws.estimate) : undefined;
        phaseOf.set(ws.id, p);
        workstreams.push({
          id: ws.id, name: ws.name, phaseId: phase.id, domainId: domain.id, dependsOn: ws.dependsOn ?? [],
          estimate: ws.estimate, span: range ? { low: range.low, mid: range.mid, high: range.high } : { low: 0, mid: 0, high: 0 },
          start: { low: 0, mid: 0, high: 0 },
          pools: [...new Set(ws.steps.map((s) => s.pool ?? defaultPool))], steps: ws.steps.length,
        });
      }
    }
  });
  const byId = new Map(workstreams.map((w) => [w.id, w]));
  const graph: DepGraph = new Map(workstreams.map((w) => [w.id, w.dependsOn.filter((d) => byId.has(d))]));
  const order = topologicalOrder(graph);

  const serial = spanOf((k) => workstreams.reduce((sum, w) => sum + w.span[k], 0));

  // Critical path ignoring barriers: longest path by each weight; the path reported is the midpoint one.
  const finishes = KEYS.map((k) => longestFinish(order, graph, (id) => byId.get(id)!.span[k]));
  const critical = spanOf((k) => Math.max(0, ...finishes[KEYS.indexOf(k)].finish.values()));
  const mid = finishes[1];
  let end: string | undefined;
  for (const id of order) if (end === undefined || mid.finish.get(id)! > mid.finish.get(end)!) end = id;
  const path: string[] = [];
  for (let n = end; n !== undefined; n = mid.via.get(n)) path.unshift(n);

  // Barrier schedule: a phase starts when the previous one (and its gate) ended.
  const phaseStart = KEYS.map(() => [] as number[]);
  const phaseEnd = KEYS.map(() => [] as number[]);
  const starts = KEYS.map(() => new Map<string, number>());
  KEYS.forEach((k, ki) => {
    let clock = 0;
    plan.phases.forEach((_, p) => {
      phaseStart[ki][p] = clock;
      let phaseEndAt = clock;
      const finish = new Map<string, number>();
      for (const id of order) {
        if (phaseOf.get(id) !== p) continue;
        const start = Math.max(clock, ...graph.get(id)!.map((d) => finish.get(d) ?? clock));
        starts[ki].set(id, start);
        finish.set(id, start + byId.get(id)!.span[k]);
        phaseEndAt = Math.max(phaseEndAt, finish.get(id)!);
      }
      phaseEnd[ki][p] = phaseEndAt;
      clock = phaseEndAt;
    });
  });
  for (const w of workstreams) w.start = spanOf((k) => starts[KEYS.indexOf(k)].get(w.id) ?? 0);
  const scheduled = spanOf((k) => (plan.phases.length ? phaseEnd[KEYS.indexOf(k)][plan.phases.length - 1] : 0));

  const phases: PhaseSummary[] = plan.phases.map((phase, p) => {
    const members = workstreams.filter((w) => phaseOf.get(w.id) === p);
    const gate = phase.gate;
    return {
      id: phase.id, name: phase.name, domains: phase.domains.map((d) => d.id),
      workstreams: members.length, steps: members.reduce((s, w) => s + w.steps, 0),
      maxParallel: maxConcurrent(members, starts[1], byId),
      start: spanOf((k) => phaseStart[KEYS.indexOf(k)][p]),
      length: spanOf((k) => phaseEnd[KEYS.indexOf(k)][p] - phaseStart[KEYS.indexOf(k)][p]),
      gate: gate && {
        id: gate.id, name: gate.name, checks: gate.checks?.length ?? 0,
        approvers: approverNames(gate.approval?.approvers), required: gate.approval ? gate.approval.required ?? 1 : 0,
      },
    };
  });

  return {
    name: plan.name,
    counts: {
      phases: plan.phases.length,
      domains: plan.phases.reduce((s, p) => s + p.domains.length, 0),
      workstreams: workstreams.length,
      steps: workstreams.reduce((s, w) => s + w.steps, 0),
      gates: plan.phases.filter((p) => p.gate).length,
    },
    order, workstreams, phases, serial, criticalPath: { path, span: critical }, scheduled,
  };
}

function spanOf(f: (k: Key) => number): Span {
  return { low: f('low'), mid: f('mid'), high: f('high') };
}

/** Earliest finish of every workstream with unlimited workers, and the dependency that decided it. */
function longestFinish(order: string[], graph: DepGraph, weight: (id: string) => number) {
  const finish = new Map<string, number>();
  const via = new Map<string, string>();
  for (const id of order) {
    let start = 0;
    for (const dep of graph.get(id)!) {
      const f = finish.get(dep) ?? 0;
      // Strictly greater: among equally long chains the dependency listed first wins (stable output).
      if (f > start || (!via.has(id) && f === start && f > 0)) { start = f; via.set(id, dep); }
    }
    finish.set(id, start + weight(id));
  }
  return { finish, via };
}

/**
 * Most intervals overlapping at one time in the midpoint barrier schedule. A workstream without an
 * estimate counts as one day here so that it still occupies a slot.
 */
function maxConcurrent(members: WorkstreamSummary[], starts: Map<string, number>, byId: Map<string, WorkstreamSummary>): number {
  const events: [number, number][] = [];
  for (const w of members) {
    const start = starts.get(w.id);
    if (start === undefined) continue;
    const length = byId.get(w.id)!.span.mid || 86_400_000;
    events.push([start, 1], [start + length, -1]);
  }
  // Ends sort before starts at the same instant: back-to-back workstreams do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let best = 0;
  for (const [, delta] of events) { now += delta; best = Math.max(best, now); }
  return best;
}
