// The baseline of the orchestration benchmark: a bare Temporal workflow that runs the same activities
// with the same parallelism, and nothing else (no plan, no children, no status, no gate).
import { proxyActivities } from '@temporalio/workflow';
import type { SparkyActivities, StepActivityInput } from '../../common/activity-types.ts';

export async function bareBaseline(input: { steps: StepActivityInput[]; parallel: number; taskQueue: string }): Promise<number> {
  const { runStep } = proxyActivities<SparkyActivities>({ startToCloseTimeout: '1m', taskQueue: input.taskQueue });
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < input.steps.length) {
      const step = input.steps[next++];
      await runStep(step);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: input.parallel }, lane));
  return done;
}
