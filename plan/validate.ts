// validatePlan: the one check every plan goes through, from the CLI and inside the metaOrchestrator
// (plans started by hand with `temporal`/`tctl` bypass the CLI). Shape errors from the zod schema
// plus semantic errors (semantic.ts), all at once, each naming the field. Pure, and never throws.
import type { z } from 'zod';
import { Plan } from './schema.ts';
import { semanticErrors, type PlanError } from './semantic.ts';
import { formatPath, getAt, ROOT_PATH } from './field-path.ts';
import { suggest } from './suggest.ts';

export type { PlanError } from './semantic.ts';
export { formatPath, parsePath, ROOT_PATH } from './field-path.ts';

export type ValidationResult =
  | { ok: true; plan: Plan; errors: [] }
  | { ok: false; errors: PlanError[] };

export function validatePlan(input: unknown): ValidationResult {
  try {
    const parsed = Plan.safeParse(input);
    const errors: PlanError[] = parsed.success ? [] : parsed.error.issues.flatMap((issue) => fromIssue(issue, input));
    errors.push(...semanticErrors(input));
    if (errors.length === 0 && parsed.success) return { ok: true, plan: parsed.data, errors: [] };
    return { ok: false, errors: dedupe(errors) };
  } catch (e) {
    // A validator that throws would crash the workflow task instead of failing the run clearly.
    return { ok: false, errors: [{ path: ROOT_PATH, message: `the plan could not be validated: ${e instanceof Error ? e.message : String(e)}` }] };
  }
}

/** `path: message` lines, for a workflow failure message or a log. */
export function describeErrors(errors: PlanError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('\n');
}

function fromIssue(issue: z.core.$ZodIssue, input: unknown): PlanError[] {
  const path = issue.path;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: `unknown field "${key}"${suggest(key, FIELD_NAMES)}` }));
    case 'invalid_type': {
      const parent = getAt(input, path.slice(0, -1) as (string | number)[]);
      const key = path[path.length - 1];
      if (path.length > 0 && parent !== null && typeof parent === 'object' && !Array.isArray(parent) && !(String(key) in parent)) {
        return [{ path: formatPath(path), message: `missing required field "${String(key)}" (${issue.expected})` }];
      }
      return [{ path: formatPath(path), message: `expected ${issue.expected}, got ${describe(getAt(input, path as (string | number)[]))}` }];
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator) {
        const value = getAt(input, path as (string | number)[]);
        const options = ('options' in issue && Array.isArray(issue.options)) ? issue.options.join(', ') : '';
        return [{ path: formatPath(path), message: value === undefined
          ? `missing required field "${issue.discriminator}" (one of ${options})`
          : `unknown ${issue.discriminator} ${JSON.stringify(value)}: expected one of ${options}` }];
      }
      return [{ path: formatPath(path), message: issue.message }];
    }
    default:
      return [{ path: formatPath(path), message: issue.message.replace(/^Invalid input: /, '') }];
  }
}

/** Every field name the schema knows, for "did you mean" on an unknown field. */
const FIELD_NAMES: string[] = (() => {
  const names = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema)) return;
    seen.add(schema);
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    if (def.type === 'object') {
      for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) { names.add(key); walk(child); }
    }
    for (const k of ['element', 'innerType', 'valueType', 'in', 'out']) walk(def[k]);
    for (const option of (def.options as unknown[] | undefined) ?? []) walk(option);
  };
  walk(Plan);
  return [...names];
})();

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

function dedupe(errors: PlanError[]): PlanError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\u0000${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
