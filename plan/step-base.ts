// The pieces every step kind shares (plan/kinds/*.ts build their schemas from them) and the plan's
// small value types. Split from schema.ts so that a kind module and the plan schema can both import
// them without a cycle. Pure: workflows import it.
import { z } from 'zod';

/** `30s`, `20m`, `4h`, `3d`, `250ms` (also combined: `1h30m`). */
export const DURATION_RE = /^(\d+(\.\d+)?(ms|s|m|h|d))+$/;
export const Duration = z.string().regex(DURATION_RE, 'a duration like 30s, 20m, 4h or 3d');
/** An estimate: one duration, or a range `3-4d` (unit after the upper bound applies to both). */
export const Estimate = z.string().regex(/^(\d+(\.\d+)?)(-(\d+(\.\d+)?))?(ms|s|m|h|d)$/, 'an estimate like 3d or 3-4d');

export const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'an id: letters, digits, ".", "_" or "-", starting with a letter or digit');
/** An environment variable name (secrets are references to these, never literal values). */
export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/** An environment variable on the worker that holds a secret (a token, a webhook URL): never the value. */
export const EnvRef = z.strictObject({ fromEnv: EnvName });

export const RetryPolicy = z.strictObject({
  maximumAttempts: z.number().int().min(1).optional(),
  initialInterval: Duration.optional(),
  backoffCoefficient: z.number().min(1).optional(),
  maximumInterval: Duration.optional(),
  nonRetryableErrorTypes: z.array(z.string()).optional(),
});

/**
 * `pool`: `cpu` (task queue `sparky`), `gpu` (any GPU worker, `sparky-gpu`), the name of a pinned
 * pool declared in the plan's `pools`, or a literal pinned GPU `gpu:<host>:<index>`
 * (task queue `sparky-gpu-<host>-<index>`).
 */
export const PoolRef = z.string().min(1);

/**
 * `when`: the step runs only if every given condition holds; otherwise it is recorded as skipped
 * with the reason. Conditions are evaluated by the worker that would run the step.
 */
export const When = z.strictObject({
  docker: z.boolean().optional(),          // a Docker engine answers (true) / does not (false)
  gpu: z.boolean().optional(),             // an NVIDIA GPU is visible
  env: EnvName.optional(),                 // this environment variable is set and non-empty
  platform: z.enum(['linux', 'darwin', 'win32']).optional(),
  arch: z.enum(['x64', 'arm64']).optional(),
});

/** Where a step's outputs come from: a JSON file it writes, or the last line of stdout parsed as JSON. */
export const Outputs = z.strictObject({
  from: z.enum(['json-file', 'stdout-json', 'stdout-last-line']),
  file: z.string().optional(),             // for json-file, relative to the step's cwd
});

/**
 * Step caching (plan/cache-key.ts; docs/plan-reference.md#step-caching): `true`, or the files the step
 * reads (`inputs`: paths, directories or globs, their content goes into the key) and writes (`outputs`:
 * paths or directories, hashed when the step finishes and checked — and brought into this run's place —
 * before a later run takes the hit).
 */
export const CacheSpec = z.strictObject({
  inputs: z.array(z.string().min(1)).optional(),
  outputs: z.array(z.string().min(1)).optional(),
});
export const Cache = z.union([z.boolean(), CacheSpec]);
/** A manual salt of the cache key: change it to make every earlier entry of the step a miss. */
export const CacheVersion = z.union([z.string().min(1), z.number()]);

/** Fields every step kind has (spread into each kind's strictObject). */
export const StepCommon = {
  id: Id,
  name: z.string().optional(),
  timeout: Duration.optional(),            // startToClose of one attempt
  heartbeatTimeout: Duration.optional(),
  retry: RetryPolicy.optional(),
  pool: PoolRef.optional(),
  when: When.optional(),
  env: z.record(EnvName, z.string()).optional(),
  /** Secret references: env var name inside the step ← env var name on the worker. Never values. */
  secrets: z.record(EnvName, z.strictObject({ fromEnv: EnvName })).optional(),
  /**
   * With a plan-level `git`: commit what the step changed in its workstream's worktree, with this
   * message, once it succeeded (idempotent: a retry never commits twice). See plan/git.ts.
   */
  commit: z.string().min(1, 'a commit message must not be empty').optional(),
  /** Take the result of an earlier run with the same key instead of running (plan/cache-key.ts). */
  cache: Cache.optional(),
  /** How long an entry of this step serves hits (default: until its key or outputs change). */
  ttl: Duration.optional(),
  cacheVersion: CacheVersion.optional(),
};

/**
 * What agent work may spend (docs/agents.md "Budgets"): USD, tokens (input + output) and model turns,
 * each optional. On an agent step: its session over all attempts; on a workstream, phase or the plan:
 * the sum of their agent steps' sessions (attempts and reworks included).
 */
export const Budget = z.strictObject({
  usd: z.number().positive().optional(),
  tokens: z.number().int().positive().optional(),
  turns: z.number().int().positive().optional(),
});

/** A model's price in USD per million tokens (Codex reports tokens only; Sparky prices them). */
export const ModelPrice = z.strictObject({
  input: z.number().min(0),
  output: z.number().min(0),
});

export type RetryPolicy = z.infer<typeof RetryPolicy>;
export type When = z.infer<typeof When>;
export type CacheSpec = z.infer<typeof CacheSpec>;
