// The board's HTTP server (`sparky board`, and `sparky dev` on its own port): the static page
// (board/static/), a JSON API over what Temporal answers (board/source.ts), server-sent events that
// push a run or the run list when it changes, and the page's actions, which call the same updates as
// the CLI (`resolve`, `decideGate`) and pass their refusals through word for word.
//
// Safe by default: binds 127.0.0.1; answers only requests whose Host is the board's own (no DNS
// rebinding); a POST must carry JSON, the header X-Sparky-Board and an Origin equal to the board's own
// (and Sec-Fetch-Site same-origin where the browser sends it), so another site's page cannot act
// through a person's browser; no CORS; the page may not be framed (CSP frame-ancestors 'none'). It
// shows public keys, statuses, audits and logs the workers already redacted, never secrets: the plan
// itself is not served.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { approverKeys, findApprover } from '../common/approvers.ts';
import { base64UrlDecode, base64UrlEncode, fromUtf8 } from '../common/bytes.ts';
import { buildStatement } from '../common/gate-statement.ts';
import { parseListedKey } from '../common/keys.ts';
import { armorAssertion, originAllowed, pointFromSpki, statementChallenge, webauthnKeyLine } from '../common/webauthn.ts';
import { statementFieldsOf } from '../cli/gate-facts.ts';
import type { DecideGateInput, ResolveInput } from '../workflows/messages.ts';
import { runGraph } from './graph.ts';
import { runView } from './model.ts';
import { BoardSource } from './source.ts';

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/board.js': { file: 'board.js', type: 'text/javascript; charset=utf-8' },
  '/board.css': { file: 'board.css', type: 'text/css; charset=utf-8' },
};
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};
export const ACTION_HEADER = 'x-sparky-board';
const MAX_BODY = 256 * 1024;

export interface BoardOptions {
  client: Client;
  namespace?: string;
  /** 127.0.0.1 unless told otherwise. */
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** The Temporal Web UI's base URL, for the links on every item. */
  webUiUrl?: string;
  /** Extra Host names (with port) the board answers to, e.g. `board.example.com` behind a proxy. */
  allowedHosts?: string[];
  /** How often the live stream asks Temporal (ms, default 1000). */
  pollMs?: number;
}

export interface Board { url: string; port: number; server: Server; close(): Promise<void> }

