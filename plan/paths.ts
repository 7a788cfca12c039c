// Relative paths in a plan are relative to the plan file's directory (`baseDir`). The loader sets
// `baseDir` and calls resolvePlanPaths, so every step reaches the activities with absolute paths and
// a cwd, whichever machine or directory the worker runs in. Pure (POSIX paths, no node:path), so a
// workflow may apply it to a plan started by hand that carries `baseDir`. Idempotent.
import type { GateCheck, Plan, StepBody } from './schema.ts';
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

/** Host side of a bind mount (`./data:/data`); named volumes (`cache:/cache`) stay as they are. */
function resolveVolume(spec: string, base: string): string {
  const colon = spec.indexOf(':');
  const host = colon < 0 ? spec : spec.slice(0, colon);
  if (!(host === '.' || host === '..' || host.startsWith('./') || host.startsWith('../'))) return spec;
  return joinPath(base, host) + (colon < 0 ? '' : spec.slice(colon));
}

/** A step's own paths by its kind, then its `cache` inputs and outputs (against the plan's directory). */
function resolveStep<T extends StepBody>(step: T, base: string): T {
  return mapCachePaths(resolveKindPaths(step, base), (p) => under(base, p)!);
}

function resolveKindPaths<T extends StepBody>(step: T, base: string): T {
  switch (step.kind) {
    case 'shell': {
      return { ...step, cwd: under(base, step.cwd) ?? base };
    }
    case 'docker': {
      const cwd = under(base, step.cwd) ?? base;
      return {
        ...step, cwd,
        ...(step.context !== undefined && { context: under(cwd, step.context) }),
        ...(step.dockerfile !== undefined && { dockerfile: under(cwd, step.dockerfile) }),
        ...(step.file !== undefined && { file: under(cwd, step.file) }),
        ...(step.volumes !== undefined && { volumes: step.volumes.map((v) => resolveVolume(v, cwd)) }),
      };
    }
    case 'inference': {
      const inputs = step.inputs && Object.fromEntries(Object.entries(step.inputs).map(([k, v]) =>
        [k, Array.isArray(v) ? v.map((p) => under(base, p)!) : under(base, v)!]));
      return {
        ...step,
        ...(inputs !== undefined && { inputs }),
        ...(step.outputDir !== undefined && { outputDir: under(base, step.outputDir) }),
      };
    }
    case 'just': {
      return {
        ...step, workdir: under(base, step.workdir) ?? base,
        ...(step.justfile !== undefined && { justfile: under(base, step.justfile) }),
      };
    }
    default:
      return step;
  }
}

function resolveCheck(check: GateCheck, base: string): GateCheck {
  if (check.kind === 'command') return { ...check, cwd: under(base, check.cwd) ?? base };
  if (check.kind === 'file') return { ...check, path: under(base, check.path)! };
  return check;
}
