// Step caching, the part the plan decides (pure: the workflows and the validator import it). Which
// steps are cached and with what settings (a step's `cache`, `ttl` and `cacheVersion`, else the plan's
// `defaults`, else its kind's default), what the workflow puts into a step's key (its definition
// without the fields that do not decide its result, the fingerprints of what came before it, the
// outputs it reads), and the rules a plan must follow to cache. The files, the tool and the store
// are the worker's part (activities/cache.ts); docs/plan-reference.md#step-caching and ADR 0010.
//
// A step's key covers everything that decides its result:
//   - its definition (argv, params, env, outputs spec, declared cache inputs and outputs…), paths made
//     independent of where the checkout, the run's directory and the worktree are;
//   - `chain`: the fingerprints of the step before it in its workstream (for the first step: the last
//     steps of the workstreams it depends on), so a change upstream reaches every dependent;
//   - `refs`: for each output it reads, the producing step's key when that step is cached (its outputs
//     follow from its key), else the value itself;
//   - `producers`: for each declared input in the run's directory, the key of the cached step whose
//     declared output it is (a file of this run is known by the step that makes it);
//   - the base commit of its worktree where git flow is on; the manual `cacheVersion`;
//   - worker side: the content of its declared input files (and its kind's own: inference inputs,
//     a docker build context, a justfile, the files in its argv) and the version of its tool.
// A step's fingerprint is what it passes on: its key when cached, else a digest of its definition and
// chain (fingerprintOf), so that steps after an uncached step still see upstream changes.
import { jsonDigest } from '../common/canonical-json.ts';
import { parseDuration } from './durations.ts';
import type { PathSegment } from './field-path.ts';
import { findOutputRefs } from './outputs.ts';
import type { Plan, StepBody, Workstream } from './schema.ts';

type StepKind = StepBody['kind'];
type OfKind<K extends StepKind> = Extract<StepBody, { kind: K }>;

/** A kind's part in caching, on the plan's side (the worker's part is activities/cache-facts.ts). */
export interface KindCachePolicy<T extends StepBody> {
  /** Whether steps of this kind are cached when neither the step nor the plan's defaults say. */
  byDefault: boolean;
  /** Why a step of this kind cannot be cached (its effects are not files it writes), or undefined. */
  refusal?: (step: T) => string | undefined;
  /** Files the kind reads by its own fields (beside `cache.inputs`). */
  inputs?: (step: T) => string[];
  /** Files or folders the kind writes by its own fields (beside `cache.outputs`). */
  outputs?: (step: T) => string[];
}

/** One entry per step kind: a kind added to the plan schema without one here fails `tsc`. */
export const KIND_CACHE: { readonly [K in StepKind]: KindCachePolicy<OfKind<K>> } = {
  shell: {
    byDefault: false,
    outputs: (s) => (s.outputs?.from === 'json-file' && s.outputs.file ? [s.outputs.file] : []),
  },
  just: {
    byDefault: false,
    inputs: (s) => (s.justfile ? [s.justfile] : []),
    outputs: (s) => (s.outputs?.from === 'json-file' && s.outputs.file ? [s.outputs.file] : []),
  },
  docker: {
    byDefault: false,
    refusal: (s) => (s.action === 'build' || s.action === 'run' ? undefined
      : `a docker ${s.action} step changes containers and images, not files: it cannot be cached (only build and run can)`),
    inputs: (s) => (s.action === 'build' ? [s.context, s.dockerfile].filter((p): p is string => p !== undefined)
      : s.action === 'run' ? [] : [s.file].filter((p): p is string => p !== undefined)),
    outputs: (s) => (s.outputs?.from === 'json-file' && s.outputs.file ? [s.outputs.file] : []),
  },
  inference: {
    byDefault: false,
    inputs: (s) => Object.values(s.inputs ?? {}).flat(),
    outputs: (s) => (s.outputDir ? [s.outputDir] : []),
  },
  // An agent's key: its prompt, spec (a file: the worker hashes it), model, endpoint, limits, tools and
  // verify commands (the definition) and the CLI's version (activities/cache-facts.ts). Its outputs are
  // what it changed in its worktree, which the worker keeps for every cached step in a git plan.
  agent: {
    byDefault: false,
  },
};

