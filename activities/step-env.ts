// The environment every step process (or container) gets: the plan's and step's `env`, the resolved
// secrets, and Sparky's own variables so a step can tell runs and attempts apart and make itself
// idempotent (SPARKY_IDEMPOTENCY_KEY is the same on every retry of this step in this run).
import type { StepActivityInput } from '../common/activity-types.ts';

/** `attempt`: the step's attempt as people count it (continuing across a person's retries: logs.ts stepAttempt). */
export function stepEnv(input: StepActivityInput, attempt: number, secrets: Record<string, string>): Record<string, string> {
  const { ctx, step } = input;
  return {
    ...ctx.env,
    ...step.env,
    ...secrets,
    SPARKY_RUN_ID: ctx.runWorkflowId,
    SPARKY_STEP_ID: `${ctx.workstreamId}/${ctx.stepId}`,
    SPARKY_ATTEMPT: String(attempt),
    SPARKY_IDEMPOTENCY_KEY: ctx.idempotencyKey,
    ...(ctx.compensation ? { SPARKY_COMPENSATION: '1' } : {}),
  };
}

export const stepLabel = (input: StepActivityInput) =>
  `step ${input.ctx.workstreamId}/${input.ctx.stepId}${input.ctx.compensation ? ' (compensation)' : ''}`;
