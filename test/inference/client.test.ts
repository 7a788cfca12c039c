// The TypeScript client against a real inference server process: round trips, many in flight,
// progress, cancel, retries on BUSY and on its own timeout with the same id (the server dedups).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { curveKeyPair } from 'zeromq';
import { InferenceClient, InferenceError, type ProgressEvent } from '../../activities/inference-client.ts';
import { startInferenceServer, type InferenceServerHandle } from '../../host/inference-server.ts';
import { sleep } from '../helpers/wait.ts';

let server: InferenceServerHandle;
let client: InferenceClient;
const PLUGIN = ['--ops-module', 'inference.tests.plugin_ops'];

before(async () => {
  server = await startInferenceServer({ serverId: 'ts-client', extraArgs: PLUGIN });
  client = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 10_000 });
});
after(async () => { client?.close(); await server?.stop(); });

test('ping, status and ops round trips', async () => {
  assert.equal((await client.ping()).server_id, 'ts-client');
  const status = await client.status();
  assert.equal(status.protocol, 1);
  assert.ok((status.ops as string[]).includes('pixelize'));
  const ops = (await client.ops()).ops as { name: string }[];
  assert.ok(ops.some((o) => o.name === 'sleep'));
  assert.match(server.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
});

test('many requests in flight on one DEALER, matched by id', async () => {
  const jobs = Array.from({ length: 16 }, (_, i) => client.submit({ id: `many-${Date.now()}-${i}`, op: 'gemm', params: { size: 16 + i, iterations: 2 } }));
  const replies = await Promise.all(jobs);
  replies.forEach((r, i) => assert.equal(r.result.size, 16 + i));
});

test('progress events arrive in sequence and end with done', async () => {
  const events: ProgressEvent[] = [];
  const reply = await client.submit({ id: `progress-${Date.now()}`, op: 'gemm', params: { size: 256, iterations: 300 }, onProgress: (e) => events.push(e) });
  assert.ok((reply.result.tflops as number) > 0);
  assert.ok(events.length >= 2, `only ${events.length} events`);
  // Every multiply reports; the last one of a stage is never throttled away.
  assert.ok(events.some((e) => e.stage === 'running' && e.done === 300 && e.total === 300), JSON.stringify(events.slice(-3)));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq);
});

test('a job without onProgress is watched once it runs long: its events keep the attempt alive', async () => {
  // requestTimeoutMs 400 and a job of a few seconds: only the late subscription (after watchAfterMs)
  // hears the job's progress in time; without it the attempt would time out and retry.
  const short = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 400, watchAfterMs: 50, retries: 0 });
  try {
    const reply = await short.submit({ id: `late-watch-${Date.now()}`, op: 'gemm', params: { size: 384, iterations: 1500 } });
    assert.equal(reply.attempts, 1);
    assert.ok((reply.meta.run_ms as number) > 400, `the job ran ${String(reply.meta.run_ms)} ms: too short to show anything`);
  } finally {
    short.close();
  }
});

test("onProgress with watch: 'late' (Sparky's inference step): a short job brings no events, a long one does and stays alive", async () => {
  const late = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 400, watchAfterMs: 50, retries: 0 });
  try {
    // (A short job watched from the start may or may not hear its events: the subscription races the
    // job to the server. Watched late, it never subscribes.)
    const quick: ProgressEvent[] = [];
    const reply0 = await late.submit({ id: `late-quick-${Date.now()}`, op: 'gemm', params: { size: 16, iterations: 2 }, watch: 'late', onProgress: (e) => quick.push(e) });
    assert.equal(reply0.result.size, 16);
    assert.equal(quick.length, 0, 'a job answered within watchAfterMs is not watched');
    const long: ProgressEvent[] = [];
    const reply = await late.submit({ id: `late-long-${Date.now()}`, op: 'gemm', params: { size: 384, iterations: 1500 }, watch: 'late', onProgress: (e) => long.push(e) });
    assert.equal(reply.attempts, 1, 'its events kept the 400 ms attempt alive');
    assert.ok(long.some((e) => e.stage === 'running'), `events heard: ${long.length}`);
  } finally {
    late.close();
  }
});

test('aborting a submit cancels the job on the server', async () => {
  const controller = new AbortController();
  const id = `abort-${Date.now()}`;
  const running = client.submit({ id, op: 'sleep', params: { ms: 60_000 }, signal: controller.signal });
  await sleep(300);
  controller.abort();
  await assert.rejects(running, (err: InferenceError) => err.code === 'CANCELLED' && !err.retryable);
  // The server stopped it: nothing is in flight a moment later, and the id answers CANCELLED.
  for (let i = 0; i < 50 && (await client.status()).in_flight !== 0; i++) await sleep(50);
  assert.equal((await client.status()).in_flight, 0);
  assert.equal(await client.cancel(id), 'finished');
});

test('a client timeout retries with the same id and joins the running job (it runs once)', async () => {
  const short = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 400, backoffInitialMs: 50 });
  try {
    const reply = await short.submit({ id: `dedup-${Date.now()}`, op: 'sleep', params: { ms: 1500 } });
    assert.ok(reply.attempts >= 2, `attempts ${reply.attempts}`);
    assert.equal(reply.result.runs, 1);
  } finally {
    short.close();
  }
});

