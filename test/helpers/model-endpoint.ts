// A scripted model endpoint: the one double in the agent tests and the agent benchmark. It speaks the
// Anthropic Messages streaming API (POST /v1/messages, what Claude Code calls) and the OpenAI Responses
// streaming API (POST /v1/responses, what Codex calls), both as server-sent events, on 127.0.0.1.
// A script is a list of turns: a tool call (run a command, write a file) or the final message. Which
// turn answers a request is decided by the conversation the request carries (how many assistant turns
// it holds already), not by a counter, so a resumed session gets the turn after the last one it saw —
// and a test can tell what the CLI sent back (`requests`). A turn may `hold` its answer until the test
// releases it, so a test can kill a worker mid-turn; a `stall` turn starts its stream and never finishes
// it (a hung model); an `ask` turn calls the MCP tool Sparky gives the agent. Several sessions share one endpoint: a script is
// chosen by a marker text found in the request (the step's prompt names it).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Turn =
  | { bash: string; hold?: boolean }
  | { write: { path: string; content: string }; hold?: boolean }
  /** A tool by the CLI's own name and input (e.g. `WebFetch` for Claude Code), for denied-tool cases. */
  | { tool: { name: string; input: Record<string, unknown>; /** OpenAI: a namespaced function (Codex's deferred MCP tools). */ namespace?: string }; hold?: boolean }
  | { text: string; hold?: boolean }
  /** Calls Sparky's `ask` tool (whatever name the CLI gives the MCP tool: found in the request's tools). */
  | { ask: string; hold?: boolean }
  /** Starts the answer's stream and then sends nothing more, ever (a hung model or connection). */
  | { stall: true; hold?: boolean };

export interface EndpointRequest {
  api: 'anthropic' | 'openai';
  path: string;
  /** The parsed JSON body. */
  body: Record<string, unknown>;
  /** The request's conversation as text (every message and tool result), for assertions. */
  text: string;
  /** Which turn of which script answered it. */
  script?: string;
  turn?: number;
  headers: http.IncomingHttpHeaders;
  /** performance.now() when the request had arrived whole, and when its answer had been written (the benchmark's phases). */
  at: number;
  answeredAt?: number;
}

export interface ModelEndpoint {
  url: string;
  /** Anthropic base URL (`ANTHROPIC_BASE_URL`) and OpenAI base URL (a Codex provider's `base_url`). */
  anthropicBaseUrl: string;
  openaiBaseUrl: string;
  requests: EndpointRequest[];
  /** Set (or replace) the script chosen when `marker` appears in a request. */
  script(marker: string, turns: Turn[]): void;
  /** Resolves when a request for `turn` of the script `marker` has arrived (and is held, if it holds: the first one only). */
  reached(marker: string, turn: number, timeoutMs?: number): Promise<EndpointRequest>;
  /** Lets every held answer go (with the turn it was held on). */
  release(): void;
  /** Tokens each answer reports (input, output): the usage the CLIs account. */
  usage: { input: number; output: number };
  close(): Promise<void>;
}

interface Pending { marker: string; turn: number; resolve: (r: EndpointRequest) => void }

