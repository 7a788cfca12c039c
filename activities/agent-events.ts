// Reading a coding agent's machine-readable event stream: Claude Code's `--output-format stream-json`
// (system/init, assistant, user tool results, system/permission_denied, result) and Codex's
// `exec --json` (thread.started, turn.*, item.*; its refusals of a tool call show only on stderr).
// Each line updates one AgentProgress (what heartbeats and outputs report) and yields the lines of the
// readable transcript (turns, tool calls, file changes) that the step log shows.
import type { AgentName } from '../host/agents.ts';

export interface AgentResult {
  /** The CLI's own verdict: success only when it says so (not max turns, budget or an error). */
  ok: boolean;
  /** Claude Code's result subtype (`success`, `error_max_turns`, `error_max_budget_usd`, `error_during_execution`…) or Codex's `completed` / `failed`. */
  subtype: string;
  message?: string;
}

export interface AgentProgress {
  sessionId?: string;
  /** Model round trips: assistant messages (Claude Code), or tool calls and messages (Codex). */
  turns: number;
  tokens: { input: number; output: number };
  /** Claude Code reports its cost; Codex reports tokens only. */
  costUsd?: number;
  /** The tool the agent is running now, if any. */
  tool?: string;
  events: number;
  lastEventAt?: string;
  lastEvent?: string;
  /** The agent's last message (its summary, once it finished). */
  summary?: string;
  /** Tool calls the CLI refused (not allowed, or escalation refused): never a success. */
  denials: string[];
  /** Files the agent's tools wrote (from the events; git tells the whole story afterwards). */
  files: string[];
  result?: AgentResult;
}

export const newProgress = (): AgentProgress => ({ turns: 0, tokens: { input: 0, output: 0 }, events: 0, denials: [], files: [] });

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const oneLine = (text: string, max = 200) => { const t = text.replace(/\s+/g, ' ').trim(); return t.length > max ? `${t.slice(0, max)}…` : t; };
const firstLines = (text: string, n = 3) => text.split('\n').filter((l) => l.trim()).slice(0, n).map((l) => `      ${oneLine(l, 160)}`);

/** Reads one line of the CLI's stdout; returns the transcript lines it makes (none for noise). */
export function readAgentLine(agent: AgentName, line: string, p: AgentProgress, seen: Set<string>): string[] {
  let event: Json;
  try { event = JSON.parse(line) as Json; } catch { return line.trim() ? [`  ${oneLine(line)}`] : []; }
  p.events += 1;
  p.lastEventAt = new Date().toISOString();
  p.lastEvent = String(event.type ?? '?') + (event.subtype ? `/${String(event.subtype)}` : '');
  return agent === 'claude-code' ? claudeEvent(event, p, seen) : codexEvent(event, p);
}

/** Codex logs a refused tool call (escalation under approval policy never, a blocked command) on stderr. */
export function readAgentStderr(agent: AgentName, line: string, p: AgentProgress): string[] {
  if (agent !== 'codex') return line.trim() ? [`  [stderr] ${oneLine(line)}`] : [];
  const refused = /codex_core::tools::router: error=(.*)$/.exec(line);
  if (refused) {
    p.denials.push(`a tool call: ${oneLine(refused[1], 300)}`);
    return [`  ✗ refused: ${oneLine(refused[1])}`];
  }
  return /\b(ERROR|WARN)\b/.test(line) && !/Refusing to create helper binaries|could not create PATH aliases/.test(line) ? [`  [codex] ${oneLine(line)}`] : [];
}

function toolCall(name: string, input: Json): string {
  const file = input.file_path ?? input.notebook_path ?? input.path;
  if (typeof input.command === 'string') return `${name}: $ ${oneLine(input.command)}`;
  if (typeof file === 'string') return `${name} ${file}`;
  if (typeof input.url === 'string') return `${name} ${input.url}`;
  if (typeof input.pattern === 'string') return `${name} ${input.pattern}`;
  return `${name} ${oneLine(JSON.stringify(input), 120)}`;
}

const WRITES = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);

