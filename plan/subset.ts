// Subset runs (`sparky run PLAN --only WS…` / `--from WS…`, or options.only / options.from): which
// workstreams a run runs, and which it leaves out and why. `--only S` runs S and every workstream S
// needs (its dependencies, transitively: from the cache or by running them); `--from F` runs F and
// everything downstream of it — forced to run, not taken from the cache — plus what those need. A
// phase without a selected workstream is not entered (its gate is not asked); the gate of a phase that
// is entered skips the checks that read the work of a workstream left out (plan/subset.ts checkReads).
// Pure: the workflows and the CLI use it.
import { producerOf, runDirProducers } from './cache-key.ts';
import { findOutputRefs } from './outputs.ts';
import type { Gate, GateCheck, Phase, Plan, Workstream } from './schema.ts';
import { suggest } from './suggest.ts';

export interface SubsetOptions { only?: string[]; from?: string[] }

export interface Selection {
  /** Workstreams this run runs (or takes from the cache). */
  selected: Set<string>;
  /** Workstreams downstream of `--from`: they run whatever the cache holds. */
  forced: string[];
  /** Every other workstream, with why it is left out. */
  excluded: Map<string, string>;
  /** One line: what was asked and what it brought in. */
  summary: string;
}

const allWorkstreams = (plan: Plan): Workstream[] => plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams));

/** Problems with the workstreams an `only` or `from` option names (unknown ids, with a suggestion). */
export function subsetErrors(plan: Plan, opts: SubsetOptions): { path: string; message: string }[] {
  const known = allWorkstreams(plan).map((w) => w.id);
  const errors: { path: string; message: string }[] = [];
  for (const field of ['only', 'from'] as const) {
    const ids = opts[field];
    if (ids === undefined) continue;
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((w) => typeof w !== 'string')) {
      errors.push({ path: `options.${field}`, message: 'must be a non-empty list of workstream ids' });
      continue;
    }
    for (const id of ids) {
      if (!known.includes(id)) errors.push({ path: `options.${field}`, message: `unknown workstream "${id}"${suggest(id, known)}` });
    }
  }
  return errors;
}

/** The selection a subset run makes, or undefined for a whole run. Ids must be valid (subsetErrors). */
export function selectWorkstreams(plan: Plan, opts: SubsetOptions): Selection | undefined {
  if (!opts.only?.length && !opts.from?.length) return undefined;
  const all = allWorkstreams(plan);
  const deps = new Map(all.map((w) => [w.id, w.dependsOn ?? []] as const));
  const dependents = new Map<string, string[]>(all.map((w) => [w.id, []]));
  for (const w of all) for (const d of w.dependsOn ?? []) dependents.get(d)?.push(w.id);
  const closure = (start: string[], next: (id: string) => string[]) => {
    const seen = new Set<string>();
    const queue = [...start];
    while (queue.length) {
      const id = queue.shift() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      queue.push(...next(id));
    }
    return seen;
  };
  const forced = closure(opts.from ?? [], (id) => dependents.get(id) ?? []);
  const roots = [...(opts.only ?? []), ...forced];
  const selected = closure(roots, (id) => deps.get(id) ?? []);
  const asked = [opts.only?.length ? `--only ${opts.only.join(',')}` : '', opts.from?.length ? `--from ${opts.from.join(',')}` : ''].filter(Boolean).join(' ');
  // In the plan's order.
  const needed = all.map((w) => w.id).filter((id) => selected.has(id) && !roots.includes(id));
  const downstream = all.map((w) => w.id).filter((id) => forced.has(id) && !(opts.from ?? []).includes(id));
  const summary = `${asked}: ${selected.size} of ${all.length} workstreams`
    + `${downstream.length ? `; downstream: ${downstream.join(', ')}` : ''}${needed.length ? `; needed: ${needed.join(', ')}` : ''}`;
  const excluded = new Map(all.filter((w) => !selected.has(w.id)).map((w) => [w.id, `not in this run (${asked})`] as const));
  return { selected, forced: all.map((w) => w.id).filter((id) => forced.has(id)), excluded, summary };
}

/** A phase as a subset run enters it: only the selected workstreams (for its git flow: their branches). */
export function phaseSubset(phase: Phase, selection: Selection): Phase {
  return {
    ...phase,
    domains: phase.domains.map((d) => ({ ...d, workstreams: d.workstreams.filter((w) => selection.selected.has(w.id)) }))
      .filter((d) => d.workstreams.length > 0),
  };
}

/** Whether a subset run enters the phase (it has a selected workstream). */
export function entersPhase(phase: Phase, selection: Selection | undefined): boolean {
  return !selection || phase.domains.some((d) => d.workstreams.some((w) => selection.selected.has(w.id)));
}

/**
 * The workstreams whose work a gate check reads: a metric's workstream, output references, and files
 * that a cached step declares as its output in the run's directory. Other files and commands: none known.
 */
export function checkReads(check: GateCheck, plan: Plan): string[] {
  const found = new Set<string>(findOutputRefs(check).map((r) => r.workstream));
  if (check.kind === 'metric') found.add(check.metric.split('.')[0]);
  const producers = runDirProducers(plan);
  const paths = check.kind === 'file' ? [check.path] : check.kind === 'command' ? check.run : [];
  for (const p of paths) {
    const maker = producerOf(p, producers);
    if (maker) found.add(maker.slice(0, maker.indexOf('.')));
  }
  return [...found];
}

/** A gate as a subset run asks it: without the checks that read the work of a workstream left out (and why). */
export function gateSubset(gate: Gate, plan: Plan, selection: Selection | undefined): { gate: Gate; skipped: { id: string; reason: string }[] } {
  if (!selection || !gate.checks?.length) return { gate, skipped: [] };
  const skipped: { id: string; reason: string }[] = [];
  const checks = gate.checks.filter((c) => {
    const out = checkReads(c, plan).filter((w) => selection.excluded.has(w));
    if (out.length) skipped.push({ id: c.id, reason: `reads the work of ${out.join(', ')}, not in this run` });
    return out.length === 0;
  });
  return { gate: { ...gate, checks }, skipped };
}
