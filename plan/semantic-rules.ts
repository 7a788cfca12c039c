// Rules about single parts of a plan (approvals, env values, webhooks, git), used by semantic.ts; the
// rules of a step kind's own fields live in its module (plan/kinds/<kind>.ts).
// They read raw input defensively (helpers obj/arr/str), like semantic.ts. Pure.
import { keyFingerprint, parseListedKey } from '../common/keys.ts';
import type { PathSegment } from './field-path.ts';
import { branchTemplateProblems } from './git.ts';

export type { Obj, Report } from './kinds/kind.ts';
import type { Obj, Report } from './kinds/kind.ts';
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
  const keyOwner = new Map<string, string>();
  approvers.forEach((a, i) => {
    const name = typeof a === 'string' ? a : str(obj(a)?.name);
    if (name === undefined) return;
    if (unique.has(name)) err([...at, 'approvers', i], `approver "${name}" is listed twice`);
    unique.add(name);
    const key = obj(a)?.key;
    const keys: [unknown, PathSegment[]][] = Array.isArray(key) ? key.map((k, j) => [k, [...at, 'approvers', i, 'key', j]]) : [[key, [...at, 'approvers', i, 'key']]];
    for (const [line, path] of keys) {
      if (typeof line !== 'string' || !/^(ssh-ed25519|webauthn) /.test(line)) continue; // the shape check names other types
      const parsed = parseListedKey(line);
      if ('error' in parsed) { err(path, parsed.error); continue; }
      const fp = keyFingerprint(parsed);
      const owner = keyOwner.get(fp);
      // One signature would count for both names: the same key must not speak for two approvers.
      if (owner !== undefined && owner !== name) err(path, `key ${fp} is also listed for "${owner}": each approver needs their own key`);
      else keyOwner.set(fp, name);
    }
  });
  const required = list.required;
  if (typeof required === 'number' && approvers.length > 0 && required > unique.size) {
    err([...at, 'required'], `required is ${required} but only ${unique.size} approver${unique.size === 1 ? ' is' : 's are'} listed`);
  }
}

/** Query parameters and hosts that mean a URL carries a credential. */
const SECRET_QUERY = /(token|secret|key|sig|signature|password|auth)/i;
const TOKEN_HOSTS = /(^|\.)(hooks\.slack\.com|discord(app)?\.com|webhook\.office\.com|chat\.googleapis\.com)$/i;

/** Webhooks: one of url / urlFromEnv; no credentials in a literal URL; a gate's notify sends gate events. */
export function checkNotify(notify: unknown, at: PathSegment[], gateEvents: readonly string[] | undefined, err: Report) {
  arr(obj(notify)?.webhooks).forEach((raw, i) => {
    const hook = obj(raw);
    if (!hook) return;
    const path = [...at, 'webhooks', i];
    const url = str(hook.url);
    if ((url === undefined) === (hook.urlFromEnv === undefined)) err(path, 'a webhook needs exactly one of "url" and "urlFromEnv"');
    if (url !== undefined) {
      const problem = urlSecretProblem(url);
      if (problem) err([...path, 'url'], `${problem}: a URL with a credential in it would enter the workflow history; put it in an environment variable on the worker and use urlFromEnv`);
    }
    if (gateEvents) {
      arr(hook.events).forEach((e, j) => {
        if (typeof e === 'string' && !gateEvents.includes(e)) err([...path, 'events', j], `a gate's notify sends ${gateEvents.join(', ')} only; "${e}" belongs in the plan's notify`);
      });
    }
  });
}

function urlSecretProblem(text: string): string | undefined {
  let url: URL;
  try { url = new URL(text); } catch { return undefined; } // the shape check reports it
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `"${url.protocol}" is not http or https`;
  if (url.username || url.password) return 'the URL carries a user name or password';
  for (const name of url.searchParams.keys()) if (SECRET_QUERY.test(name)) return `the URL's query parameter "${name}" looks like a credential`;
  if (TOKEN_HOSTS.test(url.hostname)) return `${url.hostname} webhook URLs are tokens`;
  return undefined;
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

/** `starters`: people known by key; a plain name takes its keys from the plan's allowedSigners file. */
export function checkStarters(plan: Obj, err: Report) {
  if (plan.starters === undefined) return;
  checkApprovers({ approvers: plan.starters }, [], (path, message) => err(['starters', ...path.slice(1)], message.replace('approver', 'starter')));
  arr(plan.starters).forEach((s, i) => {
    if (typeof s === 'string' && plan.allowedSigners === undefined) {
      err(['starters', i], `starter "${s}" has no key: give it one ({name: ${s}, key: "ssh-ed25519 …"}) or name the plan's allowedSigners file that lists it`);
    }
  });
}
