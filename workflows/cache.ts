// The step cache inside a run (deterministic: plan/cache-key.ts has the rules, activities/cache.ts
// the worker's part). A domain child asks for each cached step's CacheRequest before it runs it, and
// records every step's fingerprint after it (a cached step's key; an uncached or skipped step's digest
// of what it was asked to do, after what), so that the keys of later steps follow everything before
// them, across workstreams, domains and phases (the parent relays fingerprints with outputs). Plans
// without a cached step never get here: their runs issue exactly the commands they always did.
import type { CacheRequest } from '../common/cache-types.ts';
import type { WorktreePlace } from '../common/git-flow.ts';
import {
  cacheSettings, chainOf, findKeyRefs, fingerprintOf, keyParts, planUsesCache, producerOf, runDirProducers, ttlMs, workstreamKey,
} from '../plan/cache-key.ts';
import type { Domain, Plan, StepBody, Workstream } from '../plan/schema.ts';
import type { RunContext } from './run-context.ts';

/** What a domain child needs to key its cached steps (absent when the plan caches nothing). */
export interface DomainCacheInput {
  /** Fingerprints of earlier steps (`WS-01.build`) and workstreams (`ws:WS-01`) this domain follows or reads. */
  fingerprints: Record<string, string>;
  /** Steps outside this domain whose outputs its steps read and that are cached (their fingerprint stands for their outputs). */
  cachedRefs: string[];
  /** Declared outputs in the run's directory (relative path) → the cached step that makes them. */
  producers: Record<string, string>;
  /** `sparky run --no-cache [WS…]`: every step (true) or these workstreams' steps run and refresh their entries. */
  noCache?: true | string[];
  /** Workstreams a rework reopened: the keys of the outputs a reviewer sent back, never taken again. */
  avoid?: Record<string, { keys: string[]; reason: string }>;
}

/** The run's cache options (RunOptions.noCache), as the run applies them. */
export type NoCache = boolean | string[] | undefined;

export class DomainCache {
  readonly fingerprints: Record<string, string>;
  private readonly producers: Map<string, string>;

  constructor(private readonly input: DomainCacheInput, private readonly run: () => RunContext, private readonly domain: () => Domain) {
    this.fingerprints = { ...input.fingerprints };
    this.producers = new Map(Object.entries(input.producers));
  }

  private isCached(stepKey: string): boolean {
    if (this.input.cachedRefs.includes(stepKey)) return true;
    const [wsId, stepId] = [stepKey.slice(0, stepKey.indexOf('.')), stepKey.slice(stepKey.indexOf('.') + 1)];
    const step = this.domain().workstreams.find((w) => w.id === wsId)?.steps.find((s) => s.id === stepId);
    return step !== undefined && cacheSettings(step, this.run().defaults) !== undefined;
  }

  /**
   * The request a cached step's `runStep` carries, or undefined when the step is not cached. `step` is
   * its definition (the plan's paths, output references not substituted); `running` the same step
   * as it runs (in its worktree, where git flow is on).
   */
  request(ws: Workstream, index: number, step: StepBody, running: StepBody, outputs: Record<string, Record<string, unknown>>,
    place: WorktreePlace | undefined): CacheRequest | undefined {
    const run = this.run();
    const settings = cacheSettings(step, run.defaults);
    if (!settings) return undefined;
    const runningSettings = cacheSettings(running, run.defaults) ?? settings;
    const { parts } = keyParts(step, settings, chainOf(ws, index), {
      fingerprints: this.fingerprints, outputs, isCached: (k) => this.isCached(k), producers: this.producers,
    }, place?.baseCommit);
    const noCache = this.input.noCache;
    const forced = noCache === true || (Array.isArray(noCache) && noCache.includes(ws.id));
    const avoid = this.input.avoid?.[ws.id];
    const ttl = ttlMs(settings);
    return {
      plan: run.planName, workstream: ws.id, step: step.id, parts, inputs: runningSettings.inputs, outputs: runningSettings.outputs,
      ...(ttl !== undefined && { ttlMs: ttl }),
      mode: forced ? 'refresh' : 'use', ...(forced && { why: `--no-cache${noCache === true ? '' : ` ${ws.id}`}: forced to run` }),
      ...(avoid && { avoid }),
      places: { ...(run.baseDir && { planDir: run.baseDir }), ...(run.git && { repo: run.git.repo }), ...(place && { worktree: place.worktree }) },
    };
  }

