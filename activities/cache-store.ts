// The step cache's store: a folder of JSON files, one per key (ADR 0010). It lives in the run root,
// beside the runs' own directories whose files its entries point to (`<runRoot>/.sparky-cache/`, or
// SPARKY_CACHE_DIR): one machine needs no set-up, and the hosts of a cluster that share their run root
// (SPARKY_RUN_ROOT on shared storage, which steps that pass files between hosts need anyway) share the
// cache with it. Writes go to a temporary file renamed into place, so a reader sees a whole entry or
// none, and two hosts storing the same key at once both leave a valid entry (the last one wins).
// Entries never hold file contents: they name the files (root + relative path) with their digests,
// and a hit checks them where they are (files a step changed in a git-flow worktree are kept by git
// itself, as objects of the repository).
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CacheSource } from '../common/cache-types.ts';

/** Where a file of an entry lies: in a run's directory, a worktree, the plan's directory, or anywhere (absolute). */
export type FileRoot = 'run' | 'worktree' | 'plan' | 'abs';

export interface StoredFile {
  root: FileRoot;
  /** Relative to the root (absolute for `abs`), with `/` separators. */
  rel: string;
  sha256: string;
  size: number;
  mode: number;
  /**
   * A file in a worktree (git flow) is also kept as a git object of the repository (`git hash-object
   * -w`): later changes in the worktree that made it, or its removal, do not lose it.
   */
  blob?: string;
  /** The step deleted this file of its worktree: a hit deletes it too. */
  deleted?: boolean;
}

/** One stored result: what the step gave, where its files are, and what its key was made of. */
export interface CacheEntry {
  v: 1;
  key: string;
  plan: string;
  workstream: string;
  step: string;
  kind: string;
  /** When the step finished (ttl counts from here). */
  createdAt: string;
  source: CacheSource;
  outputs?: Record<string, unknown>;
  files: StoredFile[];
  /** The places of the run that made it (a hit brings files from there into its own places). */
  places: { run: string; runDir?: string; planDir?: string; worktree?: string };
  /** Digests of the key's parts, to say what changed when a later run misses. */
  parts: Record<string, string>;
  /** Things beside files a hit must find as they were (e.g. `image` → the id a docker build made). */
  promises?: Record<string, string>;
  /** A reviewer rejected the outputs of this entry: no run takes it again. */
  rejected?: { at: string; run: string; reason: string };
}

/** The last key each step was stored under (to explain a miss: what changed since). */
export interface LatestPointer { key: string; parts: Record<string, string>; at: string; run: string }

export const CACHE_DIR_NAME = '.sparky-cache';

/** The store's folder for a run root (SPARKY_CACHE_DIR wins). */
export function cacheDirFor(runRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.SPARKY_CACHE_DIR || path.join(runRoot, CACHE_DIR_NAME);
}

const KEY_RE = /^[0-9a-f]{64}$/;

export class CacheStore {
  constructor(readonly dir: string) {}

  private entryPath(key: string): string {
    if (!KEY_RE.test(key)) throw new Error(`not a cache key: ${JSON.stringify(key)}`);
    return path.join(this.dir, 'v1', 'entries', key.slice(0, 2), `${key}.json`);
  }

  private latestPath(plan: string, workstream: string, step: string): string {
    const id = createHash('sha256').update(`${plan}\0${workstream}\0${step}`).digest('hex');
    return path.join(this.dir, 'v1', 'latest', `${id}.json`);
  }

  private async readJson<T>(file: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as T;
    } catch {
      return undefined; // absent, or a torn file from a crashed writer of an older version: a miss
    }
  }

  private async writeJson(file: string, value: unknown): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${JSON.stringify(value)}\n`);
    await rename(tmp, file);
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const entry = await this.readJson<CacheEntry>(this.entryPath(key));
    return entry?.v === 1 && entry.key === key ? entry : undefined;
  }

  async put(entry: CacheEntry): Promise<void> {
    await this.writeJson(this.entryPath(entry.key), entry);
    await this.writeJson(this.latestPath(entry.plan, entry.workstream, entry.step),
      { key: entry.key, parts: entry.parts, at: entry.createdAt, run: entry.source.run } satisfies LatestPointer);
  }

  async latest(plan: string, workstream: string, step: string): Promise<LatestPointer | undefined> {
    return this.readJson<LatestPointer>(this.latestPath(plan, workstream, step));
  }

  /** Marks an entry rejected (a reviewer sent its outputs back): kept for the record, never a hit again. */
  async reject(key: string, rejected: NonNullable<CacheEntry['rejected']>): Promise<boolean> {
    const entry = await this.get(key);
    if (!entry || entry.rejected) return false;
    await this.writeJson(this.entryPath(key), { ...entry, rejected });
    return true;
  }
}
