// Rules about single parts of a plan (approvals, docker actions, env values), used by semantic.ts.
// They read raw input defensively (helpers obj/arr/str), like semantic.ts. Pure.
import type { PathSegment } from './field-path.ts';
import { branchTemplateProblems } from './git.ts';

export type Obj = Record<string, unknown>;
export type Report = (path: PathSegment[], message: string) => void;
export const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Obj : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** A literal value under a secret-looking name is a secret in the plan (and in workflow history). */
export function checkEnv(env: unknown, at: PathSegment[], err: Report) {
  for (const [name, value] of Object.entries(obj(env) ?? {})) {
    if (SECRET_NAME.test(name) && typeof value === 'string' && value !== '' && !value.includes('${{')) {
      err([...at, name], `"${name}" looks like a secret: never put its value in a plan; use secrets: { ${name}: { fromEnv: <variable on the worker> } }`);
    }
  }
}

export function checkApprovers(list: Obj, at: PathSegment[], err: Report) {
  const approvers = arr(list.approvers);
  const unique = new Set<string>();
  approvers.forEach((a, i) => {
    if (typeof a !== 'string') return;
    if (unique.has(a)) err([...at, 'approvers', i], `approver "${a}" is listed twice`);
    unique.add(a);
  });
  const required = list.required;
  if (typeof required === 'number' && approvers.length > 0 && required > unique.size) {
    err([...at, 'required'], `required is ${required} but only ${unique.size} approver${unique.size === 1 ? ' is' : 's are'} listed`);
  }
}

/** Docker actions that name nothing to act on (and where nothing can be inferred) are mistakes. */
export function checkDocker(st: Obj, at: PathSegment[], compensated: Obj | undefined, err: Report) {
  const undoes = (action: string) => compensated?.kind === 'docker' && compensated.action === action;
  const where = compensated ? ' (it can only be inferred when compensating a docker ' : '';
  switch (st.action) {
    case 'rm':
      if (st.container === undefined && !undoes('run')) err(at, `docker rm needs "container"${compensated ? `${where}run step)` : ''}`);
      break;
    case 'rmi':
      if (st.tag === undefined && st.image === undefined && !undoes('build')) err(at, `docker rmi needs "tag"${compensated ? `${where}build step)` : ''}`);
      break;
    case 'compose-down':
      if (st.file === undefined && st.project === undefined && !undoes('compose-up')) err(at, `docker compose-down needs "file" or "project"${compensated ? `${where}compose-up step)` : ''}`);
      break;
    case 'run':
      if (st.image === undefined) err(at, 'docker run needs "image"');
      break;
    case 'compose-up':
      if (st.file === undefined) err(at, 'docker compose-up needs "file"');
      break;
  }
}

/** A plan's `git` section: a usable branch template. */
export function checkGit(git: unknown, err: Report) {
  const branch = str(obj(git)?.branch);
  if (branch !== undefined) for (const problem of branchTemplateProblems(branch)) err(['git', 'branch'], problem);
}

/** `commit` asks the git flow to commit a step's changes: it needs a plan-level `git`, and undoing work does not commit. */
export function checkCommit(st: Obj, at: PathSegment[], hasGit: boolean, isCompensation: boolean, err: Report) {
  if (st.commit === undefined) return;
  if (isCompensation) err([...at, 'commit'], 'a compensation does not commit: undoing work leaves the branch as it is');
  else if (!hasGit) err([...at, 'commit'], '"commit" needs a plan-level "git" section (the repository whose worktree the step changes), in a workstream without git: false');
}
