// Containers, images and compose projects are named from the run and the step, so that every attempt
// of a step (a retry after a worker crash, a compensation) finds what earlier attempts left behind.
import { createHash } from 'node:crypto';
import type { StepContext } from '../common/activity-types.ts';

type Who = Pick<StepContext, 'runWorkflowId' | 'workstreamId' | 'stepId'>;

const runHash = (runWorkflowId: string) => createHash('sha256').update(runWorkflowId).digest('hex').slice(0, 10);
const part = (text: string) => text.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';

/** `sparky-<hash of run>-<workstream>-<step>`: a valid container name, image name and compose project. */
export function stepResourceName(ctx: Who): string {
  return `sparky-${runHash(ctx.runWorkflowId)}-${part(ctx.workstreamId)}-${part(ctx.stepId)}`.slice(0, 120).replace(/-+$/, '');
}

export function stepLabels(ctx: Who): string[] {
  return [`sparky.run=${ctx.runWorkflowId}`, `sparky.step=${ctx.workstreamId}/${ctx.stepId}`];
}
