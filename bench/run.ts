// `npm run bench`: every benchmark against its baseline in one run on this machine; prints a table and
// writes bench/results/<date>.json. Figures are ratios to a baseline measured in the same run, or
// latency distributions, never absolute claims from another machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevServer } from '../test/helpers/temporal.ts';
import { PROJECT_ROOT } from '../host/paths.ts';
import { runInferenceBench } from './inference.ts';
import { runOrchestrationBench } from './orchestration.ts';
import type { BenchRow } from './stats.ts';

const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const rows: BenchRow[] = [];

if (!only || only === 'orchestration') {
  const env = await startDevServer();
  try {
    rows.push(...await runOrchestrationBench(env));
  } finally {
    await env.teardown();
  }
}

if (!only || only === 'inference') {
  console.log('· inference …');
  rows.push(...await runInferenceBench());
}

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), arch: process.arch, node: process.version };
const date = new Date().toISOString();
const dir = path.join(PROJECT_ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const out = path.join(dir, `${date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify({ date, machine, rows }, null, 2)}\n`);

const table = [
  '| benchmark | baseline (same run) | result | ratio |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.baseline} | ${r.value} | ${r.ratio ?? ''} |`),
].join('\n');
console.log(`\n${table}\n\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB, ${machine.arch}, Node ${machine.node}\nwrote ${path.relative(PROJECT_ROOT, out)}`);
