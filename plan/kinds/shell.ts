// Step kind `shell`: a program and its arguments (argv, no shell unless `shell: true`) in `cwd`.
// Runner: activities/shell.ts.
import { z } from 'zod';
import { Outputs, StepCommon } from '../step-base.ts';
import { defineStepKind } from './kind.ts';

export const ShellStep = z.strictObject({
  ...StepCommon,
  kind: z.literal('shell'),
  run: z.array(z.string()).min(1, 'argv must not be empty'),
  shell: z.boolean().optional(),          // run through /bin/sh -c (only when the plan says so)
  cwd: z.string().optional(),
  outputs: Outputs.optional(),
  nonRetryableExitCodes: z.array(z.number().int()).optional(),
});
export type ShellStep = z.infer<typeof ShellStep>;

export const shellKind = defineStepKind<ShellStep>({
  kind: 'shell',
  schema: ShellStep,
  json: { id: 'ShellStep', description: 'Runs argv (no shell unless shell: true) in cwd (default: the plan\'s directory).' },
  docs: 'plan-reference.md#shell',
  rules(step, at, _ctx, err) {
    const run = step.run;
    if (Array.isArray(run) && run.length > 0 && typeof run[0] === 'string' && run[0].trim() === '') {
      err([...at, 'run', 0], 'argv[0] (the program) must not be empty');
    }
  },
  resolvePaths: (step, base, under) => ({ ...step, cwd: under(base, step.cwd) ?? base }),
  inWorktree: (step, mv) => ({ ...step, ...(step.cwd !== undefined && { cwd: mv(step.cwd) }) }),
  workPaths: (step) => ({ field: 'cwd', where: 'runs in', paths: [step.cwd] }),
});
