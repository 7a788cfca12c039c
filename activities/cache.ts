// The step cache on the worker: a cached step's key (the workflow's parts — definition, chain, outputs
// it reads, base commit, salt — plus the content of its input files and the version of its tool), a
// hit when the store has an entry for it whose outputs still exist as they were (each declared output
// file hashed and checked, then brought into this run's places), else the step runs and its result is
// stored. The entry names where its files are; a hit copies them from there when this run's place is
// another (a new run's own directory, a new worktree). Where git flow is on, everything the step changed
// in its worktree (committed by it or not, new files and deletions) is part of its result too, kept as
// git objects of the repository, and a hit writes it into the new worktree, where the step's `commit`
// takes it. A dry run asks the same questions and changes
// nothing (inspect). Problems of the cache never fail a step: it runs, and its status says why it was
// not taken from or put into the cache. plan/cache-key.ts has what goes into a key; ADR 0010 the store.
import { chmod, constants as fsConstants, copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { gitRaw } from './git-exec.ts';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { canonicalJson, jsonDigest } from '../common/canonical-json.ts';
import type { StepActivityInput, StepResult } from '../common/activity-types.ts';
import type { CacheOutcome, CacheRequest, CacheSource, InspectResult } from '../common/cache-types.ts';
import { attemptInfo } from './context.ts';
import { factsOf, type FactsContext } from './cache-facts.ts';
import { CacheStore, type CacheEntry, type FileRoot, type LatestPointer, type StoredFile } from './cache-store.ts';
import { fileDigest, filesUnder, kindOfPath, pathDigest } from './file-digest.ts';
import { expandInput } from './inference-files.ts';
import { StepLog, stepLogPath } from './logs.ts';
import { expandRunDir, RUN_DIR_VAR, runDir } from './run-dir.ts';

export interface CacheDeps {
  store: CacheStore;
  /** Where runs' own directories are (a hit finds the files of the run that made its entry there). */
  runRoot: string;
  logDir: string;
  facts: Omit<FactsContext, 'env'>;
  /** This host's name, recorded with every entry it stores. */
  host: string;
}

/** The places of this run's step: its run directory, and the plan's directory and worktree it names. */
interface Places { runDir: string; planDir?: string; worktree?: string }

const GLOB = /[*?[]/;

/** The checkout the plan's directory is in (the nearest folder above it with a `.git`), remembered per directory. */
const checkouts = new Map<string, string | undefined>();
function checkoutOf(planDir: string | undefined): string | undefined {
  if (!planDir) return undefined;
  if (!checkouts.has(planDir)) {
    let found: string | undefined;
    for (let dir = planDir; ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, '.git'))) { found = dir; break; }
      if (path.dirname(dir) === dir) break;
    }
    checkouts.set(planDir, found);
  }
  return checkouts.get(planDir);
}

/**
 * Replaces the run directory's, the plan directory's and its checkout's absolute prefixes in every
 * string by their names, so keys do not depend on where a run or a checkout lives (the same plan in
 * another clone, or on another host, has the same keys). A worktree needs none: the key sees a step
 * with the plan's paths, and the files inside a worktree are known by the base commit.
 */
function normalizer(places: Places): (value: unknown) => unknown {
  const pairs = ([[places.runDir, `$${RUN_DIR_VAR}`], [places.planDir, '$PLAN_DIR'], [checkoutOf(places.planDir), '$CHECKOUT']] as [string | undefined, string][])
    .filter((p): p is [string, string] => Boolean(p[0])).sort((a, b) => b[0].length - a[0].length);
  const one = (text: string): string => {
    for (const [prefix, name] of pairs) {
      if (text === prefix || text.startsWith(`${prefix}/`)) return `${name}${text.slice(prefix.length)}`;
    }
    return text;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return one(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [one(k), walk(x)]));
    return v;
  };
  return walk;
}

const inside = (p: string, dir: string | undefined) => dir !== undefined && (p === dir || p.startsWith(`${dir}/`));

/** How a hit brings a file into this run: a copy from the run that made it, a git object, or a deletion. */
type Restore = { from: string; to: string; mode: number } | { blob: string; git: string; to: string; mode: number } | { delete: string };

/** What a key is made of here, and its digest. */
interface KeyMaterial { key: string; parts: Record<string, string>; files: Record<string, string> }

