// Checks a plan's `just` steps against their justfiles, the way `sparky validate` checks everything
// else: an unknown recipe (with a did-you-mean) or a wrong number of arguments is a plan error naming
// the field. It asks `just` itself (`just --dump --dump-format json`), once per justfile, so it reads
// files and runs a program: the loader calls it for plan FILES (plan/load.ts); the pure validator that
// workflows run never does (a recipe missing at run time fails the step like any failing command).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PlanError } from './semantic.ts';
import type { JustStep, Plan, StepBody } from './schema.ts';
import { formatPath, type PathSegment } from './field-path.ts';
import { suggest } from './suggest.ts';
import { JUST_BIN } from '../host/paths.ts';

interface JustParameter { name: string; kind: 'singular' | 'plus' | 'star'; default: unknown; long?: string | null; short?: string | null; flag?: boolean }
interface JustRecipe { name: string; parameters: JustParameter[] }
/** The part of `just --dump --dump-format json` this check reads. */
export interface JustfileDump {
  recipes: Record<string, JustRecipe>;
  aliases: Record<string, { target: string }>;
  modules: Record<string, JustfileDump>;
  source?: string;
}

/** The problem with running `recipe args` against this justfile, or undefined when there is none. */
export function recipeProblem(dump: JustfileDump, recipe: string, args: string[]): { field: 'recipe' | 'args'; message: string } | undefined {
  const parts = recipe.split('::');
  let mod = dump;
  for (const [i, name] of parts.slice(0, -1).entries()) {
    const next = mod.modules?.[name];
    if (!next) {
      const where = i === 0 ? 'the justfile' : `module ${parts.slice(0, i).join('::')}`;
      return { field: 'recipe', message: `${where} has no module "${name}"${suggest(name, Object.keys(mod.modules ?? {}))}` };
    }
    mod = next;
  }
  const last = parts[parts.length - 1];
  const target = mod.recipes[last] ?? mod.recipes[mod.aliases?.[last]?.target ?? ''];
  if (!target) {
    const where = dump.source ? ` ${dump.source}` : '';
    const known = [...Object.keys(mod.recipes), ...Object.keys(mod.aliases ?? {})];
    const hint = suggest(last, known) || (known.length ? ` (recipes: ${Object.keys(mod.recipes).filter((r) => !r.startsWith('_')).slice(0, 12).join(', ')})` : '');
    return { field: 'recipe', message: `unknown recipe "${recipe}" in the justfile${where}${hint}` };
  }
  const isOption = (p: JustParameter) => Boolean(p.long || p.short || p.flag);
  const positional = target.parameters.filter((p) => !isOption(p));
  const counted = target.parameters.some(isOption) ? args.filter((a) => !a.startsWith('-')) : args;
  const variadic = positional.find((p) => p.kind !== 'singular');
  const min = positional.filter((p) => p.kind === 'singular' && p.default === null).length + (variadic?.kind === 'plus' && variadic.default === null ? 1 : 0);
  const max = variadic ? Infinity : positional.length;
  if (counted.length >= min && counted.length <= max) return undefined;
  const signature = positional.map((p) => `${p.kind === 'plus' ? '+' : p.kind === 'star' ? '*' : ''}${p.name}${p.default !== null ? '=…' : ''}`).join(' ');
  const wanted = max === Infinity ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`;
  return {
    field: 'args',
    message: `recipe "${recipe}" takes ${wanted} argument${wanted.endsWith(' 1') || wanted === '1' ? '' : 's'} (${target.name}${signature ? ` ${signature}` : ''}), the step gives ${counted.length}`,
  };
}

/** Runs `just --dump` for one justfile (or the one found from `workdir` upwards). */
export function dumpJustfile(workdir: string, justfile: string | undefined, justBin = JUST_BIN): Promise<JustfileDump> {
  const argv = [...(justfile ? ['--justfile', justfile] : []), '--dump', '--dump-format', 'json'];
  return new Promise((resolve, reject) => {
    // With an explicit justfile the directory it starts in does not matter for a dump (a workdir may be
    // made by an earlier step, or be a worktree that exists only during the run).
    const cwd = existsSync(workdir) ? workdir : justfile ? path.dirname(justfile) : undefined;
    if (cwd === undefined) { reject(new Error(`the working directory ${workdir} does not exist (give the step a justfile to check it against)`)); return; }
    execFile(justBin, argv, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new Error(missing
          ? `just is not installed (${justBin}): scripts/setup installs it into .tools/bin, or set SPARKY_JUST_BIN`
          : `just could not read the justfile: ${String(stderr).trim().split('\n')[0] || error.message}`));
        return;
      }
      try { resolve(JSON.parse(stdout) as JustfileDump); } catch (e) { reject(new Error(`just --dump printed no JSON: ${(e as Error).message}`)); }
    });
  });
}

/** Every `just` step (compensations too) with its field path. */
function justSteps(plan: Plan): { step: JustStep; path: PathSegment[] }[] {
  const out: { step: JustStep; path: PathSegment[] }[] = [];
  const visit = (step: StepBody & { compensate?: StepBody }, at: PathSegment[]) => {
    if (step.kind === 'just') out.push({ step, path: at });
    if (step.compensate) visit(step.compensate, [...at, 'compensate']);
  };
  plan.phases.forEach((phase, p) => phase.domains.forEach((domain, d) => domain.workstreams.forEach((ws, w) =>
    ws.steps.forEach((step, s) => visit(step, ['phases', p, 'domains', d, 'workstreams', w, 'steps', s])))));
  return out;
}

/**
 * The plan errors of a valid plan's `just` steps (paths already resolved by the loader). `base` is
 * where a step without `workdir` starts `just` (the plan's directory).
 */
export async function justfileErrors(plan: Plan, opts: { justBin?: string } = {}): Promise<PlanError[]> {
  const steps = justSteps(plan);
  if (steps.length === 0) return [];
  const base = plan.baseDir ?? process.cwd();
  const dumps = new Map<string, Promise<JustfileDump>>();
  const errors: PlanError[] = [];
  for (const { step, path: at } of steps) {
    const workdir = path.resolve(base, step.workdir ?? '.');
    const justfile = step.justfile === undefined ? undefined : path.resolve(base, step.justfile);
    const key = `${workdir}\u0000${justfile ?? ''}`;
    if (!dumps.has(key)) dumps.set(key, dumpJustfile(workdir, justfile, opts.justBin));
    let dump: JustfileDump;
    try {
      dump = await dumps.get(key)!;
    } catch (e) {
      errors.push({ path: formatPath([...at, step.justfile !== undefined ? 'justfile' : 'recipe']), message: (e as Error).message });
      continue;
    }
    const problem = recipeProblem(dump, step.recipe, step.args ?? []);
    if (problem) errors.push({ path: formatPath([...at, problem.field === 'args' && step.args ? 'args' : 'recipe']), message: problem.message });
  }
  return errors;
}
