// The plan language, as a zod schema: the single source of truth for plan shape. It is imported by
// workflow code (the metaOrchestrator validates its own input), so it must stay free of I/O.
// Semantic checks that need the whole plan (ids, dependencies, cycles, pools) live in validate.ts.
import { z } from 'zod';
import { Budget, CacheVersion, Duration, EnvName, EnvRef, Estimate, Id, ModelPrice, PoolRef, RetryPolicy } from './step-base.ts';
import { Step } from './kinds/index.ts';

export { Budget, Cache, CacheSpec, CacheVersion, DURATION_RE, Duration, ModelPrice, Estimate, EnvRef, Outputs, PoolRef, RetryPolicy, When } from './step-base.ts';
export { Compensation, Step, StepBody, STEP_KINDS, STEP_SCHEMAS } from './kinds/index.ts';
export type { StepKindName, StepOfKind } from './kinds/index.ts';
export { ShellStep } from './kinds/shell.ts';
export { DockerStep } from './kinds/docker.ts';
export { InferenceStep } from './kinds/inference.ts';
export { JustStep } from './kinds/just.ts';
export { AgentStep } from './kinds/agent.ts';

export const PinnedPool = z.strictObject({ host: z.string().regex(/^[A-Za-z0-9._-]+$/), gpu: z.number().int().min(0) });

export const Workstream = z.strictObject({
  id: Id,
  name: z.string().optional(),
  description: z.string().optional(),
  dependsOn: z.array(Id).optional(),
  estimate: Estimate.optional(),
  /** Keep every GPU step of this workstream on the GPU its first GPU step landed on. */
  stickyGpu: z.boolean().optional(),
  /** `false`: in a plan with `git`, this workstream gets no worktree or branch (e.g. it creates the repository). */
  git: z.literal(false).optional(),
  /** What this workstream's agent steps may spend together (all attempts and reworks). */
  budget: Budget.optional(),
  steps: z.array(Step).min(1, 'a workstream needs at least one step'),
});

export const Domain = z.strictObject({
  id: Id,
  name: z.string().optional(),
  maxParallel: z.number().int().min(1).optional(),
  workstreams: z.array(Workstream).min(1, 'a domain needs at least one workstream'),
});

import { GateCheck } from './checks/index.ts';

export { GateCheck };
export { CHECK_KINDS, CHECK_SCHEMAS } from './checks/index.ts';
export type { CheckKindName, CheckOfKind } from './checks/index.ts';

/**
 * Either kind of key a person's decisions may be signed with: an OpenSSH ed25519 key, or a passkey
 * (`webauthn AAAA… [comment]`, the line the board prints when one is registered; common/webauthn.ts).
 * The blob is checked in semantic-rules.ts.
 */
export const KeyLine = z.string().regex(/^(ssh-ed25519|webauthn) [A-Za-z0-9+/=]+( .*)?$/,
  'an OpenSSH ed25519 public key ("ssh-ed25519 AAAA… [comment]", ssh-keygen -t ed25519) or a passkey ("webauthn AAAA… [comment]", registered on the Sparky board); other key types are not supported');

/** A name, or a name with the key(s) their decisions must be signed with (SSH ed25519 keys and/or passkeys). */
export const Approver = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), key: z.union([KeyLine, z.array(KeyLine).min(1)]) }),
]);

/** What a notification is about; a gate's own `notify` sends the gate events only. */
export const NOTIFY_EVENTS = ['waiting', 'escalated', 'decided', 'attention', 'finished'] as const;
export const GATE_NOTIFY_EVENTS: readonly string[] = ['waiting', 'escalated', 'decided'];

export const Webhook = z.strictObject({
  /** A URL without secrets in it (a URL that carries a token must come from urlFromEnv). */
  url: z.string().url().optional(),
  /** The worker's environment variable holding the URL (Slack-style URLs are tokens). */
  urlFromEnv: EnvName.optional(),
  format: z.enum(['json', 'slack']).optional(), // default json
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional(), // default: all (a gate's: its gate events)
  /** Request headers whose values are secrets on the worker: `Authorization: {fromEnv: HOOK_TOKEN}`. */
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'an HTTP header name'), EnvRef).optional(),
});

export const Notify = z.strictObject({
  webhooks: z.array(Webhook).min(1),
});

export const ApproverList = z.strictObject({
  approvers: z.array(Approver).min(1),
  required: z.number().int().min(1).optional(), // default 1
  timeout: Duration.optional(),
});

export const Approval = ApproverList.extend({
  onTimeout: z.enum(['reject', 'approve', 'escalate']).optional(), // default reject
  escalate: ApproverList.optional(),
});

export const Gate = z.strictObject({
  id: Id,
  name: z.string().optional(),
  description: z.string().optional(),
  checks: z.array(GateCheck).optional(),
  approval: Approval.optional(),
  /** The person who started the run may not approve it (a rejection is still theirs to give). */
  preventSelfApproval: z.boolean().optional(),
  /**
   * An OpenSSH allowed_signers file (relative to the plan file): the loader gives each plain-name
   * approver of this gate the key(s) the file lists for that name, and removes this field.
   */
  allowedSigners: z.string().min(1).optional(),
  /** Who hears about this gate (replaces the plan's `notify` for the gate's events). */
  notify: Notify.optional(),
});

