// Rework of a phase: after a rejection (or an operator's rework from `checks-failed` or a waiting
// gate), the named workstreams and their same-phase dependents are reopened. Only their steps'
// compensations run, newest first; their branches go back to the phase's base (git flow); the named roots wait in attention for `sparky retry`, their
// dependents follow by themselves; the gate starts over (fresh checks, a fresh round of votes).
// Earlier phases are never touched. Cached steps of the reopened workstreams never take a hit on the
// outputs that were sent back (their keys travel as `avoid`). docs/orchestration.md, "Rejection and rework"; ADR 0006.
import { patched } from '@temporalio/workflow';
import type { Plan } from '../plan/schema.ts';
import { resetGate, type GateOutcome } from './gate.ts';
import { resetReworkedBranches } from './git-flow.ts';
import type { Rerun } from './phase.ts';
import type { RunContext } from './run-context.ts';
import type { Saga } from './saga.ts';
import type { StatusIndex } from './status-index.ts';
import { now, recount, type RunStatus } from './status.ts';

export interface ReworkDeps {
  plan: () => Plan;
  status: RunStatus;
  index: StatusIndex;
  saga: Saga;
  runCtx: Omit<RunContext, 'phaseId'>;
  skipped: Record<string, string>;
  refresh: () => void;
}

export async function reworkPhase(deps: ReworkDeps, i: number, outcome: Extract<GateOutcome, { approved: false }>): Promise<Rerun> {
  const { status, index } = deps;
  const ps = status.phases[i];
  const def = deps.plan().phases[i];
  const all = def.domains.flatMap((d) => d.workstreams);
  const named = new Set(outcome.rework?.length ? outcome.rework : all.map((w) => w.id));
  const reopened = new Set(named);
  for (let grew = true; grew;) { // same-phase dependents, transitively
    grew = false;
    for (const ws of all) {
      if (!reopened.has(ws.id) && (ws.dependsOn ?? []).some((d) => reopened.has(d))) { reopened.add(ws.id); grew = true; }
    }
  }
  // Only the roots of the reopened work wait for a person: a workstream that depends on another reopened
  // one reruns by itself once that one is done (rejecting a whole phase needs one retry per root).
  const waits = new Set([...named].filter((id) => !(all.find((w) => w.id === id)?.dependsOn ?? []).some((d) => reopened.has(d))));
  const reason = `rework requested by ${outcome.by}${outcome.reason ? `: ${outcome.reason}` : ''}`;
  await deps.saga.compensate(deps.runCtx, index.outputs, status.compensations, deps.refresh, (e) => e.phaseId === def.id && reopened.has(e.workstreamId));
  // Git flow: the reopened branches go back to the phase's base (rejected commits never merge). A new
  // activity in this scenario: histories of reworks recorded before it replay without it.
  if (ps.git && patched('sparky-rework-reset')) await resetReworkedBranches(deps.plan(), ps, deps.runCtx, reopened, reason);
  const held: Rerun['held'] = {};
  const avoid: NonNullable<Rerun['avoid']> = {};
  for (const ws of all) {
    if (!reopened.has(ws.id)) continue;
    const st = index.workstream(ws.id);
    if (!st) continue;
    // Cached steps: the keys of what the reviewer sent back; the rerun never takes them again (workflows/cache.ts).
    const keys = st.steps.flatMap((s) => (s.cache?.key ? [s.cache.key] : []));
    if (keys.length > 0) avoid[ws.id] = { keys, reason: reason.split('\n')[0] };
    index.forgetOutputs(ws.id);
    for (const s of ws.steps) delete deps.skipped[`${ws.id}.${s.id}`];
    Object.assign(st, {
      state: waits.has(ws.id) ? 'attention' : 'pending', reworks: (st.reworks ?? 0) + 1,
      startedAt: undefined, finishedAt: undefined, error: undefined, attention: undefined,
      steps: ws.steps.map((s) => ({ id: s.id, kind: s.kind, state: 'pending' as const })),
    });
    if (waits.has(ws.id)) held[ws.id] = st.attention = { step: ws.steps[0].id, cause: 'rework', reason, since: now() };
  }
  if (ps.gate && def.gate) resetGate(ps.gate, def.gate);
  ps.state = 'running';
  recount(status);
  deps.refresh();
  return { done: new Set(all.filter((w) => !reopened.has(w.id)).map((w) => w.id)), held, ...(Object.keys(avoid).length > 0 && { avoid }) };
}
