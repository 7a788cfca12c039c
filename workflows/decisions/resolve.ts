// The `resolve` update: every operator decision in one (retryStep, skipStep, recheckGate, abort,
// rework, answer), each handled by its own kind; and the signals that carry the same decisions for `tctl`
// (which has no updates), mapped to the same input.
import type { ResolveAction, ResolveInput, ResolveResult } from '../messages.ts';
import { no, ok, record, type Checked, type DecisionKind } from './pipeline.ts';

export type ResolveKinds = { [A in ResolveAction]: DecisionKind<ResolveInput, unknown, ResolveResult> };

export const RESOLVE_ACTIONS: readonly ResolveAction[] = ['retryStep', 'skipStep', 'recheckGate', 'abort', 'rework', 'answer'];

export function resolveKind(kinds: ResolveKinds): DecisionKind<ResolveInput, unknown, ResolveResult> {
  return {
    validate(raw): Checked<ResolveInput> {
      const input = record(raw);
      if (!input) return no('no input: expected a JSON object (see docs/operations.md)');
      const action = input.action as ResolveAction;
      if (!RESOLVE_ACTIONS.includes(action)) return no(`action must be one of ${RESOLVE_ACTIONS.join(', ')}, not ${JSON.stringify(input.action)}`);
      return kinds[action].validate(raw);
    },
    authorize: (input) => kinds[input.action].authorize(input),
    apply: (input, grant, surface) => kinds[input.action].apply(input, grant, surface),
    ignore: (raw, why) => {
      const action = record(raw)?.action as ResolveAction;
      if (RESOLVE_ACTIONS.includes(action)) kinds[action].ignore(raw, why);
    },
  };
}

/** A signal's input as the `resolve` input of its action (`reason` is the comment where the signal names one). */
export function fromSignal(action: ResolveAction, msg: Record<string, unknown> | undefined): Partial<ResolveInput> {
  const comment = action === 'skipStep' || action === 'abort' || action === 'rework' ? msg?.reason ?? msg?.comment : msg?.comment;
  return { action, step: msg?.step, gate: msg?.gate, by: msg?.by, comment, ...(action === 'rework' ? { rework: msg?.rework } : {}),
    ...(action === 'answer' ? { answer: msg?.answer } : {}) } as Partial<ResolveInput>;
}
