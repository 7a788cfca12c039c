// WS-09 ZeroMQ IPC: the TUI ↔ backend link, measured. A REP socket answers a REQ socket over an
// ipc:// endpoint; prints round-trip latency percentiles as JSON. usage: node ipc-pingpong.mjs [n]
import { Reply, Request } from 'zeromq';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const n = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(path.join(os.tmpdir(), 'dgx-ipc-'));
const endpoint = `ipc://${path.join(dir, 'backend.sock')}`;
const rep = new Reply();
const req = new Request();
await rep.bind(endpoint);
req.connect(endpoint);
const server = (async () => {
  for await (const [msg] of rep) await rep.send(msg);
})();
const times = [];
for (let i = 0; i < n; i++) {
  const payload = Buffer.from(JSON.stringify({ id: i, op: 'preview', sprite: 'knight', frame: i % 8 }));
  const t0 = process.hrtime.bigint();
  await req.send(payload);
  const [reply] = await req.receive();
  times.push(Number(process.hrtime.bigint() - t0) / 1000);
  if (!reply.equals(payload)) throw new Error(`reply ${i} does not match the request`);
}
req.close();
rep.close();
await server.catch(() => {});
rmSync(dir, { recursive: true, force: true });
times.sort((a, b) => a - b);
const pct = (p) => Math.round(times[Math.min(times.length - 1, Math.floor(times.length * p))]);
console.log(JSON.stringify({ roundTrips: n, p50us: pct(0.5), p99us: pct(0.99), maxus: Math.round(times[times.length - 1]) }));
