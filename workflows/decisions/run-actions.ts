// Decisions about the run as a whole and about a gate's checks: abort (end the run; onAbort says what
// is undone) and recheckGate (run a gate's failed checks again, or try a failed merge again), and the
// rule every operator decision shares: who decides, and a run that can still take decisions.
import type { CancellationScope } from '@temporalio/workflow';
import type { GateKeeper } from '../gate.ts';
import type { ResolveInput, ResolveResult } from '../messages.ts';
import { TERMINAL } from '../run-text.ts';
import { now, type RunStatus } from '../status.ts';
import type { DecisionLog } from './log.ts';
import { no, ok, record, type Checked, type DecisionKind, type Surface } from './pipeline.ts';

/** What an authorized operator decision carries on: who decides. */
export interface RunAction { by: string }

/** Why no operator decision can apply now (shape of `by`, a run that ended or is ending), or undefined. */
export function runRefusal(status: RunStatus, input: Partial<ResolveInput> | undefined): string | undefined {
  if (!record(input)) return 'no input: expected a JSON object (see docs/operations.md)';
  if (typeof input!.by !== 'string' || input!.by.trim() === '') return 'missing "by": who decides (kept in the audit)';
  if (TERMINAL.includes(status.state)) return `the run already ended (${status.state})`;
  if (status.state === 'compensating') return 'the run is compensating: it is ending';
  if (status.aborted) return `the run is being aborted (by ${status.aborted.by})`;
  return undefined;
}

interface AbortDeps { status: RunStatus; log: DecisionLog; work: CancellationScope; onAbort: () => string }

export function abortRun(deps: AbortDeps): DecisionKind<ResolveInput, RunAction, ResolveResult> {
  return {
    validate(raw): Checked<ResolveInput> {
      const input = raw as Partial<ResolveInput> | undefined;
      const why = runRefusal(deps.status, input);
      if (why) return no(why);
      return typeof input!.comment === 'string' && input!.comment.trim() ? ok(input as ResolveInput) : no('missing "reason": why the run is aborted');
    },
    authorize: (input) => ok({ by: input.by.trim() }),
    apply(input, { by }, surface: Surface): ResolveResult {
      deps.status.aborted = { by, reason: input.comment ?? '', at: now() };
      deps.log.record({ surface, action: 'abort', by, comment: input.comment });
      deps.work.cancel();
      return { action: 'abort', accepted: `aborting ${deps.status.runWorkflowId} (${deps.onAbort()})` };
    },
    ignore: (raw, why) => deps.log.ignore('abort', raw, why),
  };
}

interface RecheckDeps { status: RunStatus; log: DecisionLog; gates: GateKeeper }

export function recheckGate(deps: RecheckDeps): DecisionKind<ResolveInput, RunAction, ResolveResult> {
  return {
    validate(raw): Checked<ResolveInput> {
      const why = runRefusal(deps.status, raw as Partial<ResolveInput>);
      return why ? no(why) : ok(raw as ResolveInput);
    },
    authorize(input): Checked<RunAction> {
      const why = deps.gates.recheckRefusal(input.gate);
      return why ? no(why) : ok({ by: input.by.trim() });
    },
    apply(input, { by }, surface: Surface): ResolveResult {
      deps.log.record({ surface, action: 'recheckGate', by, gate: input.gate, comment: input.comment });
      deps.gates.recheck(input.gate as string, by, input.comment);
      return { action: 'recheckGate', accepted: `the checks of ${input.gate} run again` };
    },
    ignore: (raw, why) => deps.log.ignore('recheckGate', raw, why),
  };
}
