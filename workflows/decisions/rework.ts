// An operator sends named workstreams of a gate's phase back (resolve action `rework`, signal
// `reworkGate`, `sparky rework`): from a gate whose checks failed on a finished workstream's output
// (otherwise a dead end: nothing is in attention, and the gate takes no rejection), or from a waiting
// gate. It is the same rework a rejection starts — the workstreams' steps undone newest first, their
// branches reset to the phase's base, they wait for `sparky retry`, then fresh checks and a fresh
// round of votes — recorded with who and why. It passes nothing: it only ever adds work.
import type { GateKeeper } from '../gate.ts';
import type { ResolveInput, ResolveResult } from '../messages.ts';
import type { RunSigning } from '../signing.ts';
import type { GateStatus, RunStatus } from '../status.ts';
import type { DecisionLog } from './log.ts';
import { no, ok, type Checked, type DecisionKind, type Surface } from './pipeline.ts';
import { runRefusal } from './run-actions.ts';

interface Deps { status: RunStatus; log: DecisionLog; gates: GateKeeper; signing: RunSigning }
interface Grant { by: string; gate: GateStatus; rework: string[]; reason: string }

export function reworkGate(deps: Deps): DecisionKind<ResolveInput, Grant, ResolveResult> {
  const { status, gates } = deps;
  return {
    validate(raw): Checked<ResolveInput> {
      const input = raw as Partial<ResolveInput> | undefined;
      const why = runRefusal(status, input);
      if (why) return no(why);
      if (typeof input!.gate !== 'string' || input!.gate === '') return no('missing "gate": the gate whose phase the workstreams belong to');
      if (!Array.isArray(input!.rework) || input!.rework.length === 0 || input!.rework.some((w) => typeof w !== 'string' || w === '')) {
        return no('"rework" must name the workstreams to send back, e.g. ["WS-02"]');
      }
      if (typeof input!.comment !== 'string' || input!.comment.trim() === '') return no('missing "reason": why the work goes back (the workstreams\' attention and the audit show it)');
      return ok(input as ResolveInput);
    },
    authorize(input): Checked<Grant> {
      const gate = gates.find(input.gate as string);
      if (!gate) return no(`unknown gate "${input.gate}" (gates of this run: ${gates.ids().join(', ') || 'none'})`);
      if (gate.state !== 'checks-failed' && gate.state !== 'waiting') {
        return no(`gate ${gate.id} is ${gate.state}: work goes back for rework while its checks failed or while it waits for approval`);
      }
      const phase = status.phases.find((p) => p.gate === gate);
      const mine = phase?.domains.flatMap((d) => d.workstreams.map((w) => w.id)) ?? [];
      const unknown = (input.rework as string[]).filter((w) => !mine.includes(w));
      if (unknown.length) return no(`rework names ${unknown.join(', ')}, not a workstream of phase ${phase?.id} (its workstreams: ${mine.join(', ')})`);
      return ok({ by: input.by.trim(), gate, rework: [...new Set(input.rework as string[])], reason: (input.comment as string).trim() });
    },
    apply(input, grant, surface: Surface): ResolveResult {
      deps.log.record({ surface, action: 'rework', by: grant.by, gate: grant.gate.id, comment: grant.reason, rework: grant.rework });
      deps.signing.recordRework(grant.gate.id, grant.by, grant.rework, grant.reason);
      gates.rework(grant.gate.id, { by: grant.by, reason: grant.reason, rework: grant.rework }, surface);
      return { action: 'rework', accepted: `${grant.rework.join(', ')} (and their same-phase dependents) go back for rework: undone, then waiting for \`sparky retry\`` };
    },
    ignore: (raw, why) => deps.log.ignore('rework', raw, why),
  };
}
