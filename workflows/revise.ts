// Plan revisions of a running run (the `revisePlan` update): which changes a run may take and which
// it must refuse. A revision may change what has not run yet — a failing step's argv, steps after
// it, a gate's checks or approvers, anything in a phase not yet started — and nothing that already
// ran: finished or running steps, approved gates, the phases and their order, the workstreams of
// the running phase. Pure: the validator of the update calls it, so a refusal costs no history.
import type { Domain, Phase, Plan, Workstream } from '../plan/schema.ts';
import type { PhaseStatus, RunStatus, WorkstreamStatus } from './status.ts';

/** JSON with object keys sorted: two plans that mean the same compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const same = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);
const without = <T extends object>(o: T, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

export interface RevisionCheck { problems: string[]; changes: string[] }

/** Every reason to refuse `next` for this run (empty when it may be taken), and what it changes, in words. */
export function checkRevision(current: Plan, next: Plan, status: RunStatus): RevisionCheck {
  const problems: string[] = [];
  const changes: string[] = [];
  if (next.name !== current.name) problems.push(`name: the plan of this run is "${current.name}", not "${next.name}"`);
  const ids = (p: Plan) => p.phases.map((ph) => ph.id).join(', ');
  if (ids(current) !== ids(next)) {
    problems.push(`phases: the phases and their order cannot change (this run: ${ids(current)}; revision: ${ids(next)})`);
    return { problems, changes };
  }
  for (const key of ['defaults', 'env', 'pools', 'onFailure', 'onAbort', 'description', 'version'] as const) {
    if (!same(current[key], next[key])) changes.push(`plan ${key}`);
  }
  next.phases.forEach((phase, i) => {
    const before = current.phases[i];
    const ps = status.phases[i];
    if (same(before, phase)) return;
    if (ps.state === 'succeeded') {
      problems.push(`phases[${i}] (${phase.id}): the phase already ran and its gate decided: it cannot change`);
      return;
    }
    if (ps.state === 'pending') {
      changes.push(`phase ${phase.id} (not started yet)`);
      return;
    }
    checkRunningPhase(before, phase, ps, `phases[${i}]`, problems, changes);
  });
  return { problems, changes };
}

function checkRunningPhase(before: Phase, after: Phase, ps: PhaseStatus, at: string, problems: string[], changes: string[]): void {
  const domIds = (p: Phase) => p.domains.map((d) => `${d.id}[${d.workstreams.map((w) => w.id).join(',')}]`).join(' ');
  if (domIds(before) !== domIds(after)) {
    problems.push(`${at} (${after.id}): the phase is running: its domains and workstreams cannot be added, removed or moved ` +
      '(add new work to a later phase)');
    return;
  }
  if (!same(without(before, 'domains', 'gate'), without(after, 'domains', 'gate'))) changes.push(`phase ${after.id} settings`);
  after.domains.forEach((domain, d) => {
    const old = before.domains[d];
    if (!same(without(old, 'workstreams'), without(domain, 'workstreams'))) {
      problems.push(`${at}.domains[${d}] (${domain.id}): the domain is running: only its workstreams' steps may change`);
    }
    domain.workstreams.forEach((ws, w) => {
      const status = ps.domains[d].workstreams[w];
      checkWorkstream(old.workstreams[w], ws, status, `${at}.domains[${d}].workstreams[${w}]`, problems, changes);
    });
  });
  checkGate(before, after, ps, at, problems, changes);
}

function checkWorkstream(before: Workstream, after: Workstream, status: WorkstreamStatus, at: string, problems: string[], changes: string[]): void {
  if (same(before, after)) return;
  if (status.state === 'succeeded') {
    problems.push(`${at} (${after.id}): the workstream already finished: it cannot change`);
    return;
  }
  if (!same(without(before, 'steps', 'name', 'description', 'estimate'), without(after, 'steps', 'name', 'description', 'estimate'))) {
    problems.push(`${at} (${after.id}): dependsOn and stickyGpu of a workstream in the running phase cannot change`);
  }
  // Steps that ran (or run now) are history: the same step must stay at the same place.
  status.steps.forEach((s, i) => {
    if (s.state === 'pending' || s.state === 'failed') return;
    const old = before.steps[i];
    const now = after.steps[i];
    if (!now || !same(old, now)) {
      problems.push(`${at}.steps[${i}] (${after.id}/${s.id}): the step ${s.state === 'running' ? 'is running' : `already ran (${s.state})`}: it cannot change`);
    }
  });
  const changed = after.steps.filter((s, i) => !same(s, before.steps[i])).map((s) => `${after.id}/${s.id}`);
  const removed = before.steps.filter((s) => !after.steps.some((n) => n.id === s.id)).map((s) => `${after.id}/${s.id} (removed)`);
  if (changed.length || removed.length) changes.push(...changed, ...removed);
}

function checkGate(before: Phase, after: Phase, ps: PhaseStatus, at: string, problems: string[], changes: string[]): void {
  if (same(before.gate, after.gate)) return;
  if (!before.gate || !after.gate || before.gate.id !== after.gate.id) {
    problems.push(`${at}.gate (${after.id}): the running phase's gate cannot be added, removed or renamed`);
    return;
  }
  if (ps.gate?.state === 'approved') {
    problems.push(`${at}.gate (${after.gate.id}): the gate is already approved: it cannot change`);
    return;
  }
  changes.push(`gate ${after.gate.id}`);
}

/** A domain of the running phase as the revision defines it (sent to its child). */
export function revisedDomain(plan: Plan, phaseId: string, domainId: string): Domain | undefined {
  return plan.phases.find((p) => p.id === phaseId)?.domains.find((d) => d.id === domainId);
}