export function createStepCache(deps: CacheDeps) {
  const { store } = deps;

  function placesOf(input: StepActivityInput, req: CacheRequest): Places {
    return { runDir: runDir(deps.runRoot, input.ctx.runWorkflowId), planDir: req.places.planDir, worktree: req.places.worktree };
  }

  /** The input files a key reads: declared, the kind's own, the files its arguments name — expanded. */
  async function keyFiles(step: StepActivityInput['step'], req: CacheRequest, places: Places, env: FactsContext['env']): Promise<Record<string, string>> {
    const norm = normalizer(places);
    const files: Record<string, string> = {};
    const base = places.planDir ?? deps.facts.workdir;
    const declared = req.inputs.map((p) => ({ raw: p, abs: path.resolve(base, expandRunDir(p, places.runDir)) }));
    const named = (await factsOf(step).files?.(step, { ...deps.facts, env }) ?? []).map((abs) => ({ raw: abs, abs }));
    const add = async (raw: string, abs: string) => {
      const name = String(norm(abs));
      if (GLOB.test(raw)) {
        const matches = await expandInput(abs, base);
        files[name] = matches.length === 0 ? 'missing' : jsonDigest(await Promise.all(matches.map(async (m) => [String(norm(m)), await fileDigest(m) ?? 'unreadable'])));
      } else files[name] = await pathDigest(abs);
    };
    for (const { raw, abs } of declared) {
      if (req.parts.producers[raw] !== undefined) continue; // made in this run by a cached step: its key stands for it
      if (inside(abs, places.worktree)) continue; // the worktree holds the base commit and the chain's changes: both in the key
      await add(raw, abs);
    }
    for (const { raw, abs } of named) {
      // An argument in the run's directory was made by the steps before it (the chain, or a declared input's maker);
      // one in the worktree is the base commit's; a declared one is counted above.
      if (inside(abs, places.runDir) || inside(abs, places.worktree) || declared.some((d) => d.abs === abs)) continue;
      await add(raw, abs);
    }
    return files;
  }

  async function material(input: StepActivityInput, req: CacheRequest, places: Places): Promise<KeyMaterial> {
    const { step, ctx } = input;
    const norm = normalizer(places);
    const env = Object.fromEntries(Object.entries(ctx.env ?? {}).filter(([k]) => k !== RUN_DIR_VAR));
    const factsEnv = { ...process.env, ...env };
    const facts = factsOf(step);
    const [tool, files] = await Promise.all([
      facts.tool(step, { ...deps.facts, env: factsEnv, runDir: places.runDir, worktree: places.worktree }), keyFiles(step, req, places, factsEnv),
    ]);
    const p = req.parts;
    const named: Record<string, unknown> = {
      def: norm(p.def), refs: norm(p.refs), chain: p.chain, producers: norm(p.producers), git: p.git ?? null, version: p.version ?? null,
      env: norm(env), secrets: Object.keys(step.secrets ?? {}).sort(), tool,
    };
    const key = createHash('sha256').update(canonicalJson({ v: 1, plan: req.plan, workstream: req.workstream, step: req.step, kind: step.kind, ...named, files })).digest('hex');
    const parts: Record<string, string> = Object.fromEntries(Object.entries(named).map(([k, v]) => [k, jsonDigest(v)]));
    for (const [name, digest] of Object.entries(files)) parts[`file:${name}`] = digest;
    return { key, parts, files };
  }

  /** Why a key has no usable entry, in words: what changed since this step's last stored result. */
  function explainMiss(latest: LatestPointer | undefined, now: KeyMaterial): string {
    if (!latest) return 'no earlier result of this step in the cache';
    if (latest.key === now.key) return 'no entry for this key (the cache was cleared)';
    const words: Record<string, string> = {
      def: 'its definition changed', refs: 'the outputs it reads changed', chain: 'a step before it changed (in its workstream or a workstream it depends on)',
      producers: 'a step that makes its inputs changed', git: 'the base commit of its worktree moved', version: 'cacheVersion changed',
      env: 'its environment changed', secrets: 'its secrets changed', tool: 'its tool changed',
    };
    const changed: string[] = [];
    for (const [k, w] of Object.entries(words)) if ((latest.parts[k] ?? '') !== (now.parts[k] ?? '')) changed.push(w);
    const fileNames = new Set([...Object.keys(latest.parts), ...Object.keys(now.parts)].filter((k) => k.startsWith('file:')));
    for (const k of [...fileNames].sort()) {
      const before = latest.parts[k];
      const after = now.parts[k];
      if (before === after) continue;
      const name = k.slice(5);
      changed.push(before === undefined ? `input ${name} is new` : after === undefined ? `input ${name} is no longer read`
        : after === 'missing' ? `input ${name} is gone` : `input ${name} changed`);
    }
    return changed.length ? `changed since run ${latest.run}: ${changed.slice(0, 6).join('; ')}${changed.length > 6 ? `; … (${changed.length})` : ''}` : 'a new key';
  }

  /** The absolute place of a stored file in a run's places. */
  function placeOf(file: StoredFile, places: { runDir?: string; planDir?: string; worktree?: string }): string | undefined {
    switch (file.root) {
      case 'abs': return file.rel;
      case 'run': return places.runDir && path.join(places.runDir, file.rel);
      case 'plan': return places.planDir && path.join(places.planDir, file.rel);
      case 'worktree': return places.worktree && path.join(places.worktree, file.rel);
      default: return undefined;
    }
  }

  const sourcePlaces = (entry: CacheEntry) => ({ runDir: runDir(deps.runRoot, entry.places.run), planDir: entry.places.planDir, worktree: entry.places.worktree });
  const shown = (file: StoredFile) => (file.root === 'abs' ? file.rel : `${{ run: '$SPARKY_RUN_DIR', plan: '$PLAN_DIR', worktree: '$WORKTREE' }[file.root]}/${file.rel}`);

  /**
   * Whether the entry's files still exist as they were: each is found in this run's place or in the
   * place of the run that made it, with its digest. Returns the copies a hit needs, or why not.
   */
  async function checkFiles(entry: CacheEntry, places: Places): Promise<{ ok: true; copies: Restore[] } | { ok: false; why: string }> {
    const copies: Restore[] = [];
    const from = sourcePlaces(entry);
    for (const file of entry.files) {
      // An entry names files inside their place only: one that would write elsewhere is never taken.
      if (file.root !== 'abs' && (path.isAbsolute(file.rel) || path.normalize(file.rel).split(path.sep)[0] === '..')) {
        return { ok: false, why: `its entry names a file outside its ${file.root === 'run' ? 'run directory' : file.root} (${file.rel}): not taken` };
      }
      const target = placeOf(file, places);
      const source = placeOf(file, from);
      if (file.deleted) {
        if (target && await kindOfPath(target) !== 'missing') copies.push({ delete: target });
        continue;
      }
      if (target && await fileDigest(target) === file.sha256) continue;
      if (file.blob && target && places.worktree) {
        const there = await gitRaw(places.worktree, ['cat-file', '-e', `${file.blob}^{blob}`]).catch(() => undefined);
        if (there?.exitCode !== 0) return { ok: false, why: `its output ${shown(file)} (git object ${file.blob.slice(0, 12)} of run ${entry.source.run}) is gone from the repository` };
        copies.push({ blob: file.blob, git: places.worktree, to: target, mode: file.mode });
        continue;
      }
      if (source && await fileDigest(source) === file.sha256) {
        if (!target) return { ok: false, why: `its output ${shown(file)} has no place in this run` };
        copies.push({ from: source, to: target, mode: file.mode });
        continue;
      }
      const there = source ? await kindOfPath(source) : 'missing';
      return { ok: false, why: `its output ${shown(file)} (from run ${entry.source.run}) is ${there === 'missing' ? 'gone' : 'not as it was'}` };
    }
    return { ok: true, copies };
  }

  /** The entry if a hit may be taken (not rejected, avoided, expired, its promises and files intact), or why not. */
  async function usable(entry: CacheEntry | undefined, req: CacheRequest, places: Places, step: StepActivityInput['step'], latestWhy: () => Promise<string>):
    Promise<{ entry: CacheEntry; copies: Restore[] } | { why: string }> {
    if (!entry) return { why: await latestWhy() };
    if (entry.rejected) return { why: `its entry was rejected in run ${entry.rejected.run}: ${entry.rejected.reason}` };
    if (req.avoid?.keys.includes(entry.key)) return { why: `not the outputs a reviewer sent back (${req.avoid.reason})` };
    if (req.ttlMs !== undefined) {
      const age = Date.now() - Date.parse(entry.createdAt);
      if (age > req.ttlMs) return { why: `its entry (run ${entry.source.run}) is older than its ttl (${Math.round(age / 1000)}s > ${Math.round(req.ttlMs / 1000)}s)` };
    }
    const promise = entry.promises && Object.keys(entry.promises).length ? await factsOf(step).promises?.check(step, entry.promises) : undefined;
    if (promise) return { why: promise };
    const files = await checkFiles(entry, places);
    if (!files.ok) return { why: files.why };
    return { entry, copies: files.copies };
  }

  /** Outputs of the entry with paths into the making run's places pointed at this run's. */
  function rebase(outputs: Record<string, unknown> | undefined, entry: CacheEntry, places: Places): Record<string, unknown> | undefined {
    if (!outputs) return outputs;
    const pairs = ([[entry.places.worktree, places.worktree], [entry.places.runDir, places.runDir], [entry.places.planDir, places.planDir]] as [string | undefined, string | undefined][])
      .filter((p): p is [string, string] => Boolean(p[0] && p[1]) && p[0] !== p[1]).sort((a, b) => b[0].length - a[0].length);
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') {
        for (const [from, to] of pairs) if (v === from || v.startsWith(`${from}/`)) return `${to}${v.slice(from.length)}`;
        return v;
      }
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(outputs) as Record<string, unknown>;
  }

  /** The declared outputs as files to store, each under its root; or why the result cannot be stored. */
  async function outputFiles(req: CacheRequest, places: Places): Promise<{ files: StoredFile[] } | { why: string }> {
    const files: StoredFile[] = [];
    const base = places.planDir ?? deps.facts.workdir;
    const rootOf = (abs: string): [FileRoot, string] => {
      if (inside(abs, places.worktree)) return ['worktree', path.relative(places.worktree!, abs)];
      if (inside(abs, places.runDir)) return ['run', path.relative(places.runDir, abs)];
      if (inside(abs, places.planDir)) return ['plan', path.relative(places.planDir!, abs)];
      return ['abs', abs];
    };
    for (const raw of req.outputs) {
      const abs = path.resolve(base, expandRunDir(raw, places.runDir));
      const kind = await kindOfPath(abs);
      if (kind === 'missing') return { why: `its declared output ${raw} was not written` };
      const members = kind === 'file' ? [abs] : (await filesUnder(abs)).map((rel) => path.join(abs, rel));
      for (const file of members) {
        const [root, rel] = rootOf(file);
        const info = await stat(file);
        files.push({ root, rel: rel.split(path.sep).join('/'), sha256: (await fileDigest(file)) ?? '', size: info.size, mode: info.mode & 0o777 });
      }
    }
    return { files };
  }

  async function copyInto(copies: Restore[]): Promise<void> {
    for (const c of copies) {
      if ('delete' in c) { await rm(c.delete, { force: true }); continue; }
      await mkdir(path.dirname(c.to), { recursive: true });
      if ('blob' in c) await execa('git', ['cat-file', 'blob', c.blob], { cwd: c.git, stdout: { file: c.to }, stdin: 'ignore' });
      else await copyFile(c.from, c.to, fsConstants.COPYFILE_FICLONE);
      await chmod(c.to, c.mode);
    }
  }

  /**
   * Git flow: what the step changed in its worktree since `head` (its commits and what it left
   * uncommitted, new files, deletions), each kept as a git object of the repository.
   */
  async function worktreeChanges(worktree: string, head: string | undefined): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    const diff = await gitRaw(worktree, ['diff', '--name-status', '--no-renames', '-z', head ?? 'HEAD']);
    const others = await gitRaw(worktree, ['ls-files', '--others', '--exclude-standard', '-z']);
    const changed = new Map<string, boolean>(); // path → deleted
    const fields = diff.stdout.split('\0').filter(Boolean);
    for (let i = 0; i + 1 < fields.length; i += 2) changed.set(fields[i + 1], fields[i] === 'D');
    for (const f of others.stdout.split('\0').filter(Boolean)) changed.set(f, false);
    for (const [rel, deleted] of [...changed].sort()) {
      if (deleted) { out.push({ root: 'worktree', rel, sha256: '', size: 0, mode: 0, deleted: true }); continue; }
      const file = path.join(worktree, rel);
      if (await kindOfPath(file) !== 'file') continue;
      const blob = (await gitRaw(worktree, ['hash-object', '-w', '--', rel])).stdout.trim();
      const info = await stat(file);
      out.push({ root: 'worktree', rel, sha256: (await fileDigest(file)) ?? '', size: info.size, mode: info.mode & 0o777, ...(blob && { blob }) });
    }
    return out;
  }

  function note(input: StepActivityInput, text: string): string {
    const logPath = stepLogPath(deps.logDir, input.ctx);
    const log = new StepLog(logPath);
    try { log.write(text); } finally { log.close(); }
    return logPath;
  }

  const source = (entry: CacheEntry): CacheSource => entry.source;

  return {
    /**
     * A cached step: the hit, or `run()` and its result stored. `input` is the step as the runner gets
     * it (its run directory expanded); `req` comes from the workflow.
     */
    async run(input: StepActivityInput, req: CacheRequest, runKind: () => Promise<StepResult>): Promise<StepResult> {
      const started = Date.now();
      const places = placesOf(input, req);
      let mat: KeyMaterial;
      try {
        mat = await material(input, req, places);
      } catch (err) {
        const result = await runKind();
        return { ...result, cache: { key: '', miss: 'the cache could not compute its key', notStored: (err as Error).message.split('\n')[0] } };
      }
      let miss = req.mode === 'refresh' ? req.why ?? 'forced to run' : undefined;
      const headBefore = places.worktree ? (await gitRaw(places.worktree, ['rev-parse', 'HEAD']).catch(() => undefined))?.stdout.trim() : undefined;
      if (req.mode === 'use') {
        const entry = await store.get(mat.key).catch(() => undefined);
        if (entry && req.avoid?.keys.includes(entry.key) && !entry.rejected) {
          await store.reject(entry.key, { at: new Date().toISOString(), run: input.ctx.runWorkflowId, reason: req.avoid.reason }).catch(() => false);
        }
        const verdict = await usable(entry, req, places, input.step, async () => explainMiss(await store.latest(req.plan, req.workstream, req.step).catch(() => undefined), mat));
        if ('entry' in verdict) {
          await copyInto(verdict.copies);
          const hit = verdict.entry;
          const { taskQueue } = attemptInfo();
          const logPath = note(input, `--- cache hit ${new Date().toISOString()} --- not run: taken from run ${hit.source.run} (${hit.source.workstream}/${hit.source.step}, `
            + `made ${hit.source.at}${hit.source.host ? ` on ${hit.source.host}` : ''}), key ${mat.key.slice(0, 16)}; ${verdict.copies.length} file(s) brought into this run\n`);
          const outcome: CacheOutcome = { key: mat.key, hit: { ...source(hit), restored: verdict.copies.length } };
          return { status: 'cached', outputs: rebase(hit.outputs, hit, places), durationMs: Date.now() - started, taskQueue, logPath, cache: outcome };
        }
        miss = verdict.why;
      }
      const result = await runKind();
      if (result.status !== 'succeeded') return result;
      const outcome: CacheOutcome = { key: mat.key, miss };
      try {
        const out = await outputFiles(req, places);
        if ('why' in out) return { ...result, cache: { ...outcome, stored: false, notStored: out.why } };
        if (places.worktree) {
          const changes = await worktreeChanges(places.worktree, headBefore || undefined);
          const declared = new Set(out.files.filter((f) => f.root === 'worktree').map((f) => f.rel));
          out.files = [...out.files.filter((f) => f.root !== 'worktree'), ...changes, ...out.files.filter((f) => f.root === 'worktree' && !changes.some((c) => c.rel === f.rel))];
          for (const f of out.files) {
            if (f.root === 'worktree' && !f.blob && !f.deleted && declared.has(f.rel)) f.blob = (await gitRaw(places.worktree, ['hash-object', '-w', '--', f.rel])).stdout.trim() || undefined;
          }
        }
        const promises = await factsOf(input.step).promises?.record(input.step) ?? {};
        const at = new Date().toISOString();
        await store.put({
          v: 1, key: mat.key, plan: req.plan, workstream: req.workstream, step: req.step, kind: input.step.kind, createdAt: at,
          source: { run: input.ctx.runWorkflowId, workstream: input.ctx.workstreamId, step: input.ctx.stepId, at, host: deps.host },
          ...(result.outputs && { outputs: result.outputs }), files: out.files,
          places: { run: input.ctx.runWorkflowId, runDir: places.runDir, planDir: places.planDir, worktree: places.worktree },
          parts: mat.parts, ...(Object.keys(promises).length && { promises }),
        });
        return { ...result, cache: { ...outcome, stored: true } };
      } catch (err) {
        return { ...result, cache: { ...outcome, stored: false, notStored: (err as Error).message.split('\n')[0] } };
      }
    },

    /** A dry run's answer for a cached step (its `when` already held): a hit, or why it would run. Copies nothing. */
    async inspect(input: StepActivityInput, req: CacheRequest): Promise<InspectResult> {
      const places = placesOf(input, req);
      const mat = await material(input, req, places);
      if (req.mode === 'refresh') return { action: 'run', reason: req.why ?? 'forced to run', key: mat.key };
      const entry = await store.get(mat.key);
      const verdict = await usable(entry, req, places, input.step, async () => explainMiss(await store.latest(req.plan, req.workstream, req.step), mat));
      if ('entry' in verdict) {
        return { action: 'cached', reason: `from run ${verdict.entry.source.run}`, key: mat.key, source: source(verdict.entry), outputs: rebase(verdict.entry.outputs, verdict.entry, places) };
      }
      return { action: 'run', reason: verdict.why, key: mat.key };
    },
  };
}

export type StepCache = ReturnType<typeof createStepCache>;

