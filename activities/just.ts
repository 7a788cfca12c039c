// `just` steps: a recipe of a justfile, run like a shell step (argv only, logs, deadline, heartbeats,
// the process tree ended on cancel, outputs): `just [--justfile F] -- <recipe> <args…>`,
// started in `workdir`; recipes run in their justfile's directory, as with `just` itself. The `--`
// keeps arguments that look like flags or `NAME=value` overrides literal.
import path from 'node:path';
import type { StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { JustStep } from '../plan/schema.ts';
import type { RunnerDeps } from './runner-deps.ts';
import { runArgvStep } from './shell.ts';

/** The argv of a `just` step (without the program). */
export function justArgv(step: JustStep, base: string): string[] {
  const justfile = step.justfile === undefined ? [] : ['--justfile', path.resolve(base, step.justfile)];
  return [...justfile, '--', step.recipe, ...(step.args ?? [])];
}

export function createJustRunner(deps: RunnerDeps) {
  return async function runJust(input: StepActivityInput & { step: JustStep }): Promise<StepResult> {
    const { step } = input;
    const base = deps.workdir ?? process.cwd();
    const workdir = path.resolve(base, step.workdir ?? '.');
    return runArgvStep(deps, input, {
      file: deps.justBin ?? 'just', args: justArgv(step, base), cwd: workdir,
      outputs: step.outputs, nonRetryableExitCodes: step.nonRetryableExitCodes,
      details: { recipe: step.recipe, ...(step.justfile !== undefined && { justfile: step.justfile }) },
    });
  };
}
