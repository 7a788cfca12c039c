// What a step kind is made of. Each kind is one module (plan/kinds/<kind>.ts) exporting one
// StepKindDef: its zod schema, the checks of its own fields, how the loader resolves its relative paths,
// how the git flow moves them into a workstream's worktree, its JSON Schema name and its docs. The
// kinds are registered in one place, plan/kinds/index.ts, whose table the compiler keeps complete; the
// worker side (activities/runners.ts) is a table over the same names, so a kind without a runner fails
// `tsc` too. Pure: workflows import the registry.
import type { z } from 'zod';
import type { PathSegment } from '../field-path.ts';

export type Obj = Record<string, unknown>;
export type Report = (path: PathSegment[], message: string) => void;

/** A relative path resolved against `base`; `undefined`, output references, `~` and `$…` stay as they are. */
export type Under = (base: string, p: string | undefined) => string | undefined;

export interface RuleContext {
  /** The step this one compensates (raw), when it is a compensation. */
  compensated?: Obj;
}

export interface StepKindDef<T extends { kind: string }> {
  kind: T['kind'];
  /** The kind's fields (with the common ones, plans/step-base.ts StepCommon), as a strict object. */
  schema: z.ZodType<T>;
  /** The JSON Schema definition (plan/plan.schema.json): its name and what an editor shows on hover. */
  json: { id: string; description: string };
  /** Where docs/plan-reference.md describes the kind (`plan-reference.md#shell`). */
  docs: string;
  /**
   * Checks of the kind's own fields beyond their shape, on the raw step (any JSON: read it with the
   * defensive helpers of semantic-rules.ts), so a plan with shape errors still gets these too.
   */
  rules?: (step: Obj, at: PathSegment[], ctx: RuleContext, err: Report) => void;
  /** Every relative path field made absolute against the plan's directory (plan/paths.ts). */
  resolvePaths: (step: T, base: string, under: Under) => T;
  /** Every path field moved from the repository into the workstream's worktree (common/git-flow.ts). */
  inWorktree: (step: T, move: (p: string) => string) => T;
  /**
   * Where the step works, for the git flow's check that a committing step works in the repository
   * (plan/git.ts): the field a person sets to move it there, and every path by which it reaches it.
   */
  workPaths: (step: T) => WorkPaths;
}

export interface WorkPaths { field: string; where: 'runs in' | 'writes its results to'; paths: (string | undefined)[] }

/** A kind definition, checked against its own step type. */
export function defineStepKind<T extends { kind: string }>(def: StepKindDef<T>): StepKindDef<T> {
  return def;
}