export const Phase = z.strictObject({
  id: Id,
  name: z.string().optional(),
  domains: z.array(Domain).min(1, 'a phase needs at least one domain'),
  gate: Gate.optional(),
  /** What this phase's agent steps may spend together (all attempts and reworks). */
  budget: Budget.optional(),
});

/**
 * A branch per workstream (plan/git.ts has the rules): each workstream works in its own worktree of
 * `repo` on `branch`, made from `base` as of the phase's start; an approved gate merges the phase's
 * branches into `base` (merge: onGate), each merge commit carrying the gate's decision record.
 */
export const GitFlow = z.strictObject({
  /** The repository (a path, relative to the plan's directory). */
  repo: z.string().min(1),
  /** The branch work starts from and merges into (default main). */
  base: z.string().min(1).optional(),
  /** Branch name template: {plan} {run} {phase} {domain} {workstream} (default sparky/{plan}/{run}/{workstream}). */
  branch: z.string().min(1).optional(),
  merge: z.enum(['onGate', 'never']).optional(), // default onGate
  /** Push the merged base (and the workstream branches) to `remote` (default origin) when it exists. */
  push: z.union([z.boolean(), z.strictObject({ remote: z.string().min(1).optional() })]).optional(),
  /** Open a pull request per workstream branch with `gh`, when a remote and a token exist. */
  pr: z.strictObject({
    tool: z.literal('gh'),
    /** The token's environment variable on the worker (default GH_TOKEN, then GITHUB_TOKEN). */
    token: z.strictObject({ fromEnv: EnvName }).optional(),
    draft: z.boolean().optional(),
  }).optional(),
});

export const Defaults = z.strictObject({
  timeout: Duration.optional(),
  heartbeatTimeout: Duration.optional(),
  retry: RetryPolicy.optional(),
  maxParallel: z.number().int().min(1).optional(),
  pool: PoolRef.optional(),
  /** Cache every step that does not say otherwise (a step's own `cache: false` turns it off). */
  cache: z.boolean().optional(),
  ttl: Duration.optional(),
  cacheVersion: CacheVersion.optional(),
});

export const Plan = z.strictObject({
  /** A JSON Schema reference for editors (`plan/plan.schema.json`); ignored by Sparky. */
  $schema: z.string().optional(),
  name: Id,
  version: z.union([z.string(), z.number()]).optional(),
  description: z.string().optional(),
  defaults: Defaults.optional(),
  /**
   * A step that fails for good, or a gate check that fails: `ask` (default) waits for a person
   * (attention: retryStep / skipStep / recheckGate / abort); `compensate` ends the run and undoes every
   * finished step newest first; `halt` ends it as it is. Unattended runs choose compensate or halt.
   */
  onFailure: z.enum(['ask', 'compensate', 'halt']).optional(),
  /** What `abort` and a cancellation do: undo every finished step newest first (default), or stop as is. */
  onAbort: z.enum(['compensate', 'halt']).optional(),
  pools: z.record(Id, PinnedPool).optional(),
  env: z.record(EnvName, z.string()).optional(),
  git: GitFlow.optional(),
  /**
   * The directory relative paths in the plan are resolved against (absolute). The loader sets it to
   * the plan file's directory and resolves the paths (plan/paths.ts); a plan started by hand may set it.
   */
  baseDir: z.string().optional(),
  /** The allowed_signers file for every gate without its own (resolved by the loader, like a gate's). */
  allowedSigners: z.string().min(1).optional(),
  /** Webhooks told when gates wait, escalate and are decided, when the run needs attention and when it ends. */
  notify: Notify.optional(),
  /**
   * People who may start runs of this plan, known by key (`sparky run --as NAME --key …`), besides the
   * gates' approvers. Where a gate with keyed approvers has preventSelfApproval, a run must be started
   * with a key the plan lists (here or as an approver's), so its starter cannot claim another name.
   * A plain name takes its keys from the plan's allowedSigners file.
   */
  starters: z.array(Approver).min(1).optional(),
  /** What the whole run's agent steps may spend together (all attempts and reworks). */
  budget: Budget.optional(),
  /**
   * Prices of models in USD per million tokens, by the name agent steps give in `model` (or
   * `default` for steps without one): Codex reports tokens only, so its cost is priced from these.
   */
  prices: z.record(z.string().min(1), ModelPrice).optional(),
  /**
   * What the board and `sparky report` flag (docs/board.md): a running workstream with no step started
   * or finished for `stalledAfter` (default 24h), and one past `overrunPercent` (default 150) of the high
   * end of its estimate. Tells people; changes nothing in the run.
   */
  tracking: z.strictObject({
    stalledAfter: Duration.optional(),
    overrunPercent: z.number().int().min(100, 'overrunPercent is a share of the estimate: 100 or more (150 = half again as long)').optional(),
  }).optional(),
  phases: z.array(Phase).min(1, 'a plan needs at least one phase'),
});

export type Plan = z.infer<typeof Plan>;
export type Phase = z.infer<typeof Phase>;
export type Domain = z.infer<typeof Domain>;
export type Workstream = z.infer<typeof Workstream>;
export type Budget = z.infer<typeof Budget>;
export type ModelPrice = z.infer<typeof ModelPrice>;
export type GitFlow = z.infer<typeof GitFlow>;
export type Gate = z.infer<typeof Gate>;
export type Approval = z.infer<typeof Approval>;
export type Approver = z.infer<typeof Approver>;
export type Webhook = z.infer<typeof Webhook>;
export type Notify = z.infer<typeof Notify>;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