  /**
   * Records a finished step's fingerprint: its cache key when it has one, else what it was asked to do
   * (ran or skipped) after its chain. Returns it (it travels to the parent with the step's report).
   */
  finished(ws: Workstream, index: number, step: StepBody, how: { key?: string; skipped?: boolean }): string {
    const fp = how.key || fingerprintOf(how.skipped ? 'skipped' : 'ran', step, chainOf(ws, index), this.fingerprints, this.run().baseDir);
    this.fingerprints[`${ws.id}.${step.id}`] = fp;
    if (index === ws.steps.length - 1) this.fingerprints[workstreamKey(ws.id)] = fp;
    return fp;
  }

  /** Fingerprints a dependency of another domain brought (dependencyFinished). */
  received(fingerprints: Record<string, string> | undefined): void {
    Object.assign(this.fingerprints, fingerprints ?? {});
  }

  /** The input of this child's next run (continue-as-new). */
  carry(): DomainCacheInput {
    return { ...this.input, fingerprints: this.fingerprints };
  }
}

/** A workstream's fingerprints (its steps' and its own), as the parent relays them to dependents. */
export function workstreamFingerprints(all: Record<string, string>, wsId: string): Record<string, string> {
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith(`${wsId}.`) || k === workstreamKey(wsId)));
}

/**
 * The parent's part: the cache input of one domain child (undefined when the plan caches nothing), with
 * only the fingerprints its steps follow or read, and the run's --no-cache and rework's avoid lists.
 */
export function domainCacheInput(plan: Plan, domain: Domain, fingerprints: Record<string, string>, opts: {
  noCache?: NoCache; avoid?: DomainCacheInput['avoid'];
}): DomainCacheInput | undefined {
  if (!planUsesCache(plan)) return undefined;
  const cachedSteps = new Set(plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
    w.steps.filter((s) => cacheSettings(s, plan.defaults)).map((s) => `${w.id}.${s.id}`)))));
  const producers = runDirProducers(plan);
  const mine = new Set(domain.workstreams.map((w) => w.id));
  const needed = new Set<string>();
  const cachedRefs = new Set<string>();
  const usedProducers: Record<string, string> = {};
  for (const ws of domain.workstreams) {
    for (const d of ws.dependsOn ?? []) needed.add(workstreamKey(d));
    for (const step of ws.steps) {
      for (const ref of findKeyRefs(step)) {
        needed.add(ref);
        if (!mine.has(ref.slice(0, ref.indexOf('.'))) && cachedSteps.has(ref)) cachedRefs.add(ref);
      }
      for (const input of cacheSettings(step, plan.defaults)?.inputs ?? []) {
        const maker = producerOf(input, producers);
        if (maker === undefined) continue;
        needed.add(maker);
        for (const [rel, v] of producers) if (v === maker) usedProducers[rel] = v;
      }
    }
  }
  const noCache = opts.noCache === true ? true : Array.isArray(opts.noCache) ? opts.noCache.filter((w) => mine.has(w)) : undefined;
  const avoid = Object.fromEntries(Object.entries(opts.avoid ?? {}).filter(([w]) => mine.has(w)));
  return {
    fingerprints: Object.fromEntries(Object.entries(fingerprints).filter(([k]) => needed.has(k))),
    cachedRefs: [...cachedRefs].sort(), producers: usedProducers,
    ...(noCache !== undefined && (noCache === true || noCache.length > 0) && { noCache }),
    ...(Object.keys(avoid).length > 0 && { avoid }),
  };
}
