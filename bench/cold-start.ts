// Cold-start benchmark: what `npm start` does after its setup check (`tsx cli/sparky.ts dev --run
// examples/dgx-pixels.plan.yaml`), timed from the spawn to the first step running (or already done),
// as the `status` query of the run reports it. Each start gets its own free ports and its own fresh
// SPARKY_DATA_DIR: the first an empty one (nothing cached: the workflow bundle is built, the database
// created); the later ones a copy of the first's bundle cache only (what a second `npm start` finds,
// without the first's unfinished run competing for the machine). `scripts/setup` itself is not timed:
// `npm run bench` has just run it, and on a set-up machine it only compares stamps.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../host/ports.ts';
import { PROJECT_ROOT } from '../host/paths.ts';
import type { RunStatus } from '../workflows/status.ts';
import { fmtSummary, round, summarize, type BenchRow } from './stats.ts';

const PLAN = 'examples/dgx-pixels.plan.yaml';
const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oneStart(dataDir: string, timeoutMs = 180_000): Promise<{ ms: number; workflowId: string }> {
  const port = await freePort();
  const uiPort = await freePort();
  const t0 = performance.now();
  const proc = spawn(TSX, ['cli/sparky.ts', 'dev', '--run', PLAN, '--new-run'], {
    cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SPARKY_DATA_DIR: dataDir, SPARKY_TEMPORAL_PORT: String(port), SPARKY_UI_PORT: String(uiPort) },
  });
  let out = '';
  let exited: number | null = null;
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const done = new Promise<void>((resolve) => proc.once('exit', (code) => { exited = code ?? -1; resolve(); }));
  let client: Client | undefined;
  try {
    for (;;) {
      if (exited !== null) throw new Error(`sparky dev exited ${exited} before a step ran:\n${out.slice(-2000)}`);
      if (performance.now() - t0 > timeoutMs) throw new Error(`no step running after ${timeoutMs} ms:\n${out.slice(-2000)}`);
      const id = /npx sparky status (\S+)/.exec(out)?.[1];
      if (id) {
        client ??= new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
        const status = await client.workflow.getHandle(id).query<RunStatus>('status').catch(() => undefined);
        const steps = status?.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps))) ?? [];
        if (steps.some((s) => s.state !== 'pending')) return { ms: performance.now() - t0, workflowId: id };
      }
      await sleep(50);
    }
  } finally {
    await client?.connection.close().catch(() => undefined);
    if (exited === null) {
      proc.kill('SIGINT'); // sparky dev stops its stack cleanly
      const stopped = await Promise.race([done.then(() => true), sleep(30_000).then(() => false)]);
      if (!stopped && proc.pid) process.kill(-proc.pid, 'SIGKILL'); // its own process group (detached)
    }
  }
}

export async function runColdStartBench(warmStarts = 3, log = console.log): Promise<BenchRow[]> {
  const dirs = [mkdtempSync(path.join(os.tmpdir(), 'sparky-bench-coldstart-'))];
  try {
    log('· cold start: first `sparky dev --run` on an empty data dir …');
    const cold = await oneStart(dirs[0]);
    const warm: number[] = [];
    for (let i = 0; i < warmStarts; i++) {
      log(`· cold start: start ${i + 2} on a fresh data dir with the bundle cache …`);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-bench-coldstart-'));
      dirs.push(dir);
      cpSync(path.join(dirs[0], 'cache'), path.join(dir, 'cache'), { recursive: true });
      warm.push((await oneStart(dir)).ms);
    }
    const w = summarize(warm.map((x) => x / 1000));
    return [{
      name: `cold start: \`npm start\` (after setup) → first step running, empty data dir`,
      baseline: 'goal ≤ 20 s',
      value: `${round(cold.ms / 1000)} s`,
      details: { ms: round(cold.ms), plan: PLAN },
    }, {
      name: 'cold start, later starts (workflow bundle cached, fresh database)',
      baseline: 'goal ≤ 20 s',
      value: `${fmtSummary(w, ' s')}`,
      details: { seconds: w, plan: PLAN },
    }];
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
