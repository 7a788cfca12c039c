// Orchestration benchmarks, each against a baseline measured in the same run on the same server:
//  - overhead: 200 no-op steps in 4 domains with one auto-approved gate vs a bare workflow running the
//    same 200 activities with the same parallelism;
//  - gate latency: approval signal → first step of the next phase started, over 50 gates;
//  - parallel speed-up: a DAG of timed steps vs its critical path and vs running them one by one.
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { SparkyActivities, StepActivityInput } from '../common/activity-types.ts';
import type { Plan } from '../plan/schema.ts';
import { startCpuWorker } from '../workers/cpu.ts';
import { workflowBundle } from '../workers/workflow-bundle.ts';
import type { RunStatus } from '../workflows/status.ts';
import { percentile, round, type BenchRow } from './stats.ts';

const NOOP = ['true'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** performance.now() at which each `<workstream>/<step>` activity started (first attempt). */
  started: Map<string, number>;
  stop(): Promise<void>;
}

async function harness(env: TestWorkflowEnvironment): Promise<Harness> {
  const taskQueue = 'bench-sparky';
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-bench-'));
  const real = createActivities({ logDir });
  const started = new Map<string, number>();
  const activities: SparkyActivities = {
    runStep: async (input) => {
      const key = `${input.ctx.workstreamId}/${input.ctx.stepId}`;
      if (!started.has(key)) started.set(key, performance.now());
      return real.runStep(input);
    },
    runGateCheck: real.runGateCheck,
    notify: real.notify,
  };
  const worker = await startCpuWorker({ connection: env.nativeConnection, taskQueue, activities, logDir });
  const bare = await Worker.create({
    connection: env.nativeConnection, taskQueue: 'bench-bare', activities,
    workflowBundle: await workflowBundle(fileURLToPath(new URL('./workflows/bare.ts', import.meta.url))),
  });
  const runs = [worker.run(), bare.run()];
  return {
    env, taskQueue, started,
    async stop() { worker.shutdown(); bare.shutdown(); await Promise.allSettled(runs); },
  };
}

async function runPlan(h: Harness, plan: Plan, approver?: string): Promise<{ ms: number; id: string }> {
  const id = `bench-${plan.name}-${Date.now().toString(36)}`;
  const t0 = performance.now();
  const handle = await h.env.client.workflow.start('metaOrchestrator', {
    taskQueue: h.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: h.taskQueue } }],
  });
  if (approver) {
    // The operator's path: approve each gate through the update as soon as it waits.
    const approved = new Set<string>();
    for (;;) {
      const done = await Promise.race([handle.result().then(() => true), sleep(25).then(() => false)]);
      if (done) break;
      const s = await handle.query<RunStatus>('status');
      for (const g of s.phases.map((p) => p.gate)) {
        if (g?.state === 'waiting' && !approved.has(g.id)) {
          approved.add(g.id);
          await handle.executeUpdate('decideGate', { args: [{ gate: g.id, approver, decision: 'approve' }] });
        }
      }
    }
  }
  await handle.result();
  return { ms: performance.now() - t0, id };
}

function step(id: string, run: string[]) {
  return { id, kind: 'shell' as const, run };
}

export function overheadPlan(steps = 200, domains = 4, perDomainParallel = 2): Plan {
  const perPhase = steps / 2 / domains;
  const phase = (p: number) => ({
    id: `p${p}`,
    domains: Array.from({ length: domains }, (_, d) => ({
      id: `d${p}-${d}`, maxParallel: perDomainParallel,
      workstreams: Array.from({ length: perPhase }, (_, w) => ({ id: `w${p}-${d}-${w}`, steps: [step('noop', NOOP)] })),
    })),
  });
  return {
    name: 'bench-overhead',
    phases: [{ ...phase(1), gate: { id: 'g1', approval: { approvers: ['bench'], required: 1 } } }, phase(2)],
  };
}

async function overhead(h: Harness): Promise<BenchRow> {
  const plan = overheadPlan();
  const parallel = 4 * 2;
  const inputs: StepActivityInput[] = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.map((w) => ({
    step: w.steps[0] as StepActivityInput['step'],
    ctx: { runWorkflowId: 'bench-bare', planName: plan.name, phaseId: p.id, domainId: d.id, workstreamId: w.id, stepId: 'noop', idempotencyKey: `bare/${w.id}` },
  }))));
  // Warm-up (bundle, process spawn caches), then alternate the two to share the machine's noise.
  await h.env.client.workflow.execute('bareBaseline', { taskQueue: 'bench-bare', workflowId: `bare-warm-${Date.now()}`, args: [{ steps: inputs.slice(0, 16), parallel, taskQueue: 'bench-bare' }] });
  const bare: number[] = []; const sparky: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    await h.env.client.workflow.execute('bareBaseline', { taskQueue: 'bench-bare', workflowId: `bare-${Date.now()}-${i}`, args: [{ steps: inputs, parallel, taskQueue: 'bench-bare' }] });
    bare.push(performance.now() - t0);
    sparky.push((await runPlan(h, { ...plan, name: `bench-overhead-${i}` }, 'bench')).ms);
  }
  const b = Math.min(...bare); const s = Math.min(...sparky);
  return {
    name: 'orchestration overhead (200 no-op steps, 4 domains, 1 gate)',
    baseline: 'bare workflow, same 200 activities, same parallelism (8)',
    value: `${round(s / 1000)} s vs ${round(b / 1000)} s`,
    ratio: round(s / b),
    details: { sparkyMs: sparky.map((x) => round(x)), bareMs: bare.map((x) => round(x)), parallel },
  };
}

