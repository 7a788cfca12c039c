// The step cache's contract between the workflows and the worker (plain JSON: it enters workflow
// history). A cached step's `runStep` carries a CacheRequest; the worker computes the key (the
// workflow's KeyParts plus its files and tool), takes a hit when the store has an entry whose outputs
// still exist as they were, or runs the step and stores its result (activities/cache.ts). A dry run
// asks the same question without running or restoring anything (`inspectStep`).
import type { KeyParts } from '../plan/cache-key.ts';
import type { StepActivityInput } from './activity-types.ts';

export interface CacheRequest {
  /** Where the entry belongs: plan, workstream and step (part of the key). */
  plan: string;
  workstream: string;
  step: string;
  parts: KeyParts;
  /** Declared input files (paths, folders, globs), resolved; `$SPARKY_RUN_DIR/…` for the run's own. */
  inputs: string[];
  /** Declared output files and folders. */
  outputs: string[];
  ttlMs?: number;
  /** `use`: take a hit if there is one; `refresh`: run, and store the new result (--no-cache, rework). */
  mode: 'use' | 'refresh';
  /** Why the step must run (shown in its status): `--no-cache`, a rework. */
  why?: string;
  /** Entries a reviewer rejected in this run: never a hit, and marked rejected in the store. */
  avoid?: { keys: string[]; reason: string };
  /** Where paths are relative to: the plan's directory, the repository and this workstream's worktree (git flow). */
  places: { planDir?: string; repo?: string; worktree?: string };
}

/** Where a cache hit came from: the run and step that made the entry, when, on which host. */
export interface CacheSource {
  run: string;
  workstream: string;
  step: string;
  at: string;
  host?: string;
}

/** What the cache did for one step (returned with its result, shown in its status). */
export interface CacheOutcome {
  key: string;
  /** A hit: the step did not run; its outputs are the entry's (files brought into this run's places). */
  hit?: CacheSource & { restored: number };
  /** Why it ran: no entry, the entry expired, an output is gone or changed, rejected, forced. */
  miss?: string;
  /** After it ran: whether its result was stored, or why not. */
  stored?: boolean;
  notStored?: string;
}

/** A dry run's question about one step: would it be skipped (`when`), a hit, or run, and why. */
export interface InspectInput { step: StepActivityInput['step']; ctx: StepActivityInput['ctx']; cache?: CacheRequest }

export interface InspectResult {
  action: 'run' | 'cached' | 'skipped';
  reason: string;
  key?: string;
  source?: CacheSource;
  /** The entry's outputs (a dry run passes them on to the steps that read them). */
  outputs?: Record<string, unknown>;
}
