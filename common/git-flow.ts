// Branch names of the git flow: `sparky/{plan}/{run}/{workstream}` filled in for one workstream of one
// run. Pure (workflows compute the names they hand to the git activities).
import { BRANCH_PLACEHOLDERS, type BranchPlaceholder } from '../plan/git.ts';
import { slug } from './ids.ts';

/** The run part of a workflow id `sparky-<plan>-<run>`; a workflow id given by hand is used whole. */
export function runIdOf(runWorkflowId: string, planName: string): string {
  const prefix = `sparky-${slug(planName)}-`;
  return runWorkflowId.startsWith(prefix) && runWorkflowId.length > prefix.length ? runWorkflowId.slice(prefix.length) : runWorkflowId;
}

export interface BranchContext { planName: string; runWorkflowId: string; phaseId: string; domainId: string; workstreamId: string }

/** Characters git refuses in a branch name (and ones that would make it awkward), replaced by "-". */
const refSafe = (text: string) => text.replace(/[\s~^:?*[\\\x00-\x1f\x7f]+|\.\.+|@\{/g, '-').replace(/^[-.]+|[.]+$|\.lock$/g, '') || 'x';

/** The branch of one workstream: the template with its placeholders filled (each value made ref-safe). */
export function branchName(template: string, ctx: BranchContext): string {
  const values: Record<BranchPlaceholder, string> = {
    plan: ctx.planName, run: runIdOf(ctx.runWorkflowId, ctx.planName), phase: ctx.phaseId, domain: ctx.domainId, workstream: ctx.workstreamId,
  };
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) =>
    (BRANCH_PLACEHOLDERS as readonly string[]).includes(name) ? refSafe(values[name as BranchPlaceholder]) : whole);
}

