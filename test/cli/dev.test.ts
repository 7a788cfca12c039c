// `sparky dev`: its help names the ports it reads; `--server-only` serves Temporal and the Web UI
// without workers, so a worker started as its own process runs the steps and can be killed alone;
// `sparky run` points at the Web UI on SPARKY_UI_PORT (not a hard-coded 8233).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { freePort } from '../../host/ports.ts';
import { PROJECT_ROOT, TEMPORAL_BIN } from '../../host/paths.ts';
import { eventually, sleep } from '../helpers/wait.ts';

const sparky = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), ...args],
    { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', timeout: 120_000, env });

test('sparky dev --help names --server-only and the port variables', async () => {
  const help = await sparky(['dev', '--help']);
  assert.equal(help.exitCode, 0, help.all);
  for (const text of ['--server-only', 'SPARKY_TEMPORAL_PORT', 'SPARKY_UI_PORT', 'in this same process']) assert.ok(help.all!.includes(text), `help lacks ${text}:\n${help.all}`);
});

test('sparky dev --server-only: no workers inside; a separate worker process runs the steps and stops alone', { timeout: 240_000 }, async (t) => {
  if (!existsSync(TEMPORAL_BIN)) { t.skip('run `npm run setup` first: the Temporal CLI is missing'); return; }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-dev-'));
  const port = await freePort();
  let uiPort = await freePort();
  while (uiPort === port) uiPort = await freePort();
  let boardPort = await freePort();
  while (boardPort === port || boardPort === uiPort) boardPort = await freePort();
  const env = { SPARKY_DATA_DIR: dir, SPARKY_TEMPORAL_PORT: String(port), SPARKY_UI_PORT: String(uiPort), SPARKY_BOARD_PORT: String(boardPort), SPARKY_UI_URL: '', TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
  const dev = execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'dev', '--server-only'],
    { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', env, timeout: 200_000 });
  let devOut = '';
  dev.all!.on('data', (chunk: Buffer) => { devOut += chunk.toString(); });
  let worker: ReturnType<typeof execa> | undefined;
  try {
    await eventually('the dev server banner', async () => devOut, (o) => /workers +none in this process \(--server-only\)/.test(o), 90_000);
    assert.match(devOut, new RegExp(`Web UI +http://127\\.0\\.0\\.1:${uiPort}`));
    // The Sparky board on its own port (SPARKY_BOARD_PORT), printed beside the Web UI, answering.
    assert.match(devOut, new RegExp(`Sparky board +http://localhost:${boardPort}`));
    const page = await fetch(`http://127.0.0.1:${boardPort}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Sparky board/);

    const plan = path.join(dir, 'p.plan.yaml');
    writeFileSync(plan, 'name: server-only\nphases:\n  - id: p\n    domains: [{ id: d, workstreams: [{ id: w, steps: [{ id: s, kind: shell, run: [uname] }] }] }]\n');
    const started = await sparky(['run', plan], env);
    assert.equal(started.exitCode, 0, started.all);
    // The Web UI link follows SPARKY_UI_PORT.
    assert.match(started.all!, new RegExp(`Web UI: +http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/sparky-server-only-`));
    const runId = /started (\S+)/.exec(started.all!)![1];
    // Nothing in the dev process polls the task queue: no workflow task of the run has started.
    const client = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
    await sleep(2_000);
    const history = await client.workflow.getHandle(runId).fetchHistory();
    assert.ok(!history.events!.some((e) => e.workflowTaskStartedEventAttributes), 'a worker inside the dev process took the run');

    worker = execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', 'cpu.ts')],
      { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', env: { ...env, SPARKY_LOG_DIR: path.join(dir, 'logs') } });
    await eventually('the run to complete on the separate worker', () => sparky(['status', runId, '--json'], env),
      (r) => r.exitCode === 0 && JSON.parse(r.stdout).state === 'completed', 120_000);

    // The worker is killed on its own; the dev server keeps serving.
    worker.kill('SIGTERM');
    await worker;
    assert.equal(dev.exitCode, null, 'the dev process went down with the worker');
    assert.equal((await client.workflow.getHandle(runId).describe()).status.name, 'COMPLETED', 'the dev server stopped answering');
    await client.connection.close();
  } finally {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    dev.kill('SIGINT');
    await dev;
  }
  assert.match(devOut, /stack stopped/);
});
