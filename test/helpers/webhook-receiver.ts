// A real HTTP webhook receiver on 127.0.0.1 for the notification tests: records every request (path,
// headers, JSON body); `failFirst` answers 503 that many times first (to see the retries).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received { path: string; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }
export interface Receiver { url: string; received: Received[]; close(): Promise<void>; failFirst: number }

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const state = { failFirst: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.failFirst > 0) { state.failFirst -= 1; res.writeHead(503).end(); return; }
      let body: Record<string, unknown> = {};
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { body = { unparsed: Buffer.concat(chunks).toString('utf8') }; }
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get failFirst() { return state.failFirst; },
    set failFirst(n: number) { state.failFirst = n; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
