// Step kind `agent`: a coding agent (Claude Code or Codex, the real CLIs) does the work in the
// workstream's worktree (or `cwd`), headless; the step succeeds only by evidence: the CLI's own final
// result is a success and every `verify` command passes there afterwards. Runner: activities/agent.ts;
// how it runs, resumes and what it may touch: docs/agents.md.
import { z } from 'zod';
import { Budget, Duration, EnvRef, StepCommon } from '../step-base.ts';
import { defineStepKind, type Obj } from './kind.ts';

export const AGENTS = ['claude-code', 'codex'] as const;

/** What a kind-specific CLI setting is called for each agent, for messages. */
export const AGENT_KEY_DEFAULTS: Record<(typeof AGENTS)[number], string> = { 'claude-code': 'ANTHROPIC_API_KEY', codex: 'OPENAI_API_KEY' };

export const AgentStep = z.strictObject({
  ...StepCommon,
  kind: z.literal('agent'),
  /** Which CLI: `claude-code` (Anthropic Messages API) or `codex` (OpenAI Responses API). */
  agent: z.enum(AGENTS),
  /** The task, in words (output references allowed). With `spec`, it follows the spec's text. */
  prompt: z.string().min(1).optional(),
  /** A file with the task (e.g. the workstream's README), relative to where the agent works. */
  spec: z.string().min(1).optional(),
  /** Where the agent works (default: the plan's directory; in a git plan, mapped into the worktree). */
  cwd: z.string().optional(),
  /** The model name the endpoint knows (default: the CLI's own). */
  model: z.string().min(1).optional(),
  /**
   * The model endpoint: a URL (an Anthropic- or OpenAI-compatible server, e.g. one on the DGX), or
   * `{fromEnv: VAR}` for the worker's variable holding it. Default: the vendor's API.
   */
  endpoint: z.union([z.string().url(), EnvRef]).optional(),
  /** The API key, by reference: the worker's environment variable that holds it. */
  apiKey: EnvRef.optional(),
  /** Model round trips the agent may take (Claude Code: --max-turns; Codex: counted by Sparky). */
  maxTurns: z.number().int().min(1).optional(),
  /** Spend limits for the step (all attempts of one session together): usd, tokens, turns. */
  budget: Budget.optional(),
  /**
   * The agent's questions (its `ask` tool): whom they go to (only they may answer; default anyone),
   * how long one may wait before it escalates, and to whom then.
   */
  ask: z.strictObject({
    to: z.array(z.string().min(1)).min(1).optional(),
    timeout: Duration.optional(),
    escalate: z.array(z.string().min(1)).min(1).optional(),
  }).optional(),
  /** No event from the agent for this long: its process tree is ended and the step waits for a person. */
  stallAfter: Duration.optional(),
  /**
   * Claude Code tool permissions, as its `--allowedTools` rules (`Read`, `Edit`, `Write`,
   * `Bash(npm test:*)`…; default Read, Glob, Grep, Edit, Write, Bash). Codex has no per-tool list: its
   * sandbox lets it edit the working directory and run commands there.
   */
  tools: z.array(z.string().min(1)).min(1).optional(),
  /** Commands (argv each) that must all exit 0 where the agent worked, afterwards, for the step to succeed. */
  verify: z.array(z.array(z.string()).min(1, 'a verify command (argv) must not be empty')).optional(),
});
export type AgentStep = z.infer<typeof AgentStep>;

/** The worker variable an agent step's API key comes from. */
export const agentKeyVar = (step: Pick<AgentStep, 'agent' | 'apiKey'>) => step.apiKey?.fromEnv ?? AGENT_KEY_DEFAULTS[step.agent];

export const agentKind = defineStepKind<AgentStep>({
  kind: 'agent',
  schema: AgentStep,
  json: { id: 'AgentStep', description: 'A coding agent (claude-code or codex) does the task in the workstream\'s worktree; succeeds only when its result is a success and every verify command passes.' },
  docs: 'plan-reference.md#agent',
  rules(st, at, { compensated }, err) {
    if (st.prompt === undefined && st.spec === undefined) err(at, 'an agent step needs "prompt" or "spec" (the task)');
    if (st.apiKey === undefined) {
      const name = typeof st.agent === 'string' && st.agent in AGENT_KEY_DEFAULTS ? AGENT_KEY_DEFAULTS[st.agent as keyof typeof AGENT_KEY_DEFAULTS] : 'ANTHROPIC_API_KEY';
      err(at, `an agent step needs "apiKey": { fromEnv: <the worker's variable holding the key> } (for example { fromEnv: ${name} })`);
    }
    if (st.agent === 'codex' && st.tools !== undefined) {
      err([...at, 'tools'], 'codex has no per-tool allow-list: leave "tools" out (its sandbox lets it edit the working directory and run commands there)');
    }
    if (compensated !== undefined) err([...at, 'kind'], 'an agent cannot be a compensation: undo work with a shell, just or docker step');
    const ask = (st.ask ?? {}) as Obj;
    if (ask.escalate !== undefined && ask.timeout === undefined) err([...at, 'ask', 'escalate'], 'ask.escalate needs ask.timeout (how long a question waits before it escalates)');
    const run = Array.isArray(st.verify) ? st.verify : [];
    run.forEach((argv, i) => {
      if (Array.isArray(argv) && typeof argv[0] === 'string' && argv[0].trim() === '') err([...at, 'verify', i, 0], 'argv[0] (the program) must not be empty');
    });
    const env = (st.env ?? {}) as Obj;
    for (const reserved of ['CLAUDE_CONFIG_DIR', 'CODEX_HOME', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'OPENAI_BASE_URL']) {
      if (reserved in env) err([...at, 'env', reserved], `${reserved} is set by Sparky for the agent (use "endpoint" and "apiKey")`);
    }
  },
  resolvePaths: (step, base, under) => ({ ...step, cwd: under(base, step.cwd) ?? base }),
  inWorktree: (step, mv) => ({ ...step, ...(step.cwd !== undefined && { cwd: mv(step.cwd) }) }),
  workPaths: (step) => ({ field: 'cwd', where: 'runs in', paths: [step.cwd] }),
});