function claudeEvent(e: Json, p: AgentProgress, seen: Set<string>): string[] {
  const out: string[] = [];
  if (e.type === 'system' && e.subtype === 'init') {
    p.sessionId = String(e.session_id ?? p.sessionId ?? '');
    out.push(`session ${p.sessionId} (model ${String(e.model ?? '?')}, ${String(e.cwd ?? '')})`);
  } else if (e.type === 'system' && e.subtype === 'permission_denied') {
    p.denials.push(`${String(e.tool_name ?? 'a tool')}: ${oneLine(String(e.message ?? 'denied'), 300)}`);
    out.push(`  ✗ denied ${String(e.tool_name ?? 'a tool')}: ${oneLine(String(e.message ?? ''))}`);
  } else if (e.type === 'assistant') {
    const message = obj(e.message);
    const id = String(message.id ?? '');
    if (id === '' || !seen.has(id)) {
      // One model turn can arrive as several events (a block each); it counts once.
      if (id) seen.add(id);
      p.turns += 1;
      const usage = obj(message.usage);
      p.tokens.input += num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens);
      p.tokens.output += num(usage.output_tokens);
      out.push(`turn ${p.turns}`);
    }
    for (const block of Array.isArray(message.content) ? message.content as Json[] : []) {
      if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) {
        p.summary = block.text;
        out.push(`  agent: ${oneLine(block.text, 400)}`);
      } else if (block.type === 'tool_use') {
        const name = String(block.name ?? 'tool');
        const input = obj(block.input);
        p.tool = name;
        if (WRITES.has(name) && typeof (input.file_path ?? input.notebook_path) === 'string') {
          const f = String(input.file_path ?? input.notebook_path);
          if (!p.files.includes(f)) p.files.push(f);
        }
        out.push(`  → ${toolCall(name, input)}`);
      }
    }
  } else if (e.type === 'user') {
    for (const block of Array.isArray(obj(e.message).content) ? obj(e.message).content as Json[] : []) {
      if (block.type !== 'tool_result') continue;
      p.tool = undefined;
      const content = typeof block.content === 'string' ? block.content
        : Array.isArray(block.content) ? (block.content as Json[]).map((c) => String(c.text ?? '')).join('\n') : '';
      out.push(block.is_error ? `    ← error: ${oneLine(content)}` : `    ← ok${content.trim() ? '' : ' (no output)'}`, ...(block.is_error ? [] : firstLines(content)));
    }
  } else if (e.type === 'result') {
    p.sessionId = String(e.session_id ?? p.sessionId ?? '');
    p.turns = Math.max(p.turns, num(e.num_turns));
    const usage = obj(e.usage);
    const input = num(usage.input_tokens) + num(usage.cache_read_input_tokens) + num(usage.cache_creation_input_tokens);
    if (input + num(usage.output_tokens) > 0) p.tokens = { input, output: num(usage.output_tokens) };
    if (typeof e.total_cost_usd === 'number') p.costUsd = e.total_cost_usd;
    for (const d of Array.isArray(e.permission_denials) ? e.permission_denials as Json[] : []) {
      const what = `${String(d.tool_name ?? 'a tool')}: ${oneLine(JSON.stringify(d.tool_input ?? {}), 200)}`;
      if (!p.denials.some((x) => x.startsWith(`${String(d.tool_name ?? 'a tool')}:`))) p.denials.push(what);
    }
    const subtype = String(e.subtype ?? 'unknown');
    if (typeof e.result === 'string' && e.result.trim()) p.summary = e.result;
    p.result = { ok: subtype === 'success' && e.is_error !== true, subtype, message: typeof e.result === 'string' ? e.result : undefined };
    p.tool = undefined;
    out.push(`result: ${subtype}${e.is_error ? ' (error)' : ''}, ${p.turns} turns, ${p.tokens.input + p.tokens.output} tokens${p.costUsd !== undefined ? `, $${p.costUsd.toFixed(4)}` : ''}`);
  }
  return out;
}

function codexEvent(e: Json, p: AgentProgress): string[] {
  const item = obj(e.item);
  switch (e.type) {
    case 'thread.started':
      p.sessionId = String(e.thread_id ?? '');
      return [`session ${p.sessionId}`];
    case 'item.started':
      if (item.type === 'command_execution') { p.tool = 'shell'; return [`turn ${p.turns + 1}`, `  → $ ${oneLine(String(item.command ?? ''))}`]; }
      if (item.type === 'mcp_tool_call') { p.tool = `${String(item.server ?? 'mcp')}.${String(item.tool ?? '')}`; return [`  → ${p.tool}`]; }
      return [];
    case 'item.completed': {
      if (item.type === 'command_execution') {
        p.turns += 1;
        p.tool = undefined;
        const code = item.exit_code;
        return [`    ← ${item.status === 'declined' ? 'declined' : `exit ${String(code ?? '?')}`}`, ...firstLines(String(item.aggregated_output ?? ''))];
      }
      if (item.type === 'file_change') {
        p.turns += 1;
        const changes = Array.isArray(item.changes) ? item.changes as Json[] : [];
        for (const c of changes) if (typeof c.path === 'string' && !p.files.includes(c.path)) p.files.push(c.path);
        return [`turn ${p.turns}`, ...changes.map((c) => `  → ${String(c.kind ?? 'change')} ${String(c.path ?? '')}`)];
      }
      if (item.type === 'mcp_tool_call' || item.type === 'web_search') {
        p.turns += 1;
        p.tool = undefined;
        return [`turn ${p.turns}`, `  → ${String(item.type)} ${String(item.status ?? '')}`];
      }
      if (item.type === 'agent_message' && typeof item.text === 'string') {
        p.turns += 1;
        p.summary = item.text;
        return [`turn ${p.turns}`, `  agent: ${oneLine(item.text, 400)}`];
      }
      if (item.type === 'error') return [`  ! ${oneLine(String(item.message ?? ''))}`];
      return [];
    }
    case 'turn.completed': {
      const usage = obj(e.usage);
      p.tokens = { input: p.tokens.input + num(usage.input_tokens), output: p.tokens.output + num(usage.output_tokens) };
      p.result = { ok: true, subtype: 'completed' };
      p.tool = undefined;
      return [`result: completed, ${p.turns} turns, ${p.tokens.input + p.tokens.output} tokens`];
    }
    case 'turn.failed': {
      const message = String(obj(e.error).message ?? 'the turn failed');
      p.result = { ok: false, subtype: 'failed', message };
      return [`result: failed: ${oneLine(message)}`];
    }
    case 'error':
      return [`  ! ${oneLine(String(e.message ?? ''))}`];
    default:
      return [];
  }
}
