// A plan read from a repository at a ref (a schedule's `--committed` plan, or `{"planRef": …}` through
// `temporal workflow start`): each run takes the plan as committed when it starts, so a schedule
// follows the repository instead of a copy made when it was created. The loader checks it as
// `sparky validate` does; relative paths resolve against the plan file's folder in the repository's
// checkout (where the steps run).
import { ApplicationFailure } from '@temporalio/common';
import path from 'node:path';
import type { PlanRef, PlanRefResult } from '../common/plan-ref.ts';
import { formatErrors, loadPlanText } from '../plan/load.ts';
import { gitRaw } from './git-exec.ts';

export async function loadCommittedPlan({ repo, path: file, ref = 'HEAD' }: PlanRef): Promise<PlanRefResult> {
  const rev = await gitRaw(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (rev.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(`planRef: ${repo} has no commit "${ref}" (is it a git repository, and the ref a branch, tag or commit there?)`, 'SparkyInvalidPlan');
  }
  const commit = rev.stdout.trim();
  const shown = await gitRaw(repo, ['show', `${commit}:${file}`]);
  if (shown.exitCode !== 0) {
    throw ApplicationFailure.nonRetryable(`planRef: ${file} is not committed in ${repo} at ${ref} (${commit.slice(0, 12)}): ${shown.stderr.trim().split('\n')[0]}`, 'SparkyInvalidPlan');
  }
  const full = path.join(repo, file);
  const loaded = loadPlanText(shown.stdout, full, { baseDir: path.dirname(full) });
  if (!loaded.ok || !loaded.plan) {
    throw ApplicationFailure.nonRetryable(`planRef: ${file} at ${ref} (${commit.slice(0, 12)}) is not a valid plan:\n${formatErrors(loaded.errors)}`, 'SparkyInvalidPlan',
      { errors: loaded.errors.map((e) => ({ path: e.path, message: e.message })) });
  }
  return { plan: loaded.plan, commit };
}
