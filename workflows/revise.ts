// Plan revisions of a running run (the `revisePlan` update): which changes a run may take and which
// it must refuse. A revision may change what has not run yet — a failing step's argv, steps after
// it, a gate's checks or approvers, anything in a phase not yet started — and nothing that already
// ran: finished or running steps, gates that decided (approved, or approved and merging), the phases
// and their order, the workstreams of the running phase. Who must sign a change to approvals, keys,
// git, notify or baseDir is the other half (common/revision-signing.ts). Every field of the plan is
// compared and listed (plan/changes.ts). Pure: the update's validator calls it, so a refusal costs no
// history.
import { canonicalJson } from '../common/canonical-json.ts';
import { changeWords, planChanges } from '../plan/changes.ts';
import type { Domain, Phase, Plan, Workstream } from '../plan/schema.ts';
import type { PhaseStatus, RunStatus, WorkstreamStatus } from './status.ts';

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
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
  next.phases.forEach((phase, i) => {
    const before = current.phases[i];
    const ps = status.phases[i];
    if (same(before, phase)) return;
    if (ps.state === 'succeeded') {
      problems.push(`phases[${i}] (${phase.id}): the phase already ran and its gate decided: it cannot change`);
      return;
    }
    if (ps.state === 'pending') return;
    checkRunningPhase(before, phase, ps, `phases[${i}]`, problems);
  });
  changes.push(...changeWords(planChanges(current, next)));
  return { problems, changes };
}

function checkRunningPhase(before: Phase, after: Phase, ps: PhaseStatus, at: string, problems: string[]): void {
  const domIds = (p: Phase) => p.domains.map((d) => `${d.id}[${d.workstreams.map((w) => w.id).join(',')}]`).join(' ');
  if (domIds(before) !== domIds(after)) {
    problems.push(`${at} (${after.id}): the phase is running: its domains and workstreams cannot be added, removed or moved ` +
      '(add new work to a later phase)');
    return;
  }
  after.domains.forEach((domain, d) => {
    const old = before.domains[d];
    if (!same(without(old, 'workstreams'), without(domain, 'workstreams'))) {
      problems.push(`${at}.domains[${d}] (${domain.id}): the domain is running: only its workstreams' steps may change`);
    }
    domain.workstreams.forEach((ws, w) => {
      const status = ps.domains[d].workstreams[w];
      checkWorkstream(old.workstreams[w], ws, status, `${at}.domains[${d}].workstreams[${w}]`, problems);
    });
  });
  checkGate(before, after, ps, at, problems);
}

function checkWorkstream(before: Workstream, after: Workstream, status: WorkstreamStatus, at: string, problems: string[]): void {
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
}

function checkGate(before: Phase, after: Phase, ps: PhaseStatus, at: string, problems: string[]): void {
  if (same(before.gate, after.gate)) return;
  if (!before.gate || !after.gate || before.gate.id !== after.gate.id) {
    problems.push(`${at}.gate (${after.id}): the running phase's gate cannot be added, removed or renamed`);
    return;
  }
  if (ps.gate?.state === 'approved' || ps.gate?.state === 'merge-conflict') {
    problems.push(`${at}.gate (${after.gate.id}): the gate is already approved${ps.gate.state === 'merge-conflict' ? ' (its merge waits for a person)' : ''}: it cannot change`);
    return;
  }
}

/** A domain of the running phase as the revision defines it (sent to its child). */
export function revisedDomain(plan: Plan, phaseId: string, domainId: string): Domain | undefined {
  return plan.phases.find((p) => p.id === phaseId)?.domains.find((d) => d.id === domainId);
}
