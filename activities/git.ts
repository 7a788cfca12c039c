// The git-flow activities a worker registers (contract: common/git-types.ts). They need nothing from
// the worker but git on PATH (and `gh` for pull requests).
import type { GitActivities } from '../common/git-types.ts';
import { gitCommitStep } from './git-commit.ts';
import { gitMergePhase } from './git-merge.ts';
import { gitPublishBranch } from './git-publish.ts';
import { gitPhaseBase, gitPrepareWorkstream, gitRemoveRun, gitResetWorkstreams } from './git-worktree.ts';

export function createGitActivities(): GitActivities {
  return { gitPhaseBase, gitPrepareWorkstream, gitCommitStep, gitPublishBranch, gitMergePhase, gitRemoveRun, gitResetWorkstreams };
}
