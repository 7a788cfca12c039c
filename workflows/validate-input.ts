// The metaOrchestrator checks its own input: a run started by hand (`temporal workflow start
// --input`) gets the same checks as one started by Sparky's CLI. Any error fails the run at once,
// non-retryably, with every bad field named (retrying would only fail the same way). The run options
// of re-runs (noCache, only, from, dryRun) are checked against the plan the same way.
import { ApplicationFailure } from '@temporalio/workflow';
import type { Plan } from '../plan/schema.ts';
import { validatePlan } from '../plan/validate.ts';
import { resolvePlanPaths } from '../plan/paths.ts';
import { gitPathErrors } from '../plan/git.ts';
import type { RunOptions } from './run-context.ts';
import type { PlanRef } from '../common/plan-ref.ts';
import { subsetErrors } from '../plan/subset.ts';
import { suggest } from '../plan/suggest.ts';

/** `plan` (the plan as JSON), or `planRef` (a plan committed in a repository: common/plan-ref.ts), and the run's options. */
export interface MetaInput { plan?: unknown; planRef?: PlanRef; options?: RunOptions }

/**
 * `gitPaths`: whether the rule that a step which commits works in git.repo applies (plan/git.ts; new
 * in this release). The run's start asks `patched()`, so a run started before the rule replays as it
 * ran; a revision always gets it.
 */
export function validateRunInput(input: unknown, opts: { gitPaths?: () => boolean } = {}): { plan: Plan; options: RunOptions } {
  if (input === null || typeof input !== 'object' || Array.isArray(input) || !('plan' in input)) {
    throw ApplicationFailure.nonRetryable(
      'invalid input: expected one JSON object {"plan": {...}, "options": {...}} (the plan as JSON; or {"planRef": {"repo", "path", "ref"}} for a committed plan)',
      'SparkyInvalidPlan', { errors: [{ path: '(input)', message: 'missing "plan"' }] });
  }
  const { plan, options } = input as MetaInput;
  const result = validatePlan(plan);
  if (!result.ok) invalid(result.errors);
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw ApplicationFailure.nonRetryable('invalid input: "options" must be an object', 'SparkyInvalidPlan',
      { errors: [{ path: 'options', message: 'must be an object' }] });
  }
  const resolved = resolvePlanPaths(result.plan);
  const gitErrors = gitPathErrors(resolved);
  if (gitErrors.length > 0 && (opts.gitPaths?.() ?? true)) invalid(gitErrors);
  if (options) {
    const optionErrors = rerunOptionErrors(resolved, options);
    if (optionErrors.length > 0) invalid(optionErrors);
  }
  return { plan: resolved, options: options ?? {} };
}

/** The re-run options (noCache, only, from, dryRun): workstream ids the plan has, of the right types. */
export function rerunOptionErrors(plan: Plan, options: RunOptions): { path: string; message: string }[] {
  const errors = subsetErrors(plan, options);
  const known = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
  const { noCache, dryRun } = options;
  if (noCache !== undefined && typeof noCache !== 'boolean') {
    if (!Array.isArray(noCache) || noCache.some((w) => typeof w !== 'string')) errors.push({ path: 'options.noCache', message: 'must be true or a list of workstream ids' });
    else for (const id of noCache) if (!known.includes(id)) errors.push({ path: 'options.noCache', message: `unknown workstream "${id}"${suggest(id, known)}` });
  }
  if (dryRun !== undefined && typeof dryRun !== 'boolean') errors.push({ path: 'options.dryRun', message: 'must be true or false' });
  return errors;
}

function invalid(errors: { path: string; message: string }[]): never {
  const lines = errors.map((e) => `  ${e.path}: ${e.message}`);
  throw ApplicationFailure.nonRetryable(`invalid plan (${errors.length} error${errors.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
    'SparkyInvalidPlan', { errors });
}
