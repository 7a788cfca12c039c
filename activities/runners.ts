// The worker side of the step kinds: one runner per kind, in a table typed over the kind names of
// plan/kinds/index.ts, so a kind registered there without a runner here fails `tsc`. Built per worker
// from its dependencies (activities/index.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { StepKindName, StepOfKind } from '../plan/kinds/index.ts';
import { createAgentRunner } from './agent.ts';
import { attemptInfo } from './context.ts';
import { createDockerRunner } from './docker.ts';
import { createInferenceRunner, type InferenceDeps } from './inference.ts';
import { createJustRunner } from './just.ts';
import type { RunnerDeps } from './runner-deps.ts';
import { createShellRunner } from './shell.ts';
import { stepLabel } from './step-env.ts';

export type StepRunner<K extends StepKindName> = (input: StepActivityInput & { step: StepOfKind<K> }) => Promise<StepResult>;
export type StepRunners = { readonly [K in StepKindName]: StepRunner<K> };

export function createStepRunners(deps: RunnerDeps, extra: { inference?: InferenceDeps }): StepRunners {
  const inference = extra.inference ? createInferenceRunner(deps, extra.inference) : undefined;
  return {
    shell: createShellRunner(deps),
    docker: createDockerRunner(deps),
    just: createJustRunner(deps),
    agent: createAgentRunner(deps),
    inference: async (input) => {
      if (!inference) {
        throw ApplicationFailure.nonRetryable(
          `${stepLabel(input)} is an inference step, but this worker (task queue ${attemptInfo().taskQueue}) has no inference server configured: `
          + 'give the step `pool: gpu` (or a pinned GPU pool) so that a GPU worker runs it',
          'InferenceUnavailable',
        );
      }
      return inference(input);
    },
  };
}

/** Runs a step with its kind's runner; an unknown kind (a hand-made input) fails without retries. */
export function runByKind(runners: StepRunners, input: StepActivityInput): Promise<StepResult> {
  const kind = input.step.kind as string;
  if (!Object.hasOwn(runners, kind)) {
    throw ApplicationFailure.nonRetryable(`unknown step kind ${JSON.stringify(kind)}`, 'StepInvalid');
  }
  return (runners[kind as StepKindName] as StepRunner<StepKindName>)(input as StepActivityInput & { step: StepOfKind<StepKindName> });
}
