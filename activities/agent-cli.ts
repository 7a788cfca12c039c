// How each coding-agent CLI is started for an `agent` step: its argv (headless, machine-readable
// events, a new session or a resumed one), its environment (scrubbed: see agentEnv) and its own
// configuration, kept in the step's session directory under the run's directory (CLAUDE_CONFIG_DIR /
// CODEX_HOME), so a resume finds the session and two runs or workstreams never share one.
// agentLaunch is the one composition of all of it: what the runner spawns, and what the agent
// benchmark (bench/agent.ts) starts by hand to compare against.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { StepActivityInput } from '../common/activity-types.ts';
import type { AgentCli, AgentName } from '../host/agents.ts';
import { PROJECT_ROOT } from '../host/paths.ts';
import { ASK_DESCRIPTION, ASK_FILE_VAR, ASK_SERVER, ASK_TOOL, ASK_TOOL_VAR } from './ask-tool.ts';
import type { AgentStep } from '../plan/schema.ts';
import { safeSegment } from './logs.ts';
import { stepEnv } from './step-env.ts';

/** The Claude Code tools an agent step may use when the plan names none. */
export const DEFAULT_CLAUDE_TOOLS = ['Read', 'Glob', 'Grep', 'Edit', 'Write', 'Bash'];

/** Names of the worker's environment an agent process may inherit; everything else is dropped. */
const INHERITED = /^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|TMPDIR|USER|LOGNAME|SHELL)$/;
/** Never passed to an agent, whatever the plan says: an agent must not be able to sign as an approver. */
const NEVER = /^(SSH_AUTH_SOCK|SSH_AGENT_PID)$/;

/**
 * The agent's environment: a few harmless variables of the worker (PATH, locale…), the step's own
 * (plan and step `env`, its secrets, Sparky's SPARKY_* step variables) and the CLI's settings. Not the
 * worker's: no TEMPORAL_* connection or certificates, no SSH agent socket, no keys of people or other
 * services — so what the agent runs cannot reach the run's workflow or sign a decision.
 */
export function agentEnv(worker: NodeJS.ProcessEnv, step: Record<string, string>, cli: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(worker)) if (v !== undefined && INHERITED.test(k)) env[k] = v;
  Object.assign(env, step, cli);
  for (const k of Object.keys(env)) if (NEVER.test(k)) delete env[k];
  return env;
}

