// The baselines of the orchestration benchmarks: bare Temporal workflows that do the same activity work
// as a Sparky run and nothing else (no plan, no status, no search attributes, no progress signals).
// They use Sparky's own activity options (workflows/steps.ts), so the only difference is Sparky.
//  - bareBaseline: phases of per-domain lanes (the same parallelism as Sparky's domains × maxParallel),
//    with a gate check activity between phases (what a checks-only gate costs at its least);
//  - bareSignalGate: N rounds of "wait for a signal, then run one activity" (the floor of a gate);
//  - bareChildGate: the same, but the activity runs in a child workflow started after the signal
//    (the floor of a gate whose next phase runs in a domain child, as Sparky's does).
import { condition, defineQuery, defineSignal, executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import type { GateCheckInput, SparkyActivities, StepActivityInput } from '../../common/activity-types.ts';
import { activityOptions } from '../../workflows/steps.ts';
import type { RunContext } from '../../workflows/run-context.ts';

function options(taskQueue: string, input: StepActivityInput) {
  const run: RunContext = { runWorkflowId: input.ctx.runWorkflowId, parentWorkflowId: input.ctx.runWorkflowId, planName: input.ctx.planName,
    phaseId: input.ctx.phaseId, defaults: {}, pools: {}, env: {}, cpuTaskQueue: taskQueue };
  return activityOptions(input.step, run, taskQueue);
}

export interface BarePhase {
  /** One list of steps per domain; each domain runs `perDomainParallel` lanes over its list. */
  domains: StepActivityInput[][];
  /** A gate check run after the phase (checks-only gate), if any. */
  check?: GateCheckInput;
}

export async function bareBaseline(input: { phases: BarePhase[]; perDomainParallel: number; taskQueue: string }): Promise<number> {
  let done = 0;
  for (const phase of input.phases) {
    await Promise.all(phase.domains.map(async (steps) => {
      let next = 0;
      const lane = async () => {
        while (next < steps.length) {
          const step = steps[next++];
          await proxyActivities<SparkyActivities>(options(input.taskQueue, step)).runStep(step);
          done += 1;
        }
      };
      await Promise.all(Array.from({ length: input.perDomainParallel }, lane));
    }));
    if (phase.check) {
      await proxyActivities<SparkyActivities>({ taskQueue: input.taskQueue, startToCloseTimeout: 5 * 60_000,
        retry: { maximumAttempts: 2, initialInterval: 1000 } }).runGateCheck(phase.check);
    }
  }
  return done;
}

export const bareApprove = defineSignal<[number]>('bareApprove');
/** The round the workflow waits for a signal for, or -1 while it is running an activity (or done). */
export const bareWaiting = defineQuery<number>('bareWaiting');

interface GateInput { rounds: number; steps: StepActivityInput[]; taskQueue: string }

async function gates(input: GateInput, next: (step: StepActivityInput, round: number) => Promise<unknown>): Promise<void> {
  let approved = -1;
  let waiting = -1;
  setHandler(bareApprove, (round) => { approved = Math.max(approved, round); });
  setHandler(bareWaiting, () => waiting);
  await next(input.steps[0], 0);
  for (let round = 0; round < input.rounds; round++) {
    waiting = round;
    await condition(() => approved >= round);
    waiting = -1;
    await next(input.steps[round + 1], round + 1);
  }
}

export async function bareSignalGate(input: GateInput): Promise<void> {
  await gates(input, (step) => proxyActivities<SparkyActivities>(options(input.taskQueue, step)).runStep(step));
}

export async function bareChildStep(input: { step: StepActivityInput; taskQueue: string }): Promise<void> {
  await proxyActivities<SparkyActivities>(options(input.taskQueue, input.step)).runStep(input.step);
}

export async function bareChildGate(input: GateInput & { workflowId: string }): Promise<void> {
  await gates(input, (step, round) => executeChild(bareChildStep, {
    workflowId: `${input.workflowId}/round-${round}`, taskQueue: input.taskQueue, args: [{ step, taskQueue: input.taskQueue }],
  }));
}
