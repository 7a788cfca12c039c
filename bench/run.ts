// `npm run bench`: every benchmark against its baseline in one run on this machine; prints a table and
// writes one results file, bench/results/<yyyy-mm-ddThh-mm>.json (UTC; never overwritten). Figures are
// ratios to a baseline measured in the same run, or distributions (median and IQR of repetitions).
//
//   npm run bench [-- --only orchestration,scale,cold-start,inference,batching,cache,agent] [--reps 5] [--gates 50]
//   (orchestration = overhead,gates,dag: each may be named alone)
//                    [--scale-10k] [--sizes 200,2000] [--agents claude-code,codex] [--out-dir DIR]
// --out-dir writes the file elsewhere (a smoke run that must not land in bench/results/).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevServer } from '../test/helpers/temporal.ts';
import { PROJECT_ROOT } from '../host/paths.ts';
import { AGENTS } from '../plan/kinds/agent.ts';
import type { AgentName } from '../host/agents.ts';
import { runAgentBench } from './agent.ts';
import { runBatchingBench } from './batching.ts';
import { runColdStartBench } from './cold-start.ts';
import { runCacheBench } from './cache.ts';
import { runInferenceBench } from './inference.ts';
import { harness, runOrchestrationBench, type OrchestrationPart } from './orchestration.ts';
import { resultsFile } from './results-file.ts';
import { runScaleBench } from './scale.ts';
import type { BenchRow } from './stats.ts';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const PARTS = ['orchestration', 'scale', 'cold-start', 'inference', 'batching', 'cache', 'agent'];
const ORCHESTRATION: OrchestrationPart[] = ['overhead', 'gates', 'dag'];
const only = arg('--only')?.split(',');
for (const part of only ?? []) {
  if (!PARTS.includes(part) && !ORCHESTRATION.includes(part as OrchestrationPart)) throw new Error(`--only ${part}: one of ${[...PARTS, ...ORCHESTRATION].join(', ')}`);
}
const orchestrationParts = ORCHESTRATION.filter((p) => !only || only.includes('orchestration') || only.includes(p));
const want = (part: string) => !only || only.includes(part) || (part === 'orchestration' && orchestrationParts.length > 0);
const reps = Number(arg('--reps') ?? 5);
const gates = Number(arg('--gates') ?? 50);
const sizes = arg('--sizes')?.split(',').map(Number) ?? [200, 2000, ...(process.argv.includes('--scale-10k') ? [10_000] : [])];
const agents = (arg('--agents')?.split(',') ?? [...AGENTS]) as AgentName[];
for (const agent of agents) if (!(AGENTS as readonly string[]).includes(agent)) throw new Error(`--agents ${agent}: one of ${AGENTS.join(', ')}`);
const rows: BenchRow[] = [];
const started = new Date();
const loadAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);

if (want('orchestration') || want('scale')) {
  const env = await startDevServer();
  try {
    if (want('orchestration')) rows.push(...await runOrchestrationBench(env, { reps, gates, parts: orchestrationParts }));
    if (want('scale')) {
      const h = await harness(env);
      try { rows.push(...await runScaleBench(h, sizes)); } finally { await h.stop(); }
    }
  } finally {
    await env.teardown();
  }
}
if (want('cold-start')) rows.push(...await runColdStartBench(Math.max(1, Math.min(reps, 3))));
if (want('inference')) {
  console.log('· inference …');
  rows.push(...await runInferenceBench());
}
if (want('batching')) rows.push(...await runBatchingBench());
if (want('cache')) rows.push(...await runCacheBench());
if (want('agent')) {
  const env = await startDevServer(); // a server of its own: no scaling run's thousands of histories under it
  try { rows.push(...await runAgentBench(env, { reps, agents })); } finally { await env.teardown(); }
}

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), arch: process.arch, node: process.version, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100), loadavgAtStart: loadAtStart };
const out = resultsFile(arg('--out-dir') ?? path.join(PROJECT_ROOT, 'bench', 'results'), started);
writeFileSync(out, `${JSON.stringify({ date: started.toISOString(), finished: new Date().toISOString(), machine, options: { only: only ?? PARTS, reps, gates, sizes, agents }, rows }, null, 2)}\n`);

const table = [
  '| benchmark | baseline (same run) | result | ratio |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.baseline} | ${r.value} | ${r.ratio ?? ''} |`),
].join('\n');
console.log(`\n${table}\n\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memGiB} GiB, ${machine.arch}, Node ${machine.node}; load average at the start ${loadAtStart.join(' ')}, at the end ${machine.loadavg.join(' ')}\nwrote ${path.relative(PROJECT_ROOT, out) || out}`);

