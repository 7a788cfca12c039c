// Reads a plan file (YAML, or JSON, which parses as YAML too) keeping every node's source position,
// validates it, and maps each error's field path to the nearest node that exists, so a problem is
// reported as `plan.yaml:42:9  phases[1].domains[0].workstreams[3].dependsOn[0]: unknown workstream "WS-99"`.
// Plan files also get their `just` steps checked against the justfiles (plan/justfile-check.ts) and
// their `agent` steps against the CLIs installed here (plan/agent-check.ts).
// Not for workflow code (it reads files): workflows call validatePlan directly.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Plan } from './schema.ts';
import { formatPath, parsePath, validatePlan, type PlanError } from './validate.ts';
import { applyAllowedSigners, parseAllowedSigners, type SignersFile } from './allowed-signers.ts';
import { justfileErrors } from './justfile-check.ts';
import { agentCliErrors } from './agent-check.ts';
import { resolvePlanPaths } from './paths.ts';
import { gitPathErrors } from './git.ts';

export interface LoadError { file: string; line: number; col: number; path: string; message: string }
export interface LoadResult { ok: boolean; plan?: Plan; errors: LoadError[] }

export async function loadPlanFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return { ok: false, errors: [{ file, line: 0, col: 0, path: '(file)', message: `cannot read the plan: ${reason}` }] };
  }
  const result = loadPlanText(text, file);
  if (!result.ok || !result.plan) return result;
  // `just` steps: their recipes and argument counts, against the justfiles on this machine.
  // `agent` steps: the CLI each names is installed here.
  const machineErrors = [...await justfileErrors(result.plan), ...agentCliErrors(result.plan)];
  return machineErrors.length === 0 ? result : { ok: false, errors: placeErrors(text, file, machineErrors) };
}

/**
 * Parses and validates plan text. `fileName` names the source in errors; relative paths in the plan
 * resolve against `baseDir` (default: the directory of `fileName`, or the plan's own `baseDir`).
 */
export function loadPlanText(rawText: string, fileName: string, opts: { baseDir?: string } = {}): LoadResult {
  const text = rawText.replace(/^\uFEFF/, ''); // editors on some systems save a byte-order mark
  const jsonLike = fileName.endsWith('.json') || (!/\.ya?ml$/.test(fileName) && /^\s*[{[]/.test(text));
  let data: unknown;
  let source: Source | undefined;
  if (jsonLike) {
    // JSON.parse is ~50 times faster than a YAML document with positions, which big generated plans
    // feel: the YAML parse (for positions only) happens when there are errors to place. As with
    // JSON.parse, a repeated key keeps its last value.
    const parsed = parseJson(text, fileName);
    if ('error' in parsed) return { ok: false, errors: [parsed.error] };
    data = parsed.value;
  } else {
    const parsed = parseYaml(text, fileName);
    if ('errors' in parsed) return { ok: false, errors: parsed.errors };
    source = parsed;
    data = parsed.data;
  }
  const placed = (errors: PlanError[]): LoadResult => ({ ok: false, errors: placeErrors(text, fileName, errors, source) });
  const result = validatePlan(data);
  if (!result.ok) return placed(result.errors);
  const planDir = opts.baseDir ?? path.dirname(path.resolve(fileName));
  const baseDir = result.plan.baseDir === undefined ? planDir : path.resolve(planDir, result.plan.baseDir);
  // allowed_signers files become keys in the approvers here, so the workflow sees data, never a path.
  const signed = applyAllowedSigners(result.plan, (file) => readSignersFile(path.resolve(baseDir, file)));
  if (signed.problems.length > 0) return placed(signed.problems.map((p) => ({ path: formatPath(p.path), message: p.message })));
  const plan = resolvePlanPaths({ ...signed.plan, baseDir });
  // Rules that need the resolved paths: a step that commits must work in git.repo (plan/git.ts).
  const gitErrors = gitPathErrors(plan);
  if (gitErrors.length > 0) return placed(gitErrors);
  return { ok: true, plan, errors: [] };
}

function readSignersFile(file: string): SignersFile | { error: string } {
  try {
    return parseAllowedSigners(readFileSync(file, 'utf8'));
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `no such file (${file})` : (e as Error).message };
  }
}

/** Plan errors (field paths) as file:line:col, sorted by position. */
export function placeErrors(text: string, fileName: string, planErrors: PlanError[], parsed?: Source): LoadError[] {
  const { doc, lineCounter } = parsed ?? parseYaml(text.replace(/^\uFEFF/, ''), fileName, true) as Source;
  const errors = planErrors.map((e) => ({
    file: fileName, ...lineCounter.linePos(offsetOf(doc, parsePath(e.path), e.message.startsWith('unknown field'))), path: e.path, message: e.message,
  }));
  errors.sort((a, b) => a.line - b.line || a.col - b.col);
  return errors;
}

interface Source { doc: Document; lineCounter: LineCounter; data: unknown }

/** A YAML (or JSON) document with source positions; `positionsOnly` ignores syntax problems (JSON already parsed). */
function parseYaml(text: string, fileName: string, positionsOnly = false): Source | { errors: LoadError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: !positionsOnly });
  if (positionsOnly) return { doc, lineCounter, data: undefined };
  if (doc.errors.length > 0) {
    return { errors: doc.errors.map((e) => ({ file: fileName, ...lineCounter.linePos(e.pos[0]), path: '(syntax)', message: firstLine(e.message) })) };
  }
  try {
    return { doc, lineCounter, data: doc.toJS({ maxAliasCount: 1000 }) };
  } catch (e) {
    return { errors: [{ file: fileName, line: 1, col: 1, path: '(syntax)', message: firstLine((e as Error).message) }] };
  }
}