async function gateLatency(h: Harness, gates = 50): Promise<BenchRow> {
  const plan: Plan = {
    name: 'bench-gates',
    phases: Array.from({ length: gates + 1 }, (_, i) => ({
      id: `p${i}`,
      domains: [{ id: `d${i}`, workstreams: [{ id: `w${i}`, steps: [step('s', NOOP)] }] }],
      ...(i < gates ? { gate: { id: `g${i}`, approval: { approvers: ['bench'], required: 1 } } } : {}),
    })),
  };
  const id = `bench-gates-${Date.now().toString(36)}`;
  const handle = await h.env.client.workflow.start('metaOrchestrator', {
    taskQueue: h.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: h.taskQueue } }],
  });
  const latencies: number[] = [];
  for (let i = 0; i < gates; i++) {
    for (;;) {
      const s = await handle.query<RunStatus>('status');
      if (s.phases[i].gate?.state === 'waiting') break;
      await sleep(10);
    }
    const t0 = performance.now();
    await handle.signal('approveGate', { gate: `g${i}`, approver: 'bench' });
    const key = `w${i + 1}/s`;
    while (!h.started.has(key)) await sleep(1);
    latencies.push(h.started.get(key)! - t0);
  }
  await handle.result();
  return {
    name: `gate latency (approval signal → next phase's first step started, ${gates} gates)`,
    baseline: 'distribution',
    value: `p50 ${round(percentile(latencies, 50))} ms, p99 ${round(percentile(latencies, 99))} ms`,
    details: { p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)), max: round(Math.max(...latencies)) },
  };
}

/** A DAG of timed steps: critical path a→b→e→h→j. */
const DAG: { id: string; seconds: number; deps: string[] }[] = [
  { id: 'a', seconds: 1, deps: [] },
  { id: 'b', seconds: 1, deps: ['a'] }, { id: 'c', seconds: 0.5, deps: ['a'] }, { id: 'd', seconds: 0.5, deps: ['a'] },
  { id: 'e', seconds: 1, deps: ['b', 'c'] }, { id: 'f', seconds: 0.5, deps: ['c', 'd'] }, { id: 'g', seconds: 0.5, deps: ['d'] },
  { id: 'h', seconds: 1, deps: ['e', 'f'] }, { id: 'i', seconds: 0.5, deps: ['g'] },
  { id: 'j', seconds: 1, deps: ['h', 'i'] },
];

function criticalPath(): number {
  const finish = new Map<string, number>();
  for (const n of DAG) finish.set(n.id, n.seconds + Math.max(0, ...n.deps.map((d) => finish.get(d)!)));
  return Math.max(...finish.values());
}

async function parallelSpeedup(h: Harness): Promise<BenchRow> {
  const plan: Plan = {
    name: 'bench-dag',
    phases: [{
      id: 'p', domains: [{
        id: 'd', maxParallel: 4,
        workstreams: DAG.map((n) => ({ id: n.id, dependsOn: n.deps, steps: [step('work', ['sleep', String(n.seconds)])] })),
      }],
    }],
  };
  const { ms } = await runPlan(h, plan);
  const ideal = criticalPath() * 1000;
  const serial = DAG.reduce((s, n) => s + n.seconds, 0) * 1000;
  return {
    name: `parallel speed-up (DAG of ${DAG.length} timed steps)`,
    baseline: `critical path ${ideal / 1000} s (ideal); one after another ${serial / 1000} s`,
    value: `${round(ms / 1000)} s wall`,
    ratio: round(ms / ideal),
    details: { wallMs: round(ms), idealMs: ideal, serialMs: serial, speedupVsSerial: round(serial / ms), efficiencyVsIdeal: round(ideal / ms) },
  };
}

export async function runOrchestrationBench(env: TestWorkflowEnvironment, log = console.log): Promise<BenchRow[]> {
  const h = await harness(env);
  try {
    const rows: BenchRow[] = [];
    log('· orchestration overhead …'); rows.push(await overhead(h));
    log('· gate latency …'); rows.push(await gateLatency(h));
    log('· parallel speed-up …'); rows.push(await parallelSpeedup(h));
    return rows;
  } finally {
    await h.stop();
  }
}
