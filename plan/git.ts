// The git flow's rules, shared by the validator, the workflows and the git activities: defaults of a
// plan's `git` and the problems of a branch template (branch names themselves: common/git-flow.ts).
// Pure (workflows import it): no I/O, no Node built-ins.
import type { GitFlow } from './schema.ts';

export const GIT_DEFAULTS = {
  base: 'main',
  branch: 'sparky/{plan}/{run}/{workstream}',
  merge: 'onGate',
  remote: 'origin',
} as const;

/** The placeholders a branch template may use. {workstream} is required: one branch per workstream. */
export const BRANCH_PLACEHOLDERS = ['plan', 'run', 'phase', 'domain', 'workstream'] as const;
export type BranchPlaceholder = typeof BRANCH_PLACEHOLDERS[number];

export interface GitSettings {
  repo: string;
  base: string;
  branch: string;
  merge: 'onGate' | 'never';
  /** The remote to push to, when the plan asks for pushes. */
  push?: { remote: string };
  pr?: { tool: 'gh'; tokenEnv?: string; draft: boolean };
}

/** A plan's `git` with every default filled in. */
export function gitSettings(git: GitFlow): GitSettings {
  const push = git.push === true ? { remote: GIT_DEFAULTS.remote }
    : typeof git.push === 'object' ? { remote: git.push.remote ?? GIT_DEFAULTS.remote } : undefined;
  return {
    repo: git.repo,
    base: git.base ?? GIT_DEFAULTS.base,
    branch: git.branch ?? GIT_DEFAULTS.branch,
    merge: git.merge ?? GIT_DEFAULTS.merge,
    ...(push && { push }),
    ...(git.pr && { pr: { tool: git.pr.tool, tokenEnv: git.pr.token?.fromEnv, draft: git.pr.draft ?? false } }),
  };
}

/** Problems of a branch template, as messages (the validator adds the path). */
export function branchTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const [, name] of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(BRANCH_PLACEHOLDERS as readonly string[]).includes(name)) {
      problems.push(`unknown placeholder {${name}}: expected ${BRANCH_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    }
  }
  if (!template.includes('{workstream}')) problems.push('the branch template needs {workstream}: every workstream gets its own branch');
  const literal = template.replace(/\{[a-z]+\}/g, 'x');
  if (/[\s~^:?*[\\]|\.\.|@\{|\/\/|^\/|\/$|\.lock(\/|$)|^-/.test(literal)) {
    problems.push(`"${template}" is not a valid git branch name (see git check-ref-format)`);
  }
  return problems;
}
