// Decisions about a step in attention (signals retryStep / skipStep, update `resolve`): run it again
// (finished steps keep their outputs), or skip it and let its workstream go on. A retry of a
// workstream that already finished is refused with what would help instead (a rework of the gate's
// phase, or a recheck), never a bare "nothing is in attention".
import { domainWorkflowId } from '../../common/ids.ts';
import type { ResolveInput, ResolveResult } from '../messages.ts';
import { stepDecisionSignal } from '../messages.ts';
import type { Relay } from '../relay.ts';
import { needingAttention } from '../run-text.ts';
import type { StatusIndex } from '../status-index.ts';
import { now, type RunStatus, type WorkstreamStatus } from '../status.ts';
import type { DecisionLog } from './log.ts';
import { no, ok, type Checked, type DecisionKind, type Surface } from './pipeline.ts';
import { runRefusal, type RunAction } from './run-actions.ts';

/** A step a decision is about: where it lives and which child runs it. */
export interface StepTarget { ws: WorkstreamStatus; stepId: string; phaseId: string; domainId: string; childId: string }

interface Deps { status: RunStatus; index: StatusIndex; relay: Relay; log: DecisionLog; skipped: Record<string, string> }

export function stepRefusal(status: RunStatus, index: StatusIndex, step: unknown): string | undefined {
  if (typeof step !== 'string' || step === '') return 'missing "step": "<workstream>/<step>" (or "<workstream>")';
  const [wsId, stepId] = step.split('/', 2);
  const ws = index.workstream(wsId);
  if (!ws) {
    const known = status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
    return `unknown workstream "${wsId}" (workstreams of this run: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})`;
  }
  if (stepId !== undefined && !ws.steps.some((s) => s.id === stepId)) {
    return `unknown step "${step}" (steps of ${ws.id}: ${ws.steps.map((s) => s.id).join(', ')})`;
  }
  if (ws.state !== 'attention' || !ws.attention) {
    const waiting = needingAttention(status).map((w) => `${w.id}/${w.attention?.step}`);
    const phase = status.phases.find((p) => p.domains.some((d) => d.workstreams.includes(ws)));
    const gate = phase?.gate;
    if (ws.state === 'succeeded' && gate && (gate.state === 'checks-failed' || gate.state === 'waiting')) {
      return `${ws.id} already finished, and gate ${gate.id} is ${gate.state}: to run ${ws.id} again, send it back with `
        + `\`sparky rework ${status.runWorkflowId} ${gate.id} ${ws.id} --as NAME --reason WHY\` (its steps are undone, its branch reset, then \`sparky retry\`)`
        + `${gate.state === 'checks-failed' ? `; or fix what the checks read and \`sparky recheck ${status.runWorkflowId} ${gate.id} --as NAME\`` : ''}`;
    }
    return `${step} is not in attention (${ws.id} is ${ws.state}); ${waiting.length ? `in attention: ${waiting.join(', ')}` : 'nothing of this run is in attention'}`;
  }
  if (stepId !== undefined && stepId !== ws.attention.step) {
    return `${step} is not in attention: ${ws.id} waits at ${ws.id}/${ws.attention.step}`;
  }
  return undefined;
}

/** The step a (validated) retry/skip is about. */
export function stepTarget(status: RunStatus, index: StatusIndex, step: string): StepTarget {
  const [wsId] = step.split('/', 2);
  const ws = index.workstream(wsId) as WorkstreamStatus;
  for (const phase of status.phases) {
    for (const d of phase.domains) {
      if (d.workstreams.includes(ws)) {
        return { ws, stepId: ws.attention?.step ?? '', phaseId: phase.id, domainId: d.id, childId: domainWorkflowId(status.runWorkflowId, phase.id, d.id) };
      }
    }
  }
  throw new Error(`no workstream ${wsId}`);
}

/** retryStep (`retry`) or skipStep (`skip`): the same checks, a different instruction to the domain child. */
export function stepAction(deps: Deps, action: 'retryStep' | 'skipStep'): DecisionKind<ResolveInput, RunAction, ResolveResult> {
  const { status, index } = deps;
  const retry = action === 'retryStep';
  return {
    validate(raw): Checked<ResolveInput> {
      const input = raw as Partial<ResolveInput> | undefined;
      const base = runRefusal(status, input);
      if (base) return no(base);
      if (!retry && (typeof input!.comment !== 'string' || input!.comment.trim() === '')) return no('missing "reason": why the step is skipped');
      return ok(input as ResolveInput);
    },
    authorize(input): Checked<RunAction> {
      const why = stepRefusal(status, index, input.step);
      return why ? no(why) : ok({ by: input.by.trim() });
    },
    apply(input, { by }, surface: Surface): ResolveResult {
      const t = stepTarget(status, index, input.step as string);
      const step = `${t.ws.id}/${t.stepId}`;
      deps.log.record({ surface, action, by, step, comment: input.comment });
      deps.relay.send(t.phaseId, [t.childId], stepDecisionSignal,
        { workstream: t.ws.id, step: t.stepId, action: retry ? 'retry' : 'skip', by, reason: input.comment });
      if (!retry) {
        deps.skipped[`${t.ws.id}.${t.stepId}`] = `skipped by ${by}: ${input.comment}`;
        const s = t.ws.steps.find((x) => x.id === t.stepId);
        if (s) Object.assign(s, { state: 'skipped', skippedReason: `skipped by ${by}: ${input.comment}`, finishedAt: now() });
      }
      // Until the child reports it running again, the workstream is no longer in attention: a second retry is refused.
      t.ws.state = 'pending';
      t.ws.attention = undefined;
      return { action, accepted: `${retry ? 'retrying' : 'skipping'} ${step}` };
    },
    ignore(raw, why): void {
      deps.log.ignore(action, raw, why);
    },
  };
}