class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export async function startBoard(opts: BoardOptions): Promise<Board> {
  const source = new BoardSource(opts.client);
  const namespace = opts.namespace ?? 'default';
  const host = opts.host ?? '127.0.0.1';
  const pollMs = opts.pollMs ?? 1000;
  const streams = new Set<ServerResponse>();
  let port = 0;
  const hostsAllowed = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...(host !== '127.0.0.1' && host !== '0.0.0.0' && host !== '::' ? [`${host}:${port}`] : []), ...(opts.allowedHosts ?? [])]);
  const webUiRun = (id: string) => (opts.webUiUrl ? `${opts.webUiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}` : undefined);

  const runDetail = async (id: string) => {
    const { status, plan } = await source.run(id);
    const view = runView(status, plan, Date.now());
    return { ...view, graph: runGraph(status, plan, view.criticalPath), webUi: webUiRun(id) };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 502;
      const message = err instanceof HttpError ? err.message : `Temporal: ${(err as Error).message}`;
      if (!res.headersSent) send(res, status, { error: message });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostsAllowed().has(req.headers.host ?? '')) throw new HttpError(421, `this board answers to ${[...hostsAllowed()].join(', ')}, not "${req.headers.host ?? ''}" (sparky board --allow-host NAME:PORT)`);
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'POST') {
      checkSameOrigin(req);
      const body = await readJson(req);
      if (parts[0] === 'api' && parts[1] === 'passkeys' && parts.length === 2) return send(res, 200, registerPasskey(body, req.headers.host ?? ''));
      if (parts[0] === 'api' && parts[1] === 'runs' && parts.length === 4 && parts[3] === 'resolve') return send(res, 200, await update(parts[2], 'resolve', resolveInput(body)));
      if (parts[0] === 'api' && parts[1] === 'runs' && parts.length === 4 && parts[3] === 'decide') return send(res, 200, await decide(parts[2], body, req));
      throw new HttpError(404, `no action at ${url.pathname}`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not served`);
    if (url.pathname === '/favicon.ico') { res.writeHead(204, SECURITY_HEADERS); res.end(); return; }
    const page = STATIC[url.pathname];
    if (page) {
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': page.type });
      res.end(readFileSync(path.join(STATIC_DIR, page.file)));
      return;
    }
    if (parts[0] !== 'api') throw new HttpError(404, `nothing at ${url.pathname}`);
    if (parts[1] === 'config') return send(res, 200, { namespace, webUi: opts.webUiUrl ?? null, pollMs });
    if (parts[1] === 'events') return events(req, res, url.searchParams.get('run') ?? undefined);
    if (parts[1] === 'runs' && parts.length === 2) return send(res, 200, await listRuns());
    if (parts[1] === 'runs' && parts.length === 3) return send(res, 200, await runDetail(parts[2]));
    if (parts[1] === 'runs' && parts[3] === 'verify') return send(res, 200, await source.verify(parts[2]));
    if (parts[1] === 'runs' && parts[3] === 'logs' && parts.length === 6) {
      const { status } = await source.run(parts[2]);
      return send(res, 200, source.stepLog(status, parts[4], parts[5]));
    }
    if (parts[1] === 'runs' && parts[3] === 'statement') return send(res, 200, await statement(parts[2], url.searchParams, req));
    throw new HttpError(404, `nothing at ${url.pathname}`);
  }

  async function listRuns() {
    return (await source.listRuns()).map((r) => ({ ...r, webUi: webUiRun(r.id) }));
  }

  /** The exact statement a decision signs now, its challenge, and the passkeys the approver may sign it with here. */
  async function statement(id: string, q: URLSearchParams, req: IncomingMessage) {
    const gate = q.get('gate') ?? '';
    const approver = q.get('approver') ?? '';
    const decision = q.get('decision');
    if (decision !== 'approve' && decision !== 'reject') throw new HttpError(400, 'decision must be approve or reject');
    const rework = (q.get('rework') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const signedAt = new Date().toISOString();
    let text: string;
    try {
      text = buildStatement(await statementFieldsOf(source.handle(id), gate, decision, q.get('comment') ?? '', signedAt, rework));
    } catch (e) {
      throw new HttpError(400, (e as Error).message);
    }
    const { plan, status } = await source.run(id);
    const g = status.phases.find((p) => p.gate?.id === gate)?.gate;
    const approval = plan?.phases.find((p) => p.gate?.id === gate)?.gate?.approval;
    const entry = findApprover(g?.escalated ? approval?.escalate?.approvers : approval?.approvers, approver);
    const keys = approverKeys(entry).flatMap((l) => { const k = parseListedKey(l); return 'error' in k ? [] : [k]; });
    const rpId = hostName(req.headers.host ?? '');
    const passkeys = keys.filter((k) => k.type === 'webauthn');
    const here = passkeys.filter((k) => k.type === 'webauthn' && k.rpId === rpId);
    return {
      statement: text, signedAt, challenge: base64UrlEncode(statementChallenge(text)), rpId,
      keyed: keys.length > 0, passkeys: here.map((k) => (k.type === 'webauthn' ? base64UrlEncode(k.credentialId) : '')),
      ...(passkeys.length && !here.length ? { elsewhere: [...new Set(passkeys.map((k) => (k.type === 'webauthn' ? k.rpId : '')))] } : {}),
      ssh: keys.some((k) => k.type === 'ssh-ed25519'),
    };
  }

  async function decide(id: string, body: Record<string, unknown>, req: IncomingMessage) {
    const input: Partial<DecideGateInput> = {
      gate: str(body.gate), approver: str(body.approver), decision: body.decision as DecideGateInput['decision'],
      ...(str(body.comment) ? { comment: str(body.comment) } : {}),
      ...(Array.isArray(body.rework) && body.rework.length ? { rework: body.rework.filter((w): w is string => typeof w === 'string') } : {}),
    };
    const a = body.assertion as Record<string, unknown> | undefined;
    if (a !== undefined) {
      const b = (k: string) => { const v = typeof a?.[k] === 'string' ? base64UrlDecode(a[k] as string) : undefined; if (!v) throw new HttpError(400, `assertion.${k} must be base64url`); return v; };
      const assertion = { credentialId: b('credentialId'), authenticatorData: b('authenticatorData'), clientDataJSON: b('clientDataJSON'), signature: b('signature') };
      // The workflow checks the origin against the passkey's relying party; the board refuses early what came from elsewhere.
      let origin: string | undefined;
      try { origin = (JSON.parse(fromUtf8(assertion.clientDataJSON)) as { origin?: string }).origin; } catch { throw new HttpError(400, 'assertion.clientDataJSON is not JSON'); }
      if (origin !== originOf(req)) throw new HttpError(400, `the assertion was made on ${origin}, not on this board (${originOf(req)})`);
      Object.assign(input, { signature: armorAssertion(assertion), signedAt: str(body.signedAt) });
    } else if (str(body.signature)) {
      Object.assign(input, { signature: str(body.signature), signedAt: str(body.signedAt) });
    }
    return update(id, 'decideGate', input);
  }

  async function update(id: string, name: string, input: object) {
    try {
      return { ok: true, result: await source.handle(id).executeUpdate(name, { args: [input] }) };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new HttpError(409, `refused: ${(err.cause as Error | undefined)?.message ?? err.message}`);
      throw err;
    }
  }

  function checkSameOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    const fetchSite = req.headers['sec-fetch-site'];
    if (req.headers[ACTION_HEADER] !== '1') throw new HttpError(403, `cross-site request refused: actions need the header ${ACTION_HEADER} (the board's page sends it)`);
    if (!origin || origin !== originOf(req)) throw new HttpError(403, `cross-site request refused: Origin ${JSON.stringify(origin ?? null)} is not this board (${originOf(req)})`);
    if (fetchSite !== undefined && fetchSite !== 'same-origin') throw new HttpError(403, `cross-site request refused (Sec-Fetch-Site: ${fetchSite})`);
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'actions take application/json');
  }

  function events(req: IncomingMessage, res: ServerResponse, run: string | undefined): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write(`retry: 2000\n\n`);
    streams.add(res);
    let last = '';
    let closed = false;
    const tick = async () => {
      if (closed) return;
      let event: string; let data: string;
      try {
        [event, data] = run ? ['run', JSON.stringify(await runDetail(run))] : ['runs', JSON.stringify(await listRuns())];
      } catch (err) {
        [event, data] = ['trouble', JSON.stringify({ error: `cannot read from Temporal: ${(err as Error).message.split('\n')[0]} (retrying)` })];
      }
      if (closed) return;
      if (data !== last) { last = data; res.write(`event: ${event}\ndata: ${data}\n\n`); }
      timer = setTimeout(() => void tick(), pollMs);
    };
    let timer = setTimeout(() => void tick(), 0);
    req.on('close', () => { closed = true; clearTimeout(timer); streams.delete(res); });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host === '127.0.0.1' ? 'localhost' : host;
  return {
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`, port, server,
    close: async () => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A passkey just created on the page: its SPKI becomes the plan line. */
function registerPasskey(body: Record<string, unknown>, hostHeader: string) {
  const name = str(body.name)?.trim();
  if (!name || !/^[A-Za-z0-9._@ -]{1,64}$/.test(name)) throw new HttpError(400, 'name: the approver name the plan uses (letters, digits, spaces, . _ @ -)');
  const spki = typeof body.publicKey === 'string' ? base64UrlDecode(body.publicKey) : undefined;
  const credentialId = typeof body.credentialId === 'string' ? base64UrlDecode(body.credentialId) : undefined;
  const clientData = typeof body.clientDataJSON === 'string' ? base64UrlDecode(body.clientDataJSON) : undefined;
  if (!spki || !credentialId || !clientData) throw new HttpError(400, 'publicKey, credentialId and clientDataJSON (base64url) are needed');
  if (body.algorithm !== -7) throw new HttpError(400, `the passkey uses COSE algorithm ${JSON.stringify(body.algorithm)}; Sparky verifies ES256 (-7) only`);
  const rpId = hostName(hostHeader);
  let client: { type?: string; origin?: string };
  try { client = JSON.parse(fromUtf8(clientData)) as typeof client; } catch { throw new HttpError(400, 'clientDataJSON is not JSON'); }
  if (client.type !== 'webauthn.create') throw new HttpError(400, 'clientDataJSON is not from navigator.credentials.create');
  if (typeof client.origin !== 'string' || !originAllowed(client.origin, rpId)) throw new HttpError(400, `a passkey for ${rpId} cannot be made on ${client.origin}: open the board at http://localhost:PORT (or https on its host name)`);
  const point = pointFromSpki(spki);
  if ('error' in point) throw new HttpError(400, point.error);
  const comment = `${name.replace(/ /g, '_')}@${rpId}`;
  const line = webauthnKeyLine({ point, rpId, credentialId, comment });
  const parsed = parseListedKey(line);
  if ('error' in parsed) throw new HttpError(400, parsed.error);
  return { name, rpId, line, yaml: `- { name: ${JSON.stringify(name)}, key: "${line}" }`, note: `Add it to the gate's approvers (or beside an ssh-ed25519 key as key: [ …, "${line.split(' ').slice(0, 2).join(' ')}" ]), then sign on this board at ${client.origin}.` };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function hostName(hostHeader: string): string {
  return hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
}

function originOf(req: IncomingMessage): string {
  const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : (req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http');
  return `${proto}://${req.headers.host}`;
}

function resolveInput(body: Record<string, unknown>): ResolveInput {
  return body as unknown as ResolveInput; // the workflow validates it, as it does for the CLI
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request too large');
    chunks.push(c as Buffer);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'the body must be a JSON object');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
