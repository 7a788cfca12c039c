// The git flow's rules, shared by the validator, the workflows and the git activities: defaults of a
// plan's `git`, the problems of a branch template (branch names themselves: common/git-flow.ts), and
// the rule that a step which commits works in the repository (gitPathErrors, ADR 0008).
// Pure (workflows import it): no I/O, no Node built-ins.
import type { PathSegment } from './field-path.ts';
import { formatPath } from './field-path.ts';
import { isAbsolute, isInside, joinPath, relativePath } from './paths.ts';
import type { GitFlow, Plan, StepBody } from './schema.ts';
import { kindOf } from './kinds/index.ts';

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

/** A path problem of the git flow, as the validator reports it (plan/validate.ts PlanError). */
export interface GitPathError { path: string; message: string }

/** Stands for the worker's working directory where a plan has no absolute baseDir (started by hand). */
const WORKER = '/(the worker\'s working directory)';
const RUN_DIR = /^(\$SPARKY_RUN_DIR|\$\{SPARKY_RUN_DIR\})(?=$|\/)/;

/** The field a person sets to move a step into the repository, and every path by which it could reach it (its kind says: plan/kinds/<kind>.ts). */
function workPaths(step: StepBody) {
  return kindOf(step).workPaths(step);
}

/**
 * A step with `commit` whose work lies outside `git.repo` could never commit anything: only paths in
 * the repository move into the workstream's worktree, so it would change (at most) the plan's folder
 * or the repository's own checkout, commit nothing, and the phase would "merge" nothing — a green run
 * that did nothing. Such a step is a validation error naming the step, the folder and the fix. Takes a
 * plan whose paths are resolved (plan/paths.ts); without an absolute baseDir, paths are relative to
 * the worker's working directory, which is unknown here. Paths that are references (`${{ … }}`, `~`,
 * other `$` variables) cannot be judged and pass; `$SPARKY_RUN_DIR` is never in the repository.
 */
export function gitPathErrors(plan: Plan): GitPathError[] {
  if (!plan.git) return [];
  const base = plan.baseDir !== undefined && isAbsolute(plan.baseDir) ? joinPath('/', plan.baseDir) : undefined;
  const resolve = (p: string | undefined): string => (p === undefined ? base ?? WORKER : joinPath(base ?? WORKER, p));
  const shown = (p: string) => (p.startsWith(WORKER) ? `${WORKER.slice(2, -1)}${p.slice(WORKER.length)}${base ? '' : ' (the plan has no baseDir)'}` : p);
  const repo = resolve(plan.git.repo);
  const errors: GitPathError[] = [];
  plan.phases.forEach((phase, p) => phase.domains.forEach((domain, d) => domain.workstreams.forEach((ws, w) => {
    if (ws.git === false) return;
    ws.steps.forEach((step, s) => {
      if (step.commit === undefined) return;
      const { field, where, paths } = workPaths(step);
      if (paths.some((x) => x !== undefined && !RUN_DIR.test(x) && /^(\$|~)/.test(x))) return; // known only at run time
      const resolved = paths.map((x) => (x !== undefined && RUN_DIR.test(x) ? undefined : resolve(x)));
      if (resolved.some((x) => x !== undefined && isInside(x, repo))) return;
      // A repository relative to the worker's directory (unknown here) and a step path that is not: no verdict.
      if (repo.startsWith(WORKER) && resolved.some((x) => x !== undefined && !x.startsWith(WORKER))) return;
      const own = paths[0];
      const folder = own !== undefined && RUN_DIR.test(own) ? `the run's own directory (${own})` : shown(resolved[0] ?? resolve(undefined));
      const target = base && !repo.startsWith(WORKER) ? relativePath(base, repo) : repo.startsWith(WORKER) ? plan.git!.repo : repo;
      const at: PathSegment[] = ['phases', p, 'domains', d, 'workstreams', w, 'steps', s, field];
      errors.push({
        path: formatPath(at),
        message: `step "${step.id}" commits (commit: ${JSON.stringify(step.commit)}) but ${where} ${folder}, outside the repository ${shown(repo)} (git.repo): `
          + 'only paths in the repository move into the workstream\'s worktree, so nothing it changes would be committed or merged. '
          + `Set ${field}: ${target} (or a folder in it)${field === 'outputDir' ? '' : ', or keep the plan in the repository'}`,
      });
    });
  })));
  return errors;
}
