// Dynamic batching benchmark (inference server, on the CPU): pixelize jobs (one 256 px sprite each → 64
// px grid, k = 16) through a server started with batching on (--max-batch 8, --batch-wait-ms 5), at 8
// jobs in flight against 1 in flight on the same server; rounds alternate between the two. Reported:
// throughput ratio (goal ≥ 2×) and p95 latency ratio (goal ≤ 1.5×), the mean batch size the server
// reported, and, for reference, 8 in flight on a server without batching (--max-batch 1): what
// pipelining alone gives. `npx tsx bench/batching.ts` runs it alone (prints, writes no file).
// SPARKY_BENCH_GPU=<n> runs the same on that GPU instead of the CPU (Triton's published dynamic-batching
// gain, 73 → 272 inferences/s at concurrency 8, is the anchor there).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceClient } from '../activities/inference-client.ts';
import { startInferenceServer } from '../host/inference-server.ts';
import { makeSprites } from './inference.ts';
import { fmtSummary, percentile, round, summarize, type BenchRow } from './stats.ts';

const JOBS = Number(process.env.SPARKY_BENCH_BATCH_JOBS ?? 64);
const ROUNDS = Number(process.env.SPARKY_BENCH_BATCH_ROUNDS ?? 3);
const MAX_BATCH = 8;
const WAIT_MS = 5;
const PARAMS = { width: 64, colors: 16, iterations: 12 };
const GPU = process.env.SPARKY_BENCH_GPU ? Number(process.env.SPARKY_BENCH_GPU) : undefined;
const WHERE = GPU === undefined ? 'the CPU' : `GPU ${GPU}`;

interface Round { rate: number; latencies: number[]; batchSizes: number[] }

async function serve(maxBatch: number) {
  const server = await startInferenceServer({ serverId: `bench-batch-${maxBatch}`, gpu: GPU, extraArgs: ['--max-batch', String(maxBatch), '--batch-wait-ms', String(WAIT_MS)] });
  const client = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 60_000 });
  return { server, client };
}

let seq = 0;

async function round1(client: InferenceClient, images: Uint8Array[], jobs: number, inFlight: number): Promise<Round> {
  const latencies: number[] = [];
  const batchSizes: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < jobs) {
      const i = next++;
      const s = performance.now();
      const reply = await client.submit({ id: `batch-${process.pid}-${seq++}`, op: 'pixelize', params: PARAMS, inputs: { images: [images[i % images.length]] } });
      latencies.push(performance.now() - s);
      batchSizes.push(Number(reply.meta.batch_size ?? 1));
    }
  }));
  return { rate: jobs / ((performance.now() - t0) / 1000), latencies, batchSizes };
}

export async function runBatchingBench(log = console.log): Promise<BenchRow[]> {
  log(`· dynamic batching: pixelize, 8 vs 1 in flight (${ROUNDS} rounds of ${JOBS} jobs each) …`);
  const images = await makeSprites(8);
  const batched = await serve(MAX_BATCH);
  const plain = await serve(1);
  try {
    // Warm-up on both servers (imports, first allocations), then rounds that alternate the order.
    await round1(batched.client, images, 8, 8); await round1(batched.client, images, 4, 1); await round1(plain.client, images, 8, 8);
    const one: Round[] = []; const eight: Round[] = []; const plain8: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ['1', '8', 'p'] : ['p', '8', '1'];
      for (const o of order) {
        if (o === '1') one.push(await round1(batched.client, images, Math.max(8, JOBS / 4), 1));
        else if (o === '8') eight.push(await round1(batched.client, images, JOBS, 8));
        else plain8.push(await round1(plain.client, images, JOBS, 8));
      }
    }
    const rate = (rs: Round[]) => summarize(rs.map((x) => x.rate), 1);
    const p95 = (rs: Round[]) => round(percentile(rs.flatMap((x) => x.latencies), 95), 1);
    const p50 = (rs: Round[]) => round(percentile(rs.flatMap((x) => x.latencies), 50), 1);
    const meanBatch = (rs: Round[]) => { const b = rs.flatMap((x) => x.batchSizes); return round(b.reduce((a, c) => a + c, 0) / b.length, 2); };
    const [r1, r8, rp] = [rate(one), rate(eight), rate(plain8)];
    return [{
      name: `dynamic batching: pixelize on ${WHERE}, 8 in flight (--max-batch ${MAX_BATCH}, --batch-wait-ms ${WAIT_MS})`,
      baseline: `1 in flight, same server: ${fmtSummary(r1, ' images/s', 1)}, p95 ${p95(one)} ms`,
      value: `${fmtSummary(r8, ' images/s', 1)}, p95 ${p95(eight)} ms (${round(p95(eight) / p95(one), 2)}× the 1-in-flight p95), mean batch ${meanBatch(eight)}`,
      ratio: round(r8.median / r1.median, 2),
      details: {
        inFlight1: { imagesPerS: r1, p50Ms: p50(one), p95Ms: p95(one), meanBatch: meanBatch(one) },
        inFlight8: { imagesPerS: r8, p50Ms: p50(eight), p95Ms: p95(eight), meanBatch: meanBatch(eight) },
        inFlight8NoBatching: { imagesPerS: rp, p50Ms: p50(plain8), p95Ms: p95(plain8) },
        p95Ratio: round(p95(eight) / p95(one), 2), jobsPerRound: JOBS, rounds: ROUNDS, params: PARAMS, device: batched.server.device,
      },
    }, {
      name: `dynamic batching on ${WHERE}: 8 in flight, batching on vs off`,
      baseline: `--max-batch 1 (pipelining only): ${fmtSummary(rp, ' images/s', 1)}, p95 ${p95(plain8)} ms`,
      value: `${fmtSummary(r8, ' images/s', 1)}`,
      ratio: round(r8.median / rp.median, 2),
    }];
  } finally {
    batched.client.close(); plain.client.close();
    await Promise.all([batched.server.stop(), plain.server.stop()]);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await runBatchingBench();
  console.log(rows.map((r) => `${r.name}\n  baseline: ${r.baseline}\n  result:   ${r.value}\n  ratio:    ${r.ratio}`).join('\n'));
}