export async function startModelEndpoint(options: { scripts?: Record<string, Turn[]>; usage?: { input: number; output: number }; delayMs?: number } = {}): Promise<ModelEndpoint> {
  const scripts = new Map<string, Turn[]>(Object.entries(options.scripts ?? {}));
  const requests: EndpointRequest[] = [];
  const waiting: Pending[] = [];
  let holds: (() => void)[] = [];
  const held = new Set<string>();
  const usage = options.usage ?? { input: 100, output: 20 };
  let ids = 0;
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => { void answer(req, res, Buffer.concat(chunks).toString('utf8'), performance.now()); });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  async function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string, arrived: number): Promise<void> {
    const url = req.url ?? '/';
    const api = url.startsWith('/v1/messages') ? 'anthropic' : url.startsWith('/v1/responses') ? 'openai' : undefined;
    if (req.method !== 'POST' || !api || url.startsWith('/v1/messages/count_tokens')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `the scripted endpoint has no ${req.method} ${url}` } }));
      return;
    }
    let body: Record<string, unknown>;
    try { body = JSON.parse(raw) as Record<string, unknown>; } catch { res.writeHead(400); res.end('{}'); return; }
    const text = conversationText(api, body);
    const marker = [...scripts.keys()].find((m) => text.includes(m));
    const turns = marker === undefined ? undefined : scripts.get(marker)!;
    const turn = api === 'anthropic' ? assistantTurns(body, turns ?? []) : openaiTurns(body);
    const request: EndpointRequest = { api, path: url, body, text, script: marker, turn, headers: req.headers, at: arrived };
    requests.push(request);
    for (const w of waiting.filter((p) => p.marker === marker && p.turn === turn)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(request); }
    const step: Turn = turns?.[turn] ?? { text: marker === undefined ? 'no script matches this conversation' : `the script ${marker} has no turn ${turn}` };
    // A hold holds the first request for its turn only: the resumed session's request for it is answered.
    const holdKey = `${marker}#${turn}`;
    if (step.hold && !held.has(holdKey)) { held.add(holdKey); await new Promise<void>((resolve) => holds.push(resolve)); }
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    ids += 1;
    if ('stall' in step) {
      // The stream opens, then nothing: the CLI waits on a live connection (closed only by close()).
      if (api === 'anthropic') sse(res, 'message_start', { type: 'message_start', message: { id: `msg_${ids}`, type: 'message', role: 'assistant', model: 'scripted', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } } });
      else sse(res, 'response.created', { type: 'response.created', response: { id: `resp_${ids}`, object: 'response', status: 'in_progress', model: 'scripted', output: [] } });
      return;
    }
    // Claude Code lists the ask tool as mcp__sparky__ask; Codex defers MCP tools into a namespace (mcp__sparky) whose functions are called by namespace and name.
    const turn2: Answerable = 'ask' in step
      ? (api === 'anthropic' ? { tool: { name: askToolName(body) ?? 'mcp__sparky__ask', input: { question: step.ask } } } : { tool: { namespace: 'mcp__sparky', name: 'ask', input: { question: step.ask } } })
      : step;
    if (api === 'anthropic') anthropicAnswer(res, turn2, ids, usage);
    else openaiAnswer(res, turn2, ids, usage);
    res.end(() => { request.answeredAt = performance.now(); });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const endpoint: ModelEndpoint = {
    url, anthropicBaseUrl: url, openaiBaseUrl: `${url}/v1`, requests, usage,
    script(marker, turns) { scripts.set(marker, turns); },
    reached(marker, turn, timeoutMs = 60_000) {
      const seen = requests.find((r) => r.script === marker && r.turn === turn);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the endpoint never got turn ${turn} of ${marker} (got: ${requests.map((r) => `${r.script}#${r.turn}`).join(' ') || 'nothing'})`)), timeoutMs);
        waiting.push({ marker, turn, resolve: (r) => { clearTimeout(timer); resolve(r); } });
      });
    },
    release() { const h = holds; holds = []; for (const go of h) go(); },
    async close() {
      endpoint.release();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return endpoint;
}

// ---- reading requests -------------------------------------------------------------------------

/**
 * Assistant turns this endpoint answered: a tool call, or a text of the script. Claude Code adds its own
 * assistant placeholders to a resumed conversation (an interrupted turn reads "No response requested."):
 * they are not turns of the script.
 */
function assistantTurns(body: Record<string, unknown>, script: Turn[]): number {
  const texts = new Set(script.flatMap((t) => ('text' in t ? [t.text] : [])));
  const messages = Array.isArray(body.messages) ? body.messages as { role?: string; content?: unknown }[] : [];
  return messages.filter((m) => m.role === 'assistant' && (Array.isArray(m.content) ? m.content as { type?: string; text?: string }[] : [])
    .some((b) => b.type === 'tool_use' || (b.type === 'text' && texts.has(b.text ?? '')))).length;
}

function openaiTurns(body: Record<string, unknown>): number {
  const input = Array.isArray(body.input) ? body.input as { type?: string; role?: string }[] : [];
  return input.filter((i) => i.type === 'function_call' || i.type === 'custom_tool_call' || (i.type === 'message' && i.role === 'assistant')).length;
}

/** The name the CLI gave Sparky's MCP `ask` tool in this request's tool list (Claude Code: mcp__sparky__ask). */
function askToolName(body: Record<string, unknown>): string | undefined {
  const tools = Array.isArray(body.tools) ? body.tools as { name?: string; type?: string }[] : [];
  return tools.map((t) => t.name ?? '').find((n) => /sparky/.test(n) && /ask$/.test(n));
}

function conversationText(api: 'anthropic' | 'openai', body: Record<string, unknown>): string {
  return JSON.stringify(api === 'anthropic' ? body.messages ?? [] : body.input ?? []);
}

// ---- writing answers --------------------------------------------------------------------------

type Out = http.ServerResponse;
const sse = (res: Out, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

type Answerable = Exclude<Turn, { ask: string } | { stall: true }>;

function anthropicAnswer(res: Out, step: Answerable, n: number, usage: { input: number; output: number }): void {
  sse(res, 'message_start', { type: 'message_start', message: { id: `msg_${n}`, type: 'message', role: 'assistant', model: 'scripted', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: usage.input, output_tokens: 1 } } });
  let stop = 'end_turn';
  if ('text' in step) {
    sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: step.text } });
  } else {
    const [name, input] = 'bash' in step ? ['Bash', { command: step.bash, description: 'scripted command' }]
      : 'write' in step ? ['Write', { file_path: step.write.path, content: step.write.content }]
        : [step.tool.name, step.tool.input];
    sse(res, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: `toolu_${n}`, name, input: {} } });
    sse(res, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) } });
    stop = 'tool_use';
  }
  sse(res, 'content_block_stop', { type: 'content_block_stop', index: 0 });
  sse(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: usage.output } });
  sse(res, 'message_stop', { type: 'message_stop' });
}

function openaiAnswer(res: Out, step: Answerable, n: number, usage: { input: number; output: number }): void {
  let item: Record<string, unknown>;
  if ('text' in step) {
    item = { type: 'message', id: `msg_${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: step.text, annotations: [] }] };
  } else {
    const [name, args] = 'bash' in step ? ['exec_command', { cmd: step.bash }]
      : 'write' in step ? ['exec_command', { cmd: `mkdir -p "$(dirname ${shellQuote(step.write.path)})" && printf %s ${shellQuote(step.write.content)} > ${shellQuote(step.write.path)}` }]
        : [step.tool.name, step.tool.input];
    const namespace = 'tool' in step ? step.tool.namespace : undefined;
    item = { type: 'function_call', id: `fc_${n}`, call_id: `call_${n}`, ...(namespace ? { namespace } : {}), name, arguments: JSON.stringify(args), status: 'completed' };
  }
  const response = { id: `resp_${n}`, object: 'response', status: 'in_progress', model: 'scripted', output: [] as unknown[] };
  sse(res, 'response.created', { type: 'response.created', response });
  sse(res, 'response.output_item.added', { type: 'response.output_item.added', output_index: 0, item: { ...item, status: 'in_progress' } });
  if (item.type === 'message') {
    sse(res, 'response.output_text.delta', { type: 'response.output_text.delta', item_id: item.id, output_index: 0, content_index: 0, delta: (step as { text: string }).text });
  }
  sse(res, 'response.output_item.done', { type: 'response.output_item.done', output_index: 0, item });
  sse(res, 'response.completed', { type: 'response.completed', response: { ...response, status: 'completed', output: [item],
    usage: { input_tokens: usage.input, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.input + usage.output } } });
}