function policyOf(step: StepBody): KindCachePolicy<StepBody> {
  return KIND_CACHE[step.kind] as unknown as KindCachePolicy<StepBody>;
}

/** A step's caching as it applies: the files it reads and writes, how long a hit holds, its salt. */
export interface CacheSettings {
  /** Declared input files (cache.inputs) and the kind's own. */
  inputs: string[];
  /** Declared output files and folders (cache.outputs) and the kind's own. */
  outputs: string[];
  ttl?: string;
  version?: string;
}

type Defaults = Plan['defaults'];

/** Why this step cannot be cached, whatever the plan says (a compensation is never cached). */
export function cacheRefusal(step: StepBody): string | undefined {
  if (step.secrets && Object.keys(step.secrets).length > 0) {
    return 'a step with secrets cannot be cached: their values are never part of its key (Sparky does not see them), so a hit could hide a changed secret';
  }
  return policyOf(step).refusal?.(step);
}

/** The step's cache settings, or undefined when it is not cached (plan defaults skip steps that cannot be). */
export function cacheSettings(step: StepBody, defaults?: Defaults): CacheSettings | undefined {
  const chosen = step.cache ?? defaults?.cache ?? policyOf(step).byDefault;
  if (chosen === false) return undefined;
  if (cacheRefusal(step)) return undefined; // an explicit `cache` on such a step is a validation error
  const spec = typeof chosen === 'object' ? chosen : {};
  const policy = policyOf(step);
  const version = step.cacheVersion ?? defaults?.cacheVersion;
  return {
    inputs: [...new Set([...(spec.inputs ?? []), ...(policy.inputs?.(step) ?? [])])],
    outputs: [...new Set([...(spec.outputs ?? []), ...(policy.outputs?.(step) ?? [])])],
    ttl: step.ttl ?? defaults?.ttl,
    ...(version !== undefined && { version: String(version) }),
  };
}

/** Whether any step of the plan is cached (only then do runs compute fingerprints and keys). */
export function planUsesCache(plan: Plan): boolean {
  return plan.phases.some((p) => p.domains.some((d) => d.workstreams.some((w) => w.steps.some((s) => cacheSettings(s, plan.defaults)))));
}

/**
 * The step as its key sees it: every field but those that do not decide its result (its name, where
 * and how long it may run, how it is retried, undone or committed, when it is skipped, the cache's
 * own ttl). A `cache: true` and a `cache: {}` are the same.
 */
export function keyDefinition(step: StepBody): Record<string, unknown> {
  const {
    name: _name, timeout: _timeout, heartbeatTimeout: _hb, retry: _retry, pool: _pool, when: _when, commit: _commit,
    ttl: _ttl, cacheVersion: _version, cache, ...rest
  } = step as StepBody & { compensate?: unknown };
  delete (rest as { compensate?: unknown }).compensate;
  const spec = typeof cache === 'object' ? cache : {};
  return { ...rest, ...(spec.inputs?.length && { cacheInputs: spec.inputs }), ...(spec.outputs?.length && { cacheOutputs: spec.outputs }) };
}

/** Every path of a step's `cache` mapped (the loader resolves them against the plan's directory; git flow moves them into worktrees). */
export function mapCachePaths<T extends StepBody>(step: T, map: (p: string) => string): T {
  if (typeof step.cache !== 'object') return step;
  const spec = step.cache;
  return {
    ...step,
    cache: {
      ...spec,
      ...(spec.inputs && { inputs: spec.inputs.map(map) }),
      ...(spec.outputs && { outputs: spec.outputs.map(map) }),
    },
  };
}