test('BUSY is retried with backoff until the queue has room', async () => {
  const busyServer = await startInferenceServer({ serverId: 'busy', extraArgs: [...PLUGIN, '--max-queue', '1'] });
  const c = new InferenceClient({ endpoint: busyServer.endpoint, progressEndpoint: busyServer.progressEndpoint, backoffInitialMs: 100, retries: 10 });
  try {
    const first = c.submit({ id: 'busy-0', op: 'sleep', params: { ms: 600 } });
    await sleep(100);
    const rest = await Promise.all([1, 2, 3].map((i) => c.submit({ id: `busy-${i}`, op: 'sleep', params: { ms: 50 } })));
    await first;
    assert.ok(rest.some((r) => r.attempts > 1), 'some submits met BUSY and were retried');
    const noRetry = new InferenceClient({ endpoint: busyServer.endpoint, progressEndpoint: busyServer.progressEndpoint, retries: 0 });
    const hold = c.submit({ id: 'busy-hold', op: 'sleep', params: { ms: 500 } });
    await sleep(100);
    const queued = c.submit({ id: 'busy-queued', op: 'sleep', params: { ms: 10 } });
    await sleep(50);
    await assert.rejects(noRetry.submit({ id: 'busy-x', op: 'sleep', params: { ms: 10 } }), (err: InferenceError) => err.code === 'BUSY' && err.retryable);
    await Promise.all([hold, queued]);
    noRetry.close();
  } finally {
    c.close();
    await busyServer.stop();
  }
});

test('non-retryable errors come back at once with their code', async () => {
  await assert.rejects(client.submit({ id: `unknown-${Date.now()}`, op: 'no-such-op' }), (err: InferenceError) => err.code === 'UNKNOWN_OP' && !err.retryable);
  await assert.rejects(client.submit({ id: `bad-${Date.now()}`, op: 'gemm', params: { size: 'big' } }), (err: InferenceError) => err.code === 'BAD_REQUEST');
});

test('an unreachable server fails with UNREACHABLE after the retries', async () => {
  const c = new InferenceClient({ endpoint: 'tcp://127.0.0.1:1', progressEndpoint: 'tcp://127.0.0.1:2', requestTimeoutMs: 150, retries: 1, backoffInitialMs: 10 });
  try {
    await assert.rejects(c.submit({ id: 'nowhere', op: 'gemm' }), (err: InferenceError) => err.code === 'UNREACHABLE' && err.retryable);
  } finally {
    c.close();
  }
});

test('attempts share one timer: a short timeout after a long one fires on time, a touched one waits', async () => {
  const c = new InferenceClient({ endpoint: 'tcp://127.0.0.1:1', progressEndpoint: 'tcp://127.0.0.1:2', requestTimeoutMs: 5_000, retries: 0 });
  try {
    const long = c.submit({ id: 'long-wait', op: 'gemm' });
    long.catch(() => undefined);
    const t0 = performance.now();
    await assert.rejects(c.submit({ id: 'short-wait', op: 'gemm', requestTimeoutMs: 150 }), (err: InferenceError) => err.code === 'UNREACHABLE');
    const took = performance.now() - t0;
    assert.ok(took >= 140 && took < 2_000, `the short attempt timed out after ${took} ms`);
    // The long one is still waiting (its own timeout is later); closing the client answers it.
    const state = await Promise.race([long.then(() => 'settled', () => 'settled'), sleep(50).then(() => 'pending')]);
    assert.equal(state, 'pending');
    c.close();
    await assert.rejects(long, (err: InferenceError) => err.code === 'UNREACHABLE');
  } finally {
    c.close();
  }
  // Progress re-arms an attempt's timeout: a job longer than requestTimeoutMs that reports progress succeeds.
  const watched = new InferenceClient({ endpoint: server.endpoint, progressEndpoint: server.progressEndpoint, requestTimeoutMs: 400, retries: 0 });
  try {
    const events: ProgressEvent[] = [];
    const reply = await watched.submit({ id: `touched-${Date.now()}`, op: 'ticks', params: { ms: 1_200 }, onProgress: (e) => events.push(e) });
    assert.equal(reply.attempts, 1);
    assert.ok(events.length >= 3, `progress events: ${events.length}`);
  } finally {
    watched.close();
  }
});

test('CURVE: the client with keys is served, one without gets nothing', async () => {
  const serverKeys = curveKeyPair();
  const mine = curveKeyPair();
  const keys = { serverPublicKey: serverKeys.publicKey, publicKey: mine.publicKey, secretKey: mine.secretKey };
  const secure = await startInferenceServer({ serverId: 'curve', curve: { serverSecretKey: serverKeys.secretKey, client: keys } });
  const keyed = new InferenceClient({ endpoint: secure.endpoint, progressEndpoint: secure.progressEndpoint, curve: keys });
  const plain = new InferenceClient({ endpoint: secure.endpoint, progressEndpoint: secure.progressEndpoint });
  try {
    assert.equal((await keyed.ping()).server_id, 'curve');
    assert.equal((await keyed.submit({ id: 'curve-job', op: 'echo', inputs: { data: new Uint8Array([1, 2]) } })).result.device !== undefined, true);
    await assert.rejects(plain.ping(1_000), (err: InferenceError) => err.code === 'TIMEOUT' || err.code === 'UNREACHABLE');
  } finally {
    keyed.close();
    plain.close();
    await secure.stop();
  }
});

test('a missing venv python is reported with the fix', async () => {
  await assert.rejects(startInferenceServer({ python: '/nonexistent/python' }), /npm run setup/);
});
