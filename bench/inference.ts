// The inference benchmark (not a test): `npx tsx bench/inference.ts [--out-dir DIR]`, or part of `npm run bench`.
// Every figure against a baseline measured in the same run on this machine:
//   · round trip of a 1 KiB request/reply through the server (an `echo` job: decode, dedup, the op on
//     the socket thread — echo is an inline op — and the reply) against raw ZeroMQ REQ/REP with a
//     bare pyzmq echo server — p50/p99 and their ratio;
//   · throughput with 16 requests in flight through the server against raw DEALER/ROUTER echo;
//   · the same two for `echo_worker` (the same op through the queue and the worker thread, as every
//     op that is not inline runs), and the round trip of an `echo` whose progress is watched from the
//     start (onProgress, as Sparky's inference activity does);
//   · the same from a plain pyzmq client (bench/pyzmq_echo.py) against pyzmq's own raw floors;
//   · pixelize images/s on the CPU, through the server and calling the op directly, both one at a time;
//   · GPU rows (GEMM TFLOPS against torch.matmul, pixelize GPU/CPU) when torch + CUDA are present,
//     otherwise rows that say "no GPU here".
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dealer, Request } from 'zeromq';
import { InferenceClient } from '../activities/inference-client.ts';
import { startInferenceServer } from '../host/inference-server.ts';
import { freePort } from '../host/ports.ts';
import { PROJECT_ROOT, VENV_PYTHON } from '../host/paths.ts';
import { resultsFile } from './results-file.ts';
import { percentile, round, type BenchRow } from './stats.ts';

export type BenchRows = BenchRow[];

const ROUND_TRIPS = Number(process.env.SPARKY_BENCH_ROUND_TRIPS ?? 2000);
const THROUGHPUT_REQUESTS = Number(process.env.SPARKY_BENCH_THROUGHPUT ?? 4000);
const IN_FLIGHT = 16;
const WARM_UP = 200;          // round trips before the timed ones, on every side
const WARM_UP_IN_FLIGHT = 500; // requests before a timed throughput run, on every side
const PAYLOAD = new Uint8Array(1024).fill(7);

// The floor: a bare pyzmq echo server (same Python, same libzmq), REP or ROUTER.
const RAW_SERVER = `
import sys, zmq
kind, port = sys.argv[1], sys.argv[2]
ctx = zmq.Context()
s = ctx.socket(zmq.REP if kind == "rep" else zmq.ROUTER)
s.bind(f"tcp://127.0.0.1:{port}")
print("ready", flush=True)
if kind == "rep":
    while True:
        s.send(s.recv())
else:
    while True:
        s.send_multipart(s.recv_multipart())
`;

async function rawServer(kind: 'rep' | 'router'): Promise<{ endpoint: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(VENV_PYTHON, ['-c', RAW_SERVER, kind, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`raw ${kind} server exited ${code}`)));
  });
  return { endpoint: `tcp://127.0.0.1:${port}`, proc };
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const fmt = (v: number, d = 3) => String(round(v, d));

async function roundTrips(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  for (let i = 0; i < Math.min(WARM_UP, n); i++) await fn(); // warm-up: connections, JIT, caches
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(ms(process.hrtime.bigint() - t0));
  }
  return out;
}

async function throughput(fn: (i: number) => Promise<unknown>, total: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < total) await fn(next++);
  }));
  return total / (ms(process.hrtime.bigint() - t0) / 1000);
}

/** `n` synthetic 256 × 256 RGBA sprites (PNG), the same ones `python -m inference.ops.bench` times. */
export async function makeSprites(n: number): Promise<Uint8Array[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-bench-sprites-'));
  try {
    const files = Array.from({ length: n }, (_, i) => path.join(dir, `s${i}.png`));
    await new Promise<void>((resolve, reject) => execFile(VENV_PYTHON, ['-c',
      'import sys\nfrom inference.ops.bench import sprite\nfor i, p in enumerate(sys.argv[1:]):\n    open(p, "wb").write(sprite(i))', ...files],
    { cwd: PROJECT_ROOT, env: { ...process.env, PYTHONPATH: PROJECT_ROOT } }, (err) => (err ? reject(err) : resolve())));
    return files.map((f) => new Uint8Array(readFileSync(f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opsBench(): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(VENV_PYTHON, ['-m', 'inference.ops.bench', '--json'], { cwd: PROJECT_ROOT, env: { ...process.env, PYTHONPATH: PROJECT_ROOT }, timeout: 600_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!))));
  });
}

