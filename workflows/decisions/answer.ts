// A person answers the question an agent asked (signal `answerQuestion`, resolve action `answer`,
// `sparky answer <run> <workstream>/<step> "…" --as NAME`): the workstream waits in attention with cause
// `question`; the answer goes to its domain child, which runs the step again so that the SAME session
// resumes told the answer (activities/agent.ts). Only the people the step's `ask.to` names may answer
// (after an escalation, those of `ask.escalate` too); a step not waiting for an answer is refused with
// what it does wait for.
import type { ResolveInput, ResolveResult } from '../messages.ts';
import { stepDecisionSignal } from '../messages.ts';
import type { Relay } from '../relay.ts';
import type { StatusIndex } from '../status-index.ts';
import type { AttentionQuestion, RunStatus } from '../status.ts';
import type { DecisionLog } from './log.ts';
import { no, ok, type Checked, type DecisionKind, type Surface } from './pipeline.ts';
import { runRefusal, type RunAction } from './run-actions.ts';
import { stepRefusal, stepTarget } from './step-actions.ts';

interface Deps { status: RunStatus; index: StatusIndex; relay: Relay; log: DecisionLog }

/** Who may answer a question now: its `to` (anyone when empty), and its escalation's people once escalated. */
export function answerers(q: AttentionQuestion): string[] {
  return q.to.length === 0 ? [] : [...q.to, ...(q.escalated?.to ?? [])];
}

export function answerQuestion(deps: Deps): DecisionKind<ResolveInput, RunAction, ResolveResult> {
  const { status, index } = deps;
  return {
    validate(raw): Checked<ResolveInput> {
      const input = raw as Partial<ResolveInput> | undefined;
      const base = runRefusal(status, input);
      if (base) return no(base);
      if (typeof input!.answer !== 'string' || input!.answer.trim() === '') return no('missing "answer": what the agent is told');
      return ok(input as ResolveInput);
    },
    authorize(input): Checked<RunAction> {
      const why = stepRefusal(status, index, input.step);
      if (why) return no(why);
      const t = stepTarget(status, index, input.step as string);
      const a = t.ws.attention;
      if (a?.cause !== 'question' || !a.question) {
        return no(`${t.ws.id}/${t.stepId} asked nothing: it waits in attention because ${a?.cause === 'rework' ? 'of a rework' : `it ${a?.cause ?? 'failed'}`} (${(a?.reason ?? '').split('\n')[0]}); use sparky retry or skip`);
      }
      const may = answerers(a.question);
      const by = input.by.trim();
      if (may.length > 0 && !may.includes(by)) return no(`${by} may not answer: the question of ${t.ws.id}/${t.stepId} is for ${may.join(', ')}`);
      return ok({ by });
    },
    apply(input, { by }, surface: Surface): ResolveResult {
      const t = stepTarget(status, index, input.step as string);
      const step = `${t.ws.id}/${t.stepId}`;
      const answer = (input.answer as string).trim();
      deps.log.record({ surface, action: 'answer', by, step, comment: answer });
      deps.relay.send(t.phaseId, [t.childId], stepDecisionSignal, { workstream: t.ws.id, step: t.stepId, action: 'retry', by, answer });
      // Until the child reports it running again, nothing is waiting: a second answer is refused.
      t.ws.state = 'pending';
      t.ws.attention = undefined;
      return { action: 'answer', accepted: `answered ${step}: its agent's session resumes with the answer` };
    },
    ignore: (raw, why) => deps.log.ignore('answer', raw, why),
  };
}