/** Claude Code takes a session id we choose: one derived from the step's idempotency key (a UUID). */
export function claudeSessionId(idempotencyKey: string): string {
  const h = createHash('sha256').update(`sparky-agent-session\0${idempotencyKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The step's session directory under the run's directory: `<run dir>/agents/<workstream>/<step>/` (its `home/` created). */
export function sessionDirOf(runDir: string, ctx: { workstreamId: string; stepId: string }): string {
  const dir = path.join(runDir, 'agents', safeSegment(ctx.workstreamId), safeSegment(ctx.stepId));
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  return dir;
}

/** Where the step's `ask` tool writes the agent's question (in the session directory). */
export const askFileOf = (sessionDir: string) => path.join(sessionDir, 'question.json');

/** Where the CLI keeps its sessions and settings for this step (created). */
export function cliConfigDir(sessionDir: string): string {
  const dir = path.join(sessionDir, 'config');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Does the CLI's own store hold this session (so `--resume` / `exec resume` can find it)? */
export function sessionStored(agent: AgentName, sessionDir: string, sessionId: string): boolean {
  const config = path.join(sessionDir, 'config');
  const find = (dir: string, depth: number): boolean => {
    if (!existsSync(dir)) return false;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.includes(sessionId) && entry.name.endsWith('.jsonl')) return true;
      if (entry.isDirectory() && depth > 0 && find(path.join(dir, entry.name), depth - 1)) return true;
    }
    return false;
  };
  return agent === 'claude-code' ? find(path.join(config, 'projects'), 1) : find(path.join(config, 'sessions'), 4);
}

/** Codex's session ids are its own: the newest rollout file names it (a worker that died before telling us). */
export function lastCodexSession(sessionDir: string): string | undefined {
  const root = path.join(sessionDir, 'config', 'sessions');
  let newest: string | undefined;
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) walk(path.join(dir, entry.name));
      else if (/^rollout-.*\.jsonl$/.test(entry.name)) newest = entry.name;
    }
  };
  walk(root);
  return newest?.match(/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/)?.[1];
}

export interface CliLaunch { args: string[]; env: Record<string, string> }

export interface LaunchSpec {
  step: AgentStep;
  prompt: string;
  sessionDir: string;
  /** Resume this session, or start the one named (Claude Code) / a new one (Codex). */
  resume?: string;
  newSessionId?: string;
  apiKey: string;
  endpoint?: string;
  /** What is left of the step's USD budget (Claude Code enforces it itself). */
  usdLeft?: number;
  /** Turns this run of the CLI may take (the step's maxTurns, or less where a budget's turns are nearly spent). */
  maxTurns?: number;
  /** Where the `ask` tool writes the agent's question (the step's session directory). */
  askFile: string;
}

/** The `ask` MCP server, as both CLIs start it: this Node, bin/sparky-ask.js, the question file. */
export function askServer(askFile: string): { command: string; args: string[]; env: Record<string, string> } {
  return {
    command: process.execPath, args: [path.join(PROJECT_ROOT, 'bin', 'sparky-ask.js')],
    env: { [ASK_FILE_VAR]: askFile, [ASK_TOOL_VAR]: JSON.stringify({ server: ASK_SERVER, tool: ASK_TOOL, description: ASK_DESCRIPTION }) },
  };
}

/** Claude Code's name for the ask tool (its MCP tools are `mcp__<server>__<tool>`). */
export const CLAUDE_ASK_TOOL = `mcp__${ASK_SERVER}__${ASK_TOOL}`;

const TOML = (s: string) => JSON.stringify(s); // a TOML basic string is a JSON string for what we write

export function claudeLaunch(spec: LaunchSpec): CliLaunch {
  const { step } = spec;
  const config = cliConfigDir(spec.sessionDir);
  // The ask tool: Sparky's MCP server only (--strict-mcp-config: no other configured server starts).
  const mcp = path.join(spec.sessionDir, 'mcp.json');
  writeFileSync(mcp, JSON.stringify({ mcpServers: { [ASK_SERVER]: { type: 'stdio', ...askServer(spec.askFile) } } }, null, 2));
  const args = ['-p', spec.prompt, '--output-format', 'stream-json', '--verbose',
    ...(spec.resume ? ['--resume', spec.resume] : ['--session-id', spec.newSessionId!]),
    '--mcp-config', mcp, '--strict-mcp-config',
    '--allowedTools', ...(step.tools ?? DEFAULT_CLAUDE_TOOLS), CLAUDE_ASK_TOOL,
    ...(spec.maxTurns ? ['--max-turns', String(spec.maxTurns)] : []),
    ...(spec.usdLeft !== undefined ? ['--max-budget-usd', String(Math.max(spec.usdLeft, 0.000001))] : []),
    ...(step.model ? ['--model', step.model] : []),
  ];
  return {
    args,
    env: {
      CLAUDE_CONFIG_DIR: config,
      ANTHROPIC_API_KEY: spec.apiKey,
      ...(spec.endpoint ? { ANTHROPIC_BASE_URL: spec.endpoint } : {}),
      // No telemetry, error reports, update checks or other traffic besides the model endpoint.
      DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1', DISABLE_BUG_COMMAND: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  };
}

/** The variable Codex reads the key from (named in its provider configuration). */
const CODEX_KEY_VAR = 'SPARKY_AGENT_API_KEY';

export function codexLaunch(spec: LaunchSpec): CliLaunch {
  const { step } = spec;
  const config = cliConfigDir(spec.sessionDir);
  const ask = askServer(spec.askFile);
  const provider = spec.endpoint
    ? ['model_provider = "sparky"', '', '[model_providers.sparky]', 'name = "sparky"', `base_url = ${TOML(spec.endpoint)}`, 'wire_api = "responses"', `env_key = ${TOML(CODEX_KEY_VAR)}`]
    : ['model_provider = "openai"'];
  // Written on every attempt: the endpoint or model may have been corrected (revise) before a retry.
  writeFileSync(path.join(config, 'config.toml'), [
    '# Written by Sparky for one agent step (activities/agent-cli.ts); rewritten on every attempt.',
    ...(step.model ? [`model = ${TOML(step.model)}`] : []),
    'approval_policy = "never"',
    'sandbox_mode = "workspace-write"',
    'check_for_update_on_startup = false',
    ...provider,
    '', '[analytics]', 'enabled = false',
    // The key stays with codex: the commands the agent runs do not get it.
    '', '[shell_environment_policy]', 'inherit = "all"', `exclude = [${TOML(CODEX_KEY_VAR)}, "OPENAI_API_KEY"]`,
    // The ask tool (Sparky ends the session at a question, so the call never needs to time out).
    '', `[mcp_servers.${ASK_SERVER}]`, `command = ${TOML(ask.command)}`, `args = [${ask.args.map(TOML).join(', ')}]`,
    'startup_timeout_sec = 60', 'tool_timeout_sec = 86400', 'default_tools_approval_mode = "approve"', 'startup_readiness = "catalog"',
    `env = { ${Object.entries(ask.env).map(([k, v]) => `${k} = ${TOML(v)}`).join(', ')} }`, '',
  ].join('\n'));
  const common = ['--json', '--skip-git-repo-check', '--disable', 'plugins', '--disable', 'remote_plugin', '--disable', 'apps'];
  const args = spec.resume ? ['exec', 'resume', ...common, spec.resume, spec.prompt] : ['exec', ...common, spec.prompt];
  return {
    args,
    env: { CODEX_HOME: config, [spec.endpoint ? CODEX_KEY_VAR : 'OPENAI_API_KEY']: spec.apiKey },
  };
}

/**
 * One attempt's process as the runner starts it: the CLI, its argv and its whole (scrubbed)
 * environment — the step's variables, the session's own HOME, the agent's git identity, the CLI's
 * settings (and its configuration files written into the session directory).
 */
export function agentLaunch(input: StepActivityInput & { step: AgentStep }, attempt: number, secrets: Record<string, string>, cli: AgentCli, spec: LaunchSpec):
  { file: string; args: string[]; env: Record<string, string> } {
  const { step, ctx } = input;
  const launch = (step.agent === 'claude-code' ? claudeLaunch : codexLaunch)(spec);
  const who = `${step.agent} (Sparky ${ctx.workstreamId}/${ctx.stepId})`;
  const own: Record<string, string> = { ...stepEnv(input, attempt, secrets), HOME: path.join(spec.sessionDir, 'home'),
    GIT_AUTHOR_NAME: who, GIT_AUTHOR_EMAIL: 'agent@sparky.invalid', GIT_COMMITTER_NAME: who, GIT_COMMITTER_EMAIL: 'agent@sparky.invalid' };
  if (cli.path.length) own.PATH = [...cli.path, process.env.PATH ?? ''].join(':');
  return { file: cli.bin, args: launch.args, env: agentEnv(process.env, own, launch.env) };
}