export async function runInferenceBench(): Promise<BenchRows> {
  const rows: BenchRows = [];
  const server = await startInferenceServer({ serverId: 'bench' });
  const client = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 30_000 });
  const rep = await rawServer('rep');
  const router = await rawServer('router');
  let seq = 0;
  const job = (op: string) => () => client.submit({ id: `bench-${process.pid}-${seq++}`, op, inputs: { data: PAYLOAD } });
  const echo = job('echo');
  const echoWorker = job('echo_worker');
  const echoWatched = () => client.submit({ id: `bench-${process.pid}-${seq++}`, op: 'echo', inputs: { data: PAYLOAD }, onProgress: () => undefined });
  try {
    // 1. Round trip, one at a time.
    const req = new Request({ linger: 0 });
    req.connect(rep.endpoint);
    const raw = await roundTrips(async () => { await req.send(PAYLOAD); await req.receive(); }, ROUND_TRIPS);
    req.close();
    const [rawP50, rawP99] = [percentile(raw, 50), percentile(raw, 99)];
    const roundTripRow = (name: string, through: number[]) => {
      const [p50, p95, p99] = [percentile(through, 50), percentile(through, 95), percentile(through, 99)];
      rows.push({
        name, baseline: `raw ZeroMQ REQ/REP echo: ${fmt(rawP50)} ms`,
        value: `${fmt(p50)} ms (p95 ${fmt(p95)}, p99 ${fmt(p99)} ms; raw p99 ${fmt(rawP99)} ms)`, ratio: round(p50 / rawP50, 2),
        details: { samples: ROUND_TRIPS, p50, p95, p99, rawP50, rawP99, p99Ratio: round(p99 / rawP99, 2) },
      });
    };
    roundTripRow('inference round trip, 1 KiB (p50)', await roundTrips(echo, ROUND_TRIPS));
    roundTripRow('inference round trip, 1 KiB (p50), through the worker thread (echo_worker)', await roundTrips(echoWorker, ROUND_TRIPS));
    roundTripRow('inference round trip, 1 KiB (p50), progress watched (onProgress)', await roundTrips(echoWatched, ROUND_TRIPS));

    // 2. Throughput, 16 in flight.
    const dealer = new Dealer({ linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 });
    dealer.connect(router.endpoint);
    const pending = new Map<number, () => void>();
    let sendChain: Promise<unknown> = Promise.resolve();
    void (async () => { for await (const [id] of dealer) pending.get(id.readUInt32LE(0))?.(); })().catch(() => undefined);
    const rawOne = (i: number) => new Promise<void>((resolve) => {
      pending.set(i, () => { pending.delete(i); resolve(); });
      const id = Buffer.alloc(4); id.writeUInt32LE(i);
      sendChain = sendChain.then(() => dealer.send([id, PAYLOAD]));
    });
    await throughput(rawOne, WARM_UP_IN_FLIGHT, IN_FLIGHT);
    const rawRate = await throughput((i) => rawOne(i + WARM_UP_IN_FLIGHT), THROUGHPUT_REQUESTS, IN_FLIGHT);
    dealer.close();
    for (const [name, fn] of [['', echo], [', through the worker thread (echo_worker)', echoWorker]] as const) {
      await throughput(fn, WARM_UP_IN_FLIGHT, IN_FLIGHT);
      const rate = await throughput(fn, THROUGHPUT_REQUESTS, IN_FLIGHT);
      rows.push({
        name: `inference throughput, ${IN_FLIGHT} in flight, 1 KiB${name}`, baseline: `raw DEALER/ROUTER echo: ${Math.round(rawRate)} req/s`,
        value: `${Math.round(rate)} req/s`, ratio: round(rate / rawRate, 3), details: { requests: THROUGHPUT_REQUESTS, rate, rawRate },
      });
    }

    // 2b. The same two measures from a plain pyzmq client (bench/pyzmq_echo.py; no progress subscription).
    const pyRun = await new Promise<{ raw: Record<string, number>; ops: Record<string, Record<string, number>> }>((resolve, reject) => execFile(VENV_PYTHON,
      [path.join(PROJECT_ROOT, 'bench', 'pyzmq_echo.py'), server.endpoint, rep.endpoint, router.endpoint, String(ROUND_TRIPS), String(THROUGHPUT_REQUESTS),
        String(WARM_UP), String(WARM_UP_IN_FLIGHT), 'echo', 'echo_worker'],
      { cwd: PROJECT_ROOT, timeout: 600_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!)))));
    const pyRaw = pyRun.raw;
    for (const [op, label] of [['echo', ''], ['echo_worker', ', through the worker thread (echo_worker)']] as const) {
      const py = pyRun.ops[op];
      rows.push({
        name: `inference round trip, 1 KiB (p50), plain pyzmq client${label}`, baseline: `raw pyzmq REQ/REP echo: ${fmt(pyRaw.rawP50)} ms`,
        value: `${fmt(py.p50)} ms (p95 ${fmt(py.p95)}, p99 ${fmt(py.p99)} ms; raw p99 ${fmt(pyRaw.rawP99)} ms)`, ratio: round(py.p50 / pyRaw.rawP50, 2),
        details: { ...py, ...pyRaw, p99Ratio: round(py.p99 / pyRaw.rawP99, 2) },
      });
      rows.push({
        name: `inference throughput, ${IN_FLIGHT} in flight, 1 KiB, plain pyzmq client${label}`, baseline: `raw pyzmq DEALER/ROUTER echo: ${Math.round(pyRaw.rawRate)} req/s`,
        value: `${Math.round(py.rate)} req/s`, ratio: round(py.rate / pyRaw.rawRate, 3),
      });
    }

    // 3. Pixelize on the CPU through the server (256x256 sprites → 64 px grid, 16 colours), one job in
    //    flight, like the baseline: the op called directly, one image at a time.
    const images = await makeSprites(8);
    const pix = (i: number) => client.submit({ id: `pix-${process.pid}-${seq++}`, op: 'pixelize', params: { width: 64, colors: 16, iterations: 12 }, inputs: { images: [images[i % images.length]] } });
    await pix(0);
    const serverRate = await throughput(pix, 32, 1);
    const direct = await opsBench();
    const pixDirect = direct.pixelize as Record<string, unknown>;
    const cpuDirect = Number(pixDirect.cpu_images_per_s);
    rows.push({
      name: 'pixelize on the CPU, images/s (256 px → 64 px grid, k=16)', baseline: `the op called directly: ${fmt(cpuDirect, 1)} images/s`,
      value: `${fmt(serverRate, 1)} images/s through the server, 1 in flight`, ratio: round(serverRate / cpuDirect, 2), details: { serverRate, cpuDirect, inFlight: 1, device: direct.device },
    });

    // 4. GPU rows.
    const gemmRows = Object.entries(direct).filter(([k]) => k.startsWith('gemm_'));
    if (String(direct.device).startsWith('cuda')) {
      for (const [key, v] of gemmRows) {
        const g = v as { op_tflops: number; torch_matmul_tflops: number; ratio: number };
        rows.push({ name: `GEMM ${key.slice(5)} TFLOPS (${direct.device})`, baseline: `torch.matmul loop: ${fmt(g.torch_matmul_tflops, 1)} TFLOPS`, value: `${fmt(g.op_tflops, 1)} TFLOPS`, ratio: round(g.ratio, 3) });
      }
      rows.push({ name: 'pixelize GPU vs CPU, images/s', baseline: `CPU: ${fmt(Number(pixDirect.cpu_images_per_s), 1)} images/s`, value: `GPU: ${fmt(Number(pixDirect.gpu_images_per_s), 1)} images/s`, ratio: round(Number(pixDirect.gpu_cpu_ratio), 2) });
    } else {
      const [key, v] = gemmRows[0] ?? ['gemm_', {}];
      const g = v as { op_tflops?: number; raw_matmul_tflops?: number; ratio?: number };
      rows.push({ name: 'GEMM TFLOPS vs torch.matmul', baseline: 'torch.matmul on a GPU', value: `no GPU here (CPU ${key.slice(5)}: ${fmt(g.op_tflops ?? NaN, 3)} TFLOPS vs bare matmul ${fmt(g.raw_matmul_tflops ?? NaN, 3)})`, ratio: g.ratio === undefined ? undefined : round(g.ratio, 3) });
      rows.push({ name: 'pixelize GPU/CPU ratio', baseline: 'pixelize on the CPU', value: 'no GPU here' });
    }
  } finally {
    client.close();
    rep.proc.kill('SIGKILL');
    router.proc.kill('SIGKILL');
    await server.stop();
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await runInferenceBench();
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${process.arch}, Node ${process.version}`;
  console.log(['| benchmark | baseline (same run) | result | ratio |', '| --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${r.baseline} | ${r.value} | ${r.ratio ?? ''} |`)].join('\n'));
  console.log(`\nmachine: ${machine}`);
  const date = new Date().toISOString();
  // --out-dir DIR: an exploratory run that must not land in bench/results/ (like bench/run.ts).
  const outDir = process.argv.includes('--out-dir') ? process.argv[process.argv.indexOf('--out-dir') + 1] : undefined;
  const out = resultsFile(outDir ?? path.join(PROJECT_ROOT, 'bench', 'results'), new Date(date), 'inference-');
  writeFileSync(out, `${JSON.stringify({ date, machine, rows }, null, 2)}\n`);
  console.log(`wrote ${path.relative(PROJECT_ROOT, out)}`);
}
