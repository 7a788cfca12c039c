// What a gate-check kind is made of. Each kind is one module (plan/checks/<kind>.ts) exporting one
// CheckKindDef: its zod schema, the checks of its own fields beyond their shape, how the loader resolves
// its relative paths, and its docs. The kinds are registered in one place, plan/checks/index.ts, whose
// table the compiler keeps complete; the worker side (activities/checks.ts) is a table over the same
// names, so a kind without a runner fails `tsc` too. Pure: workflows import the registry.
import { z } from 'zod';
import { Duration, Id } from '../step-base.ts';
import type { PathSegment } from '../field-path.ts';
import type { Obj, Report, Under } from '../kinds/kind.ts';

/** The fields every check has. */
export const CheckCommon = { id: Id, name: z.string().optional(), timeout: Duration.optional() };

export interface CheckRuleContext {
  /** Why `<workstream>.<step>` cannot be read by this gate's checks (unknown, or in a later phase), or undefined. */
  visible: (workstream: string, step: string) => string | undefined;
}

export interface CheckKindDef<T extends { kind: string }> {
  kind: T['kind'];
  schema: z.ZodType<T>;
  /** Where docs/plan-reference.md describes the kind. */
  docs: string;
  /** Checks of the kind's own fields beyond their shape, on the raw check (any JSON). */
  rules?: (check: Obj, at: PathSegment[], ctx: CheckRuleContext, err: Report) => void;
  /** Every relative path field made absolute against the plan's directory (plan/paths.ts). */
  resolvePaths: (check: T, base: string, under: Under) => T;
}

export function defineCheckKind<T extends { kind: string }>(def: CheckKindDef<T>): CheckKindDef<T> {
  return def;
}