export const RUN_DIR_PREFIX = /^(\$SPARKY_RUN_DIR|\$\{SPARKY_RUN_DIR\})(?=$|\/)/;
/** `$SPARKY_RUN_DIR/out/x` → `out/x`; undefined for a path outside the run's directory. */
export function runDirRelative(p: string): string | undefined {
  if (!RUN_DIR_PREFIX.test(p)) return undefined;
  return p.replace(RUN_DIR_PREFIX, '').replace(/^\/+/, '');
}

/**
 * Declared outputs in the run's directory, and the cached step that makes each (`out/membw.json` →
 * `WS-01.membw`): a step that declares such a file as an input is keyed by its maker's key.
 */
export function runDirProducers(plan: Plan): Map<string, string> {
  const found = new Map<string, string>();
  for (const phase of plan.phases) {
    for (const d of phase.domains) {
      for (const ws of d.workstreams) {
        for (const step of ws.steps) {
          const settings = cacheSettings(step, plan.defaults);
          for (const out of settings?.outputs ?? []) {
            const rel = runDirRelative(out);
            if (rel !== undefined && !found.has(rel)) found.set(rel, `${ws.id}.${step.id}`);
          }
        }
      }
    }
  }
  return found;
}

/** The producer of a declared input in the run's directory: the step whose declared output is it or a folder above it. */
export function producerOf(input: string, producers: Map<string, string>): string | undefined {
  const rel = runDirRelative(input);
  if (rel === undefined) return undefined;
  for (let p = rel; ; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
    const found = producers.get(p);
    if (found !== undefined) return found;
    if (!p.includes('/')) return p === '' ? undefined : producers.get('');
  }
}

/** What the workflow knows of a step's key (the worker adds files and the tool: activities/cache.ts). */
export interface KeyParts {
  def: Record<string, unknown>;
  /** Per output reference (as written): the producer's fingerprint when it is cached, else the value. */
  refs: Record<string, { fingerprint: string } | { value: unknown }>;
  chain: string[];
  /** Declared inputs in the run's directory → their maker's fingerprint. */
  producers: Record<string, string>;
  /** The worktree's base commit (git flow). */
  git?: string;
  version?: string;
}

/** Where fingerprints and outputs of earlier steps come from, for one step's key parts. */
export interface KeyContext {
  /** `<workstream>.<step>` → fingerprint, for every finished step this one may follow or read. */
  fingerprints: Record<string, string>;
  outputs: Record<string, Record<string, unknown>>;
  /** Whether a step (`<workstream>.<step>`) is cached: its fingerprint then stands for its outputs. */
  isCached: (stepKey: string) => boolean;
  producers: Map<string, string>;
}

/**
 * What a step follows, as keys of the fingerprint map: the step before it in its workstream
 * (`WS-01.build`), or for the first step the workstreams it depends on (`ws:WS-01`: the fingerprint
 * of that workstream's last step).
 */
export function chainOf(ws: Workstream, index: number): string[] {
  if (index > 0) return [`${ws.id}.${ws.steps[index - 1].id}`];
  return [...(ws.dependsOn ?? [])].sort().map((d) => workstreamKey(d));
}

/** The fingerprint map's key of a workstream (the fingerprint of its last step). */
export const workstreamKey = (wsId: string) => `ws:${wsId}`;

/** The steps whose outputs a step reads (`WS-01.gemm`), each once. */
export function findKeyRefs(step: StepBody): string[] {
  return [...new Set(findOutputRefs(step).map((r) => `${r.workstream}.${r.step}`))];
}

