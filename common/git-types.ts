// The contract between workflow code and the git-flow activities (activities/git*.ts): a branch and
// worktree per workstream, commits after steps, merges into the base when a gate is approved, pushes
// and pull requests, and clean-up on abort. Plain JSON without secrets (tokens are resolved by the
// activities from the worker's environment), because all of it enters workflow history.

/** Failure types the git activities throw (non-retryable ones need a person or a changed plan). */
export const GIT_FAILURES = {
  /** A merge into the base conflicts; details[0] is GitMergeConflictDetails. Retry once resolved. */
  mergeConflict: 'GitMergeConflict',
  /** The base's checkout has uncommitted changes that a merge would touch. */
  baseDirty: 'GitBaseDirty',
  /** `base` names no commit in the repository. */
  baseMissing: 'GitBaseMissing',
  /** The path is not a git repository. */
  notARepo: 'GitNotARepository',
  /** The branch name is not a valid ref, or the branch is checked out elsewhere. */
  branchInvalid: 'GitBranchInvalid',
  /** Any other git command that failed (retryable). */
  command: 'GitCommandFailed',
} as const;

export interface GitPhaseBaseInput { repo: string; base: string }
export interface GitPhaseBaseResult { base: string; commit: string }

export interface GitPrepareInput {
  repo: string;
  /** The workstream's branch (common/git-flow.ts branchName). */
  branch: string;
  /** The commit a new branch starts from: the base as of the phase start (gitPhaseBase). */
  startPoint: string;
  runWorkflowId: string;
  workstreamId: string;
}
export interface GitPrepareResult {
  /** Absolute path of the workstream's worktree (steps run there). */
  worktree: string;
  /** The host task queue of the worker that made it (workers with one): the workstream's later steps go there. */
  hostTaskQueue?: string;
  branch: string;
  /** False when the branch already existed (a retry, or a rerun after rework, which reset it to the base). */
  created: boolean;
  head: string;
}

export interface GitCommitInput {
  worktree: string;
  message: string;
  /** The step's idempotency key: recorded as the commit's `Sparky-Step:` trailer. */
  idempotencyKey: string;
  /**
   * The phase's base commit: an earlier attempt's commit is looked for only after it (on the branch as
   * it is now), so a commit that rework took off the branch, or one of another run, is never claimed.
   */
  since?: string;
}
export interface GitCommitResult {
  /** A new commit was made by this call. */
  committed: boolean;
  /** The commit holding the step's changes (new, or made by an earlier attempt), if any. */
  commit?: string;
  files: string[];
  /** Why nothing was committed, in words. */
  reason?: string;
}

/** One approval (or other decision) as it goes into a merge commit. */
export interface GateDecisionEntry {
  approver: string;
  decision: string;
  at: string;
  comment?: string;
  surface?: string;
  automatic?: boolean;
  /** An SSHSIG over the decision statement, when approvals are signed. */
  signature?: string;
}
/** The gate's decision record, written into every merge commit of its phase. */
export interface GateDecisionRecord {
  gateId: string;
  /** The phase has no gate: its branches merge when its workstreams are done (no decision to record). */
  noGate?: boolean;
  decidedAt?: string;
  required?: number;
  entries: GateDecisionEntry[];
  checks?: { id: string; passed: boolean; message: string }[];
}

export interface GitMergeInput {
  repo: string;
  base: string;
  runWorkflowId: string;
  phaseId: string;
  /** Branches of the phase, in dependency order (a workstream after those it depends on). */
  branches: { workstreamId: string; branch: string }[];
  /** The phase's base commit: a branch with no commit beyond it has nothing to merge (said so, not "merged"). */
  baseCommit?: string;
  decision: GateDecisionRecord;
  /** Push the base afterwards to this remote (skipped, with the reason, when it does not exist). */
  push?: { remote: string };
}
export interface GitMergeConflictDetails {
  workstreamId: string;
  branch: string;
  base: string;
  files: string[];
  /** Branches merged before the conflict (they stay merged; a retry skips them). */
  merged: string[];
}
export interface GitMergeResult {
  base: string;
  head: string;
  /** `empty`: the branch had no commit beyond the phase's base, so there was nothing to merge. */
  merged: { workstreamId: string; branch: string; commit: string; alreadyMerged: boolean; empty?: boolean }[];
  push?: GitPushResult;
}

export type GitPushResult = { pushed: true; remote: string; refs: string[] } | { pushed: false; skipped: string };
export type GitPrResult = { url: string; created: boolean } | { skipped: string };

export interface GitPublishInput {
  repo: string;
  branch: string;
  base: string;
  remote: string;
  /** Push the branch (true when the plan asks for push or pr). */
  push: boolean;
  pr?: { tokenEnv?: string; draft: boolean; title: string; body: string };
}
export interface GitPublishResult { push: GitPushResult; pr?: GitPrResult }

/** Rework: reopened workstreams' branches (and worktrees) go back to the phase's base commit. */
export interface GitResetInput {
  repo: string;
  runWorkflowId: string;
  /** The phase's base commit (gitPhaseBase): where every branch of the phase starts. */
  baseCommit: string;
  branches: { workstreamId: string; branch: string }[];
}
export interface GitResetEntry {
  workstreamId: string;
  branch: string;
  /** The branch's head before the reset (absent: the branch did not exist yet, nothing to reset). */
  oldHead?: string;
  /** Uncommitted changes in its worktree that the reset discarded (`git status --porcelain` lines, at most 50). */
  discarded: string[];
  /** Something changed: the branch held commits beyond the base, or its worktree had changes. */
  changed: boolean;
}
export interface GitResetResult { reset: GitResetEntry[] }

export interface GitRemoveInput { repo: string; runWorkflowId: string; branches: string[] }
export interface GitRemoveResult { removedWorktrees: string[]; deletedBranches: string[] }

/** Activity names and signatures of the git flow, as the workflows see them. */
export interface GitActivities {
  gitPhaseBase(input: GitPhaseBaseInput): Promise<GitPhaseBaseResult>;
  gitPrepareWorkstream(input: GitPrepareInput): Promise<GitPrepareResult>;
  gitCommitStep(input: GitCommitInput): Promise<GitCommitResult>;
  gitPublishBranch(input: GitPublishInput): Promise<GitPublishResult>;
  gitMergePhase(input: GitMergeInput): Promise<GitMergeResult>;
  gitRemoveRun(input: GitRemoveInput): Promise<GitRemoveResult>;
  gitResetWorkstreams(input: GitResetInput): Promise<GitResetResult>;
}
