// Relative paths in a plan are relative to the plan file's directory (`baseDir`). The loader sets
// `baseDir` and calls resolvePlanPaths, so every step reaches the activities with absolute paths and
// a cwd, whichever machine or directory the worker runs in. Pure (POSIX paths, no node:path), so a
// workflow may apply it to a plan started by hand that carries `baseDir`. Idempotent.
import { CHECK_KINDS, checkKindOf } from './checks/index.ts';
import type { GateCheck, Plan, StepBody } from './schema.ts';
import { kindOf } from './kinds/index.ts';
import { mapCachePaths } from './cache-key.ts';

export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

/** POSIX join + normalise (`a/./b/../c` → `a/c`); an absolute `rel` wins. */
export function joinPath(base: string, rel: string): string {
  const full = isAbsolute(rel) ? rel : `${base}/${rel}`;
  const out: string[] = [];
  for (const part of full.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/** `to` relative to `from` (both absolute, normalised): `../work`, `sub/dir`, or `.`. */
export function relativePath(from: string, to: string): string {
  const a = joinPath('/', from).split('/').filter(Boolean);
  const b = joinPath('/', to).split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common += 1;
  const parts = [...a.slice(common).map(() => '..'), ...b.slice(common)];
  return parts.length === 0 ? '.' : parts.join('/');
}

/** `p` is `dir` or lies under it (both absolute, normalised). */
export function isInside(p: string, dir: string): boolean {
  const root = dir === '/' ? '' : dir.replace(/\/+$/, '');
  return p === dir || p.startsWith(`${root}/`);
}

/** Strings that are not file paths to resolve: output references and `~` (the worker's home). */
function resolvable(p: string): boolean {
  return !p.startsWith('${{') && !p.startsWith('~') && !p.startsWith('$');
}

const under = (base: string, p: string | undefined) => (p === undefined || !resolvable(p) ? p : joinPath(base, p));

export function resolvePlanPaths(plan: Plan): Plan {
  const base = plan.baseDir;
  if (base === undefined || !isAbsolute(base)) return plan;
  return {
    ...plan,
    ...(plan.git !== undefined && { git: { ...plan.git, repo: joinPath(base, plan.git.repo) } }),
    phases: plan.phases.map((phase) => ({
      ...phase,
      domains: phase.domains.map((domain) => ({
        ...domain,
        workstreams: domain.workstreams.map((ws) => ({
          ...ws,
          steps: ws.steps.map((step) => {
            const resolved = resolveStep(step, base);
            return step.compensate ? { ...resolved, compensate: resolveStep(step.compensate, base) } : resolved;
          }) as typeof ws.steps,
        })),
      })),
      gate: phase.gate && {
        ...phase.gate,
        checks: phase.gate.checks?.map((check) => resolveCheck(check, base)),
      },
    })),
  };
}

/** A step's relative paths made absolute, by its kind's own rules (plan/kinds/<kind>.ts), then its `cache` inputs and outputs (against the plan's directory). */
function resolveStep<T extends StepBody>(step: T, base: string): T {
  return mapCachePaths(kindOf(step).resolvePaths(step, base, under), (p) => under(base, p)!);
}

/** A check's relative paths made absolute, by its kind's own rules (plan/checks/<kind>.ts). */
function resolveCheck(check: GateCheck, base: string): GateCheck {
  const def = checkKindOf(check.kind);
  if (!def) throw new Error(`unknown gate check kind ${JSON.stringify(check.kind)} (known: ${Object.keys(CHECK_KINDS).join(', ')})`);
  return def.resolvePaths(check, base, under);
}
