// What a plan revision changes, field by field, and who must agree to each change. Every field of
// the plan is compared (a field this file does not know still shows as a change), and each change
// says whether an unsigned revision may make it:
//   - a gate's `approval`, `preventSelfApproval`, `allowedSigners` or `notify`: only when signed by
//     the quorum of that gate's current approvers (guard `gate`);
//   - the plan's `git`, `notify`, `baseDir`, `allowedSigners`, `starters`, and a workstream's `git`:
//     only when signed by the quorum of every gate that has not decided yet (guard `run`), since they
//     move merges, silence notifications or change where steps run and which keys count;
//   - anything else (a step's argv, a check, a timeout): unsigned, subject to the run's own rules
//     about what already ran (workflows/revise.ts).
// Pure and deterministic: the workflow, `sparky revise --statement` and `sparky verify` compute the
// same list from the same two plans, so it can be signed. docs/security.md, "Signed revisions".
import { canonicalJson } from '../common/canonical-json.ts';
import type { Domain, Gate, Phase, Plan, Workstream } from './schema.ts';

export type ChangeGuard = { gate: string } | 'run';

export interface PlanChange {
  /** In words, e.g. `gate gate-1 approval`, `plan git`, `W1/build`, `phase p2 (not started yet)`. */
  what: string;
  /** Who must sign it (absent: an unsigned revision may make it). */
  guard?: ChangeGuard;
  /** The phase it belongs to (absent: the plan itself). */
  phase?: string;
}

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null);
const keysOf = (...objs: (object | undefined)[]) => [...new Set(objs.flatMap((o) => Object.keys(o ?? {})))].sort();

/** Plan fields whose change needs the quorum of every undecided gate. */
export const RUN_GUARDED_PLAN_FIELDS: readonly string[] = ['git', 'notify', 'baseDir', 'allowedSigners', 'starters'];
/** Gate fields whose change needs the quorum of that gate's current approvers. */
export const GATE_GUARDED_FIELDS: readonly string[] = ['approval', 'preventSelfApproval', 'allowedSigners', 'notify'];

/** Every change from `current` to `next`, in plan order. Phases are compared by position (their ids and order are the run's rules to check). */
export function planChanges(current: Plan, next: Plan): PlanChange[] {
  const out: PlanChange[] = [];
  for (const key of keysOf(current, next)) {
    if (key === 'phases') continue;
    const a = (current as Record<string, unknown>)[key];
    const b = (next as Record<string, unknown>)[key];
    if (!same(a, b)) out.push({ what: `plan ${key}`, ...(RUN_GUARDED_PLAN_FIELDS.includes(key) ? { guard: 'run' as const } : {}) });
  }
  const n = Math.max(current.phases.length, next.phases.length);
  for (let i = 0; i < n; i += 1) phaseChanges(current.phases[i], next.phases[i], out);
  return out;
}

function phaseChanges(before: Phase | undefined, after: Phase | undefined, out: PlanChange[]): void {
  if (same(before, after)) return;
  const id = (after ?? before)!.id;
  if (!before || !after) {
    out.push({ what: `phase ${id} ${after ? 'added' : 'removed'}`, phase: id, ...(before?.gate ? { guard: { gate: before.gate.id } } : {}) });
    return;
  }
  for (const key of keysOf(before, after)) {
    if (key === 'domains' || key === 'gate') continue;
    if (!same((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key])) out.push({ what: `phase ${id} ${key}`, phase: id });
  }
  const domains = new Map<string, [Domain | undefined, Domain | undefined]>();
  for (const d of before.domains) domains.set(d.id, [d, undefined]);
  for (const d of after.domains) domains.set(d.id, [domains.get(d.id)?.[0], d]);
  for (const [did, [a, b]] of domains) domainChanges(id, did, a, b, out);
  gateChanges(id, before.gate, after.gate, out);
}

function domainChanges(phase: string, id: string, before: Domain | undefined, after: Domain | undefined, out: PlanChange[]): void {
  if (same(before, after)) return;
  if (!before || !after) {
    const ws = [...(before ?? after)!.workstreams].map((w) => w.id);
    out.push({ what: `domain ${id} ${after ? 'added' : 'removed'} (${ws.join(', ')})`, phase });
    return;
  }
  for (const key of keysOf(before, after)) {
    if (key === 'workstreams') continue;
    if (!same((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key])) out.push({ what: `domain ${id} ${key}`, phase });
  }
  const all = new Map<string, [Workstream | undefined, Workstream | undefined]>();
  for (const w of before.workstreams) all.set(w.id, [w, undefined]);
  for (const w of after.workstreams) all.set(w.id, [all.get(w.id)?.[0], w]);
  for (const [wid, [a, b]] of all) workstreamChanges(phase, wid, a, b, out);
}

function workstreamChanges(phase: string, id: string, before: Workstream | undefined, after: Workstream | undefined, out: PlanChange[]): void {
  if (same(before, after)) return;
  if (!before || !after) {
    out.push({ what: `workstream ${id} ${after ? 'added' : 'removed'}`, phase });
    return;
  }
  for (const key of keysOf(before, after)) {
    if (key === 'steps') continue;
    if (!same((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key])) {
      out.push({ what: `workstream ${id} ${key}`, phase, ...(key === 'git' ? { guard: 'run' as const } : {}) });
    }
  }
  const steps = Math.max(before.steps.length, after.steps.length);
  for (let k = 0; k < steps; k += 1) {
    const a = before.steps[k];
    const b = after.steps[k];
    if (same(a, b)) continue;
    if (a && b && a.id === b.id) out.push({ what: `${id}/${b.id}`, phase });
    else {
      if (a && !after.steps.some((s) => s.id === a.id)) out.push({ what: `${id}/${a.id} (removed)`, phase });
      if (b) out.push({ what: `${id}/${b.id}${before.steps.some((s) => s.id === b.id) ? ' (moved)' : ' (added)'}`, phase });
    }
  }
}

function gateChanges(phase: string, before: Gate | undefined, after: Gate | undefined, out: PlanChange[]): void {
  if (same(before, after)) return;
  if (!before || !after) {
    const id = (after ?? before)!.id;
    // Removing a gate drops its approval: its approvers must agree. Adding one only adds a wait.
    out.push({ what: `gate ${id} ${after ? 'added' : 'removed'}`, phase, ...(before ? { guard: { gate: before.id } } : {}) });
    return;
  }
  if (before.id !== after.id) {
    out.push({ what: `gate ${before.id} renamed ${after.id}`, phase, guard: { gate: before.id } });
    return;
  }
  for (const key of keysOf(before, after)) {
    if (!same((before as Record<string, unknown>)[key], (after as Record<string, unknown>)[key])) {
      out.push({ what: `gate ${after.id} ${key}`, phase, ...(GATE_GUARDED_FIELDS.includes(key) ? { guard: { gate: after.id } } : {}) });
    }
  }
}

/** The words of each change, as statements and the audit list them. */
export const changeWords = (changes: readonly PlanChange[]): string[] => changes.map((c) => c.what);
