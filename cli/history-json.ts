// A run's event history as exported JSON (`sparky history -o`, `temporal workflow show --output json`,
// or a recorded fixture {runs: [...]}), read without a server: the input of `sparky verify` and
// `sparky attest`. Payloads are decoded here (json/plain, the default converter's encoding).
import { existsSync, readFileSync } from 'node:fs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { CliError, connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';

export type JsonEvent = Record<string, unknown> & { eventId: string; eventTime?: string; eventType: string };
export interface HistoryJson { events: JsonEvent[]; text: string; source: string }

interface JsonPayload { metadata?: Record<string, string>; data?: string }

/** A payload of the exported JSON: base64 metadata and data; json/plain is parsed, binary/null is null. */
export function decodePayload(p: JsonPayload | undefined): unknown {
  if (!p) return undefined;
  const encoding = p.metadata?.encoding ? Buffer.from(p.metadata.encoding, 'base64').toString('utf8') : '';
  if (encoding === 'binary/null') return null;
  if (encoding !== 'json/plain') return { undecodable: encoding };
  return JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8'));
}

export function payloadsOf(container: unknown): unknown[] {
  const payloads = (container as { payloads?: JsonPayload[] } | undefined)?.payloads ?? [];
  return payloads.map(decodePayload);
}

export function parseHistoryText(text: string, source: string): HistoryJson {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch (e) { throw new CliError(`${source}: not JSON (${(e as Error).message})`, 2); }
  const d = doc as { events?: JsonEvent[]; runs?: { workflowId: string; history: { events: JsonEvent[] } }[] };
  let events = d.events;
  if (!events && Array.isArray(d.runs)) {
    // A recorded fixture: the run itself is the one whose id is not a child's (`<run>/<phase>/<domain>`).
    const meta = d.runs.filter((r) => !r.workflowId.includes('/'));
    events = meta.flatMap((r) => r.history.events);
  }
  if (!Array.isArray(events) || events.length === 0) throw new CliError(`${source}: no events (expected the JSON of \`sparky history\`)`, 2);
  return { events, text, source };
}

/** `arg` is a history file, or a run (workflow id, short run id, `last`) whose history is fetched. */
export async function loadHistory(arg: string): Promise<HistoryJson> {
  if (existsSync(arg)) return parseHistoryText(readFileSync(arg, 'utf8'), arg);
  const client = await connectClient();
  const handle = await resolveRun(client, arg);
  const history = await handle.fetchHistory();
  return parseHistoryText(historyToJSON(history), `history of ${handle.workflowId}`);
}

export function attributes(event: JsonEvent): Record<string, unknown> {
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes'));
  return (key ? event[key] : {}) as Record<string, unknown>;
}
