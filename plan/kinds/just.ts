// Step kind `just`: a recipe of a justfile, run like a shell step (`just [--justfile F] -- <recipe>
// <args…>` in `workdir`). `sparky validate` checks the recipe exists and takes that many arguments
// (plan/justfile-check.ts, for plan files). Runner: activities/just.ts.
import { z } from 'zod';
import { Outputs, StepCommon } from '../step-base.ts';
import { defineStepKind } from './kind.ts';

export const JustStep = z.strictObject({
  ...StepCommon,
  kind: z.literal('just'),
  recipe: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*(::[A-Za-z_][A-Za-z0-9_-]*)*$/, 'a recipe name (in a module: module::recipe)'),
  args: z.array(z.string()).optional(),
  /** The justfile (default: the one `just` finds from `workdir` upwards). Recipes run in its directory. */
  justfile: z.string().optional(),
  /** Where `just` starts (default: the plan's directory; in a git plan, the workstream's worktree). */
  workdir: z.string().optional(),
  outputs: Outputs.optional(),
  nonRetryableExitCodes: z.array(z.number().int()).optional(),
});
export type JustStep = z.infer<typeof JustStep>;

export const justKind = defineStepKind<JustStep>({
  kind: 'just',
  schema: JustStep,
  json: { id: 'JustStep', description: 'Runs a recipe of a justfile with args (argv only), like a shell step; sparky validate checks the recipe and its argument count.' },
  docs: 'plan-reference.md#just',
  resolvePaths: (step, base, under) => ({
    ...step, workdir: under(base, step.workdir) ?? base,
    ...(step.justfile !== undefined && { justfile: under(base, step.justfile) }),
  }),
  inWorktree: (step, mv) => ({
    ...step,
    ...(step.workdir !== undefined && { workdir: mv(step.workdir) }),
    ...(step.justfile !== undefined && { justfile: mv(step.justfile) }),
  }),
  workPaths: (step) => ({ field: 'workdir', where: 'runs in', paths: [step.workdir, ...(step.justfile ? [step.justfile] : [])] }),
});