/** The value an output reference reads, or undefined when it is not there (yet). */
function refValue(outputs: Record<string, Record<string, unknown>>, ws: string, step: string, key: string): unknown {
  let v: unknown = outputs[`${ws}.${step}`];
  for (const part of key.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * A step's key parts. `chain` holds fingerprints (of the previous step, or of the dependencies' last
 * steps); `step` is the definition as it runs (in its worktree), output references not substituted.
 * Returns the fingerprints it could not find in `missing` (a dry run says the step's key is not known yet).
 */
export function keyParts(step: StepBody, settings: CacheSettings, chain: string[], ctx: KeyContext, git?: string):
  { parts: KeyParts; missing: string[] } {
  const missing: string[] = [];
  const fp = (k: string) => {
    const f = ctx.fingerprints[k];
    if (f === undefined) missing.push(k);
    return f ?? `missing:${k}`;
  };
  const refs: KeyParts['refs'] = {};
  for (const ref of findOutputRefs(step)) {
    const k = `${ref.workstream}.${ref.step}`;
    if (ctx.isCached(k)) refs[ref.text] = { fingerprint: fp(k) };
    else {
      const value = refValue(ctx.outputs, ref.workstream, ref.step, ref.key);
      if (value === undefined) missing.push(k);
      refs[ref.text] = { value: value ?? null };
    }
  }
  const producers: Record<string, string> = {};
  for (const input of settings.inputs) {
    const maker = producerOf(input, ctx.producers);
    if (maker !== undefined) producers[input] = fp(maker);
  }
  return {
    parts: {
      def: keyDefinition(step), refs, chain: chain.map(fp), producers,
      ...(git !== undefined && { git }), ...(settings.version !== undefined && { version: settings.version }),
    },
    missing,
  };
}

/** A value with the plan's directory written `$PLAN_DIR` in every string (the same plan in another checkout is the same). */
export function relocate<T>(value: T, planDir: string | undefined): T {
  if (!planDir) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return v === planDir || v.startsWith(`${planDir}/`) ? `$PLAN_DIR${v.slice(planDir.length)}` : v;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/**
 * The fingerprint of a step that is not cached: what it was asked to do (its paths relative to the
 * plan's directory), after what — never its outputs.
 */
export function fingerprintOf(what: 'ran' | 'skipped', step: StepBody, chain: string[], fingerprints: Record<string, string>, planDir?: string): string {
  return jsonDigest({ [what]: relocate(keyDefinition(step), planDir), chain: chain.map((c) => fingerprints[c] ?? `missing:${c}`) });
}

/** A step's ttl in milliseconds (validated plans only). */
export function ttlMs(settings: CacheSettings): number | undefined {
  return settings.ttl === undefined ? undefined : parseDuration(settings.ttl);
}

// ---- validation (semantic.ts calls it for every step and compensation) ------------------------------

type Obj = Record<string, unknown>;

/** The rules of a step's `cache`, `ttl` and `cacheVersion`; `cachedByDefault`: the plan's defaults.cache. */
export function checkCache(st: Obj, at: PathSegment[], ctx: { isCompensation: boolean; cachedByDefault: boolean },
  err: (path: PathSegment[], message: string) => void): void {
  const explicit = st.cache !== undefined && st.cache !== false;
  if (ctx.isCompensation) {
    for (const f of ['cache', 'ttl', 'cacheVersion'] as const) {
      if (st[f] !== undefined) err([...at, f], 'a compensation is never cached: it undoes what this run did');
    }
    return;
  }
  const on = explicit || (st.cache === undefined && ctx.cachedByDefault);
  for (const f of ['ttl', 'cacheVersion'] as const) {
    if (st[f] !== undefined && !on) err([...at, f], `"${f}" needs caching: add cache: true to the step (or defaults.cache: true)`);
  }
  if (!explicit) return;
  if (st.kind === 'docker' && typeof st.action === 'string' && st.action !== 'build' && st.action !== 'run') {
    err([...at, 'cache'], `a docker ${st.action} step changes containers and images, not files: it cannot be cached (only build and run can)`);
  }
  const secrets = st.secrets;
  if (secrets !== null && typeof secrets === 'object' && Object.keys(secrets).length > 0) {
    err([...at, 'cache'], 'a step with secrets cannot be cached: their values are never part of its key (Sparky does not see them), so a hit could hide a changed secret');
  }
  if (typeof st.ttl === 'string' && parseDuration(st.ttl) === 0) err([...at, 'ttl'], 'a ttl of 0 would never let a hit count: remove cache instead');
}