function parseJson(text: string, fileName: string): { value: unknown } | { error: LoadError } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: jsonSyntaxError(text, fileName, (e as Error).message) };
  }
}

/** `plan.yaml:42:9  path: message`, one line per error. */
export function formatErrors(errors: LoadError[]): string {
  return errors.map((e) => `${e.file}${e.line > 0 ? `:${e.line}:${e.col}` : ''}  ${e.path}: ${e.message}`).join('\n');
}

/**
 * Source offset of the node at `segments`, or of the nearest ancestor that exists (a missing field
 * points at its parent mapping). The last key of a path points at the key when its value is a block
 * collection (more readable than the line after it) or the key itself is wrong, otherwise at the value.
 */
function offsetOf(doc: Document, segments: (string | number)[], preferKey = false): number {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (let i = 0; i < segments.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = segments[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      const last = i === segments.length - 1;
      const valueIsBlock = (isMap(pair.value) || isSeq(pair.value)) && !pair.value.flow;
      const pick = last && (valueIsBlock || preferKey) ? pair.key : (pair.value ?? pair.key);
      offset = rangeStart(pick) ?? rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
    } else break;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null)?.range;
  return Array.isArray(range) ? range[0] : undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** JSON.parse's error as file:line:col. */
function jsonSyntaxError(text: string, file: string, message: string): LoadError {
  const offset = jsonErrorOffset(text, message);
  const before = text.slice(0, offset).split('\n');
  return {
    file, line: before.length, col: before[before.length - 1].length + 1, path: '(syntax)',
    message: `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/, (\.\.\.)?".*" is not valid JSON$/s, '')}`,
  };
}

function jsonParseError(text: string): string | undefined {
  try { JSON.parse(text); return undefined; } catch (e) { return (e as Error).message; }
}

/**
 * V8 names a position for most JSON errors but not all ("Unexpected token ']', … is not valid JSON").
 * Then: the shortest prefix that can no longer start a valid document ends at the offending
 * character; prefixes only get less viable as they grow, so a binary search finds it.
 */
function jsonErrorOffset(text: string, message: string): number {
  const pos = /at position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const viable = (k: number) => {
    const m = jsonParseError(text.slice(0, k));
    if (m === undefined || m.includes('end of JSON input')) return true;
    const at = /at position (\d+)/.exec(m);
    return at !== null && Number(at[1]) >= k;
  };
  let lo = 0, hi = text.length; // viable(lo) holds; find the smallest non-viable k in (lo, hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (viable(mid)) lo = mid; else hi = mid;
  }
  return hi - 1;
}
