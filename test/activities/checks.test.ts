// Every gate check kind passes and fails, through a real workflow and worker, with what it measured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRunnerHarness, type RunnerHarness } from './harness.ts';

let h: RunnerHarness;
let server: http.Server;
let base: string;
before(async () => {
  h = await startRunnerHarness();
  server = http.createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    res.statusCode = req.url === '/health' ? 200 : req.url === '/down' ? 503 : 404;
    res.end(req.url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server?.closeAllConnections();
  server?.close();
  await h?.stop();
});

test('command: exit 0 passes (measured 0); a non-zero exit fails with the code and the last line', async () => {
  const ok = await h.runCheck({ id: 'ok', kind: 'command', run: ['sh', '-c', 'echo all good'] });
  assert.deepEqual([ok.passed, ok.measured, ok.kind, ok.id], [true, 0, 'command', 'ok']);
  const bad = await h.runCheck({ id: 'bad', kind: 'command', run: ['sh', '-c', 'echo "3 tests failed"; exit 3'] });
  assert.equal(bad.passed, false);
  assert.equal(bad.measured, 3);
  assert.match(bad.message, /exited 3: 3 tests failed/);
  const missing = await h.runCheck({ id: 'missing', kind: 'command', run: ['sparky-no-such-program'] });
  assert.equal(missing.passed, false);
  assert.match(missing.message, /could not start/);
  const slow = await h.runCheck({ id: 'slow', kind: 'command', run: ['sleep', '30'], timeout: '500ms' });
  assert.deepEqual([slow.passed, slow.measured], [false, 'timeout']);
});

test('file: exists / missing, and a JSON field against equals, atLeast and atMost', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-checks-'));
  const file = path.join(dir, 'report.json');
  writeFileSync(file, JSON.stringify({ eval: { accuracy: 0.91, runs: [{ status: 'ok' }] }, model: 'pixel-v2' }));
  const exists = await h.runCheck({ id: 'exists', kind: 'file', path: file });
  assert.deepEqual([exists.passed, exists.measured], [true, true]);
  const missing = await h.runCheck({ id: 'missing', kind: 'file', path: path.join(dir, 'nope.json') });
  assert.deepEqual([missing.passed, missing.measured], [false, false]);
  assert.match(missing.message, /does not exist/);
  const eq = await h.runCheck({ id: 'eq', kind: 'file', path: file, field: 'model', equals: 'pixel-v2' });
  assert.deepEqual([eq.passed, eq.measured], [true, 'pixel-v2']);
  const nested = await h.runCheck({ id: 'nested', kind: 'file', path: file, field: 'eval.runs[0].status', equals: 'ok' });
  assert.deepEqual([nested.passed, nested.measured], [true, 'ok']);
  const high = await h.runCheck({ id: 'high', kind: 'file', path: file, field: 'eval.accuracy', atLeast: 0.95 });
  assert.deepEqual([high.passed, high.measured], [false, 0.91]);
  assert.match(high.message, /eval\.accuracy: 0\.91 < 0\.95/);
  const range = await h.runCheck({ id: 'range', kind: 'file', path: file, field: 'eval.accuracy', atLeast: 0.9, atMost: 1 });
  assert.deepEqual([range.passed, range.measured], [true, 0.91]);
  const absent = await h.runCheck({ id: 'absent', kind: 'file', path: file, field: 'eval.loss', atMost: 1 });
  assert.deepEqual([absent.passed, absent.measured], [false, null]);
  assert.match(absent.message, /eval\.loss is missing/);
});

test('metric: an earlier step\'s output against thresholds; a missing metric fails naming what exists', async () => {
  const outputs = { 'train.eval': { accuracy: 0.93, scores: { fid: 12.5 } }, 'build.image': { image: 'x' } };
  const pass = await h.runCheck({ id: 'acc', kind: 'metric', metric: 'train.eval.accuracy', atLeast: 0.9 }, outputs);
  assert.deepEqual([pass.passed, pass.measured], [true, 0.93]);
  assert.match(pass.message, /0\.93 ≥ 0\.9/);
  const fail = await h.runCheck({ id: 'fid', kind: 'metric', metric: 'train.eval.scores.fid', atMost: 10 }, outputs);
  assert.deepEqual([fail.passed, fail.measured], [false, 12.5]);
  assert.match(fail.message, /12\.5 > 10/);
  const eq = await h.runCheck({ id: 'img', kind: 'metric', metric: 'build.image.image', equals: 'y' }, outputs);
  assert.deepEqual([eq.passed, eq.measured], [false, 'x']);
  const nothing = await h.runCheck({ id: 'none', kind: 'metric', metric: 'train.eval.loss', atMost: 1 }, outputs);
  assert.equal(nothing.passed, false);
  assert.match(nothing.message, /has no output loss \(it has: accuracy, scores\)/);
  const unknown = await h.runCheck({ id: 'unknown', kind: 'metric', metric: 'deploy.up.latency', atMost: 1 }, outputs);
  assert.match(unknown.message, /known: train\.eval, build\.image/);
});

test('http: 2xx passes with its status; 503, refused connections and timeouts fail with what was measured', async () => {
  const ok = await h.runCheck({ id: 'ok', kind: 'http', url: `${base}/health` });
  assert.deepEqual([ok.passed, ok.measured], [true, 200]);
  const down = await h.runCheck({ id: 'down', kind: 'http', url: `${base}/down` });
  assert.deepEqual([down.passed, down.measured], [false, 503]);
  assert.match(down.message, /answered 503 \(expected 2xx\)/);
  const expected = await h.runCheck({ id: 'expected', kind: 'http', url: `${base}/down`, expectStatus: 503 });
  assert.deepEqual([expected.passed, expected.measured], [true, 503]);
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = await h.runCheck({ id: 'refused', kind: 'http', url: `http://127.0.0.1:${closedPort}/health` });
  assert.deepEqual([refused.passed, refused.measured], [false, 'ECONNREFUSED']);
  const hang = await h.runCheck({ id: 'hang', kind: 'http', url: `${base}/hang`, timeout: '500ms' });
  assert.deepEqual([hang.passed, hang.measured], [false, 'no answer within 0.5s']);
  assert.ok(hang.durationMs >= 450 && hang.durationMs < 5_000, `took ${hang.durationMs}ms`);
});
