// One path for every decision people make about a run — gate votes, revisions, retries, skips,
// rechecks, reworks, aborts (and, next, answers to agents): validate (the input's shape), authorize
// (the run's state, signatures, quorum, starter, round), apply (the change), audit (what counted, and
// every refused signal with why). Each decision kind is one module (workflows/decisions/*.ts) that
// implements DecisionKind; the metaOrchestrator only wires signals and updates to kinds here.
//
// Signals cannot answer: a refused one is kept in the audit as ignored. Updates answer at once: the
// validator refuses with the same reason (a non-retryable `SparkyRefused` failure), and the handler
// checks again before it applies (on replay validators do not run; the check is pure and gives the
// same answer). `sparky verify` applies the same rules (common/gate-signing.ts,
// common/revision-signing.ts, common/signed-decision.ts) from the history.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';

export type Surface = 'signal' | 'update';
export type Checked<T> = { ok: true; value: T } | { ok: false; why: string };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const no = (why: string): { ok: false; why: string } => ({ ok: false, why });

export interface DecisionKind<I, G, R> {
  /** Shape: the input this kind needs, or what is wrong with it. Pure. */
  validate(raw: unknown): Checked<I>;
  /** Whether it may apply now: the run's state, who may, signatures. Pure (changes nothing). */
  authorize(input: I): Checked<G>;
  /** Makes the change and audits it. */
  apply(input: I, grant: G, surface: Surface): R;
  /** A refused signal: kept in the audit with why; changes nothing else. */
  ignore(raw: unknown, why: string): void;
}

/** A refusal: the caller's input can never succeed as it is (the `temporal` CLI shows it as not retryable). */
export function refuse(why: string): never {
  throw ApplicationFailure.nonRetryable(why, 'SparkyRefused');
}

export class DecisionPipeline {
  constructor(private readonly afterEach: () => void) {}

  check<I, G>(kind: DecisionKind<I, G, unknown>, raw: unknown): { ok: true; input: I; grant: G } | { ok: false; why: string } {
    const input = kind.validate(raw);
    if (!input.ok) return input;
    const grant = kind.authorize(input.value);
    if (!grant.ok) return grant;
    return { ok: true, input: input.value, grant: grant.value };
  }

  /** A signal: applied when it passes, else audited as ignored. */
  signal<I, G, R>(kind: DecisionKind<I, G, R>, raw: unknown): void {
    const checked = this.check(kind, raw);
    if (checked.ok) kind.apply(checked.input, checked.grant, 'signal');
    else kind.ignore(raw, checked.why);
    this.afterEach();
  }

  /** An update's handler: applies what passes (its validator refused everything else already). */
  update<I, G, R>(kind: DecisionKind<I, G, R>, raw: unknown): R {
    const checked = this.check(kind, raw);
    if (!checked.ok) refuse(checked.why);
    const result = kind.apply(checked.input, checked.grant, 'update');
    this.afterEach();
    return result;
  }

  onSignal<A, I, G, R>(def: SignalDefinition<[A?]>, kind: DecisionKind<I, G, R>, description: string, map: (msg: A | undefined) => unknown = (m) => m): void {
    setHandler(def, (msg) => this.signal(kind, map(msg)), { description });
  }

  onUpdate<A, I, G, R>(def: UpdateDefinition<R, [A]>, kind: DecisionKind<I, G, R>, description: string): void {
    setHandler(def, (msg: A) => this.update(kind, msg), {
      description,
      validator: (msg) => {
        const checked = this.check(kind, msg);
        if (!checked.ok) refuse(checked.why);
      },
    });
  }
}

/** Drops undefined fields (audit entries stay small and stable). */
export function clean<T extends object>(entry: T): T {
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as T;
}

/** `by` (or `approver`): who decides, trimmed; undefined when missing. */
export function who(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A JSON object, or undefined. */
export function record(raw: unknown): Record<string, unknown> | undefined {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw as Record<string, unknown> : undefined;
}
