// Orchestration benchmarks, each against a baseline measured in the same run on the same server, with
// both sides alike in everything but Sparky: the same activities (one object), two workers created with
// the same options (Sparky's), Sparky's activity options in the baseline workflows, both sides warmed
// up, repetitions interleaved (alternating which side goes first), no polling of either run while it is
// timed (the overhead plan's gate is a checks-only gate, which passes by itself).
//  - overhead: 200 no-op steps in 4 domains × 2 lanes with one gate (one `true` check) vs a bare
//    workflow running the same 200 activities in the same lanes, then the same check activity;
//  - gate latency: approval signal → the next phase's first step started, against two bare floors
//    measured round by round in turn with it: "signal, then an activity" and "signal, then a child
//    workflow that runs the activity";
//  - parallel speed-up: a DAG of timed steps vs its critical path and vs running them one by one.
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.ts';
import type { GateCheckInput, SparkyActivities, StepActivityInput } from '../common/activity-types.ts';
import type { Plan } from '../plan/schema.ts';
import { workflowBundle } from '../workers/workflow-bundle.ts';
import { sparkyWorkerOptions } from '../workers/worker-options.ts';
import type { RunStatus } from '../workflows/status.ts';
import type { BarePhase } from './workflows/bare.ts';
import { interleaved } from './interleave.ts';
import { fmtSummary, percentile, round, summarize, type BenchRow } from './stats.ts';

const NOOP = ['true'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Harness {
  env: TestWorkflowEnvironment;
  /** Sparky's workflows (meta, domains) and their activities. */
  taskQueue: string;
  /** The baseline workflows and their activities. */
  bareQueue: string;
  /** performance.now() at which each step's activity started (first attempt), by idempotency key. */
  started: Map<string, number>;
  /** Resolves with performance.now() at which the step's activity starts (no polling: the activity says so). */
  whenStarted(key: string, timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function harness(env: TestWorkflowEnvironment): Promise<Harness> {
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'sparky-bench-'));
  const real = createActivities({ logDir });
  const started = new Map<string, number>();
  const waiters = new Map<string, (t: number) => void>();
  const activities: SparkyActivities = {
    runStep: async (input) => {
      const key = input.ctx.idempotencyKey;
      if (!started.has(key)) { started.set(key, performance.now()); waiters.get(key)?.(started.get(key)!); }
      return real.runStep(input);
    },
    runGateCheck: real.runGateCheck,
    notify: real.notify,
    claimHost: real.claimHost,
    inspectStep: real.inspectStep,
  };
  // One set of options for both workers: Sparky's own (sparkyWorkerOptions), nothing else differs.
  const make = async (taskQueue: string, workflowsPath?: string) => Worker.create({
    connection: env.nativeConnection, namespace: 'default', taskQueue, activities,
    workflowBundle: await workflowBundle(workflowsPath), ...sparkyWorkerOptions(),
  });
  const sparky = await make('bench-sparky');
  const bare = await make('bench-bare', fileURLToPath(new URL('./workflows/bare.ts', import.meta.url)));
  const runs = [sparky.run(), bare.run()];
  return {
    env, taskQueue: 'bench-sparky', bareQueue: 'bench-bare', started,
    whenStarted: (key, timeoutMs = 60_000) => new Promise<number>((resolve, reject) => {
      if (started.has(key)) { resolve(started.get(key)!); return; }
      const timer = setTimeout(() => { waiters.delete(key); reject(new Error(`step ${key} did not start within ${timeoutMs} ms`)); }, timeoutMs);
      waiters.set(key, (t) => { clearTimeout(timer); waiters.delete(key); resolve(t); });
    }),
    async stop() { sparky.shutdown(); bare.shutdown(); await Promise.allSettled(runs); },
  };
}

let seq = 0;
const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

/** Starts a Sparky run of the plan (no polling); returns its handle. */
export function startPlan(h: Harness, plan: Plan, id = uid(`bench-${plan.name}`)): Promise<WorkflowHandle> {
  return h.env.client.workflow.start('metaOrchestrator', {
    taskQueue: h.taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: h.taskQueue } }],
  });
}

async function timePlan(h: Harness, plan: Plan): Promise<number> {
  const t0 = performance.now();
  const handle = await startPlan(h, plan);
  await handle.result();
  return performance.now() - t0;
}

function step(id: string, run: string[]) {
  return { id, kind: 'shell' as const, run };
}

export const OVERHEAD = { steps: 200, domains: 4, perDomainParallel: 2 };

export function overheadPlan(name = 'bench-overhead', { steps, domains, perDomainParallel } = OVERHEAD): Plan {
  const perPhase = steps / 2 / domains;
  const phase = (p: number) => ({
    id: `p${p}`,
    domains: Array.from({ length: domains }, (_, d) => ({
      id: `d${p}-${d}`, maxParallel: perDomainParallel,
      workstreams: Array.from({ length: perPhase }, (_, w) => ({ id: `w${p}-${d}-${w}`, steps: [step('noop', NOOP)] })),
    })),
  });
  return { name, phases: [{ ...phase(1), gate: { id: 'g1', checks: [{ id: 'ok', kind: 'command', run: ['true'] }] } }, phase(2)] };
}

/** The same work as a Sparky run of the plan, for bareBaseline: steps per domain, each gate's checks. */
function barePhases(plan: Plan, runId: string): BarePhase[] {
  return plan.phases.map((p) => ({
    domains: p.domains.map((d) => d.workstreams.map((w): StepActivityInput => ({
      step: w.steps[0] as StepActivityInput['step'],
      ctx: { runWorkflowId: runId, planName: plan.name, phaseId: p.id, domainId: d.id, workstreamId: w.id, stepId: w.steps[0].id,
        idempotencyKey: `${runId}/${w.id}/${w.steps[0].id}` },
    }))),
    ...(p.gate?.checks?.[0] ? {
      check: { check: p.gate.checks[0], ctx: { runWorkflowId: runId, planName: plan.name, phaseId: p.id, gateId: p.gate.id }, outputs: {} } satisfies GateCheckInput,
    } : {}),
  }));
}

async function timeBare(h: Harness, plan: Plan): Promise<number> {
  const id = uid('bare-overhead');
  const t0 = performance.now();
  await h.env.client.workflow.execute('bareBaseline', {
    taskQueue: h.bareQueue, workflowId: id, args: [{ phases: barePhases(plan, id), perDomainParallel: OVERHEAD.perDomainParallel, taskQueue: h.bareQueue }],
  });
  return performance.now() - t0;
}

async function overhead(h: Harness, reps: number): Promise<BenchRow> {
  const plan = overheadPlan();
  const [sparky, bare] = await interleaved(reps, [() => timePlan(h, plan), () => timeBare(h, plan)]);
  const s = summarize(sparky.map((x) => x / 1000)); const b = summarize(bare.map((x) => x / 1000));
  const pairRatios = summarize(sparky.map((x, i) => x / bare[i]));
  return {
    name: `orchestration overhead (${OVERHEAD.steps} no-op steps, ${OVERHEAD.domains} domains × ${OVERHEAD.perDomainParallel} lanes, 1 checks-only gate)`,
    baseline: `bare workflow, same activities, lanes and check: ${fmtSummary(b, ' s')}`,
    value: `${fmtSummary(s, ' s')}`,
    ratio: round(s.median / b.median),
    details: { sparkyS: s, bareS: b, pairRatios, sparkyMs: sparky.map((x) => round(x)), bareMs: bare.map((x) => round(x)), reps },
  };
}

/** Polls a query every 10 ms until it says the workflow waits for approval `round`. */
async function waitUntil(test: () => Promise<boolean>): Promise<void> {
  while (!(await test())) await sleep(10);
}

/** Quiet time before each approval in the gate-latency rounds (nothing polled, every run waiting). */
const SETTLE_MS = Number(process.env.SPARKY_BENCH_SETTLE_MS ?? 500);

async function gateLatency(h: Harness, gates: number, warmup = 3): Promise<BenchRow[]> {
  const rounds = gates + warmup;
  const plan: Plan = {
    name: 'bench-gates',
    phases: Array.from({ length: rounds + 1 }, (_, i) => ({
      id: `p${i}`,
      domains: [{ id: `d${i}`, workstreams: [{ id: `w${i}`, steps: [step('s', NOOP)] }] }],
      ...(i < rounds ? { gate: { id: `g${i}`, approval: { approvers: ['bench'], required: 1 } } } : {}),
    })),
  };
  const sparkyId = uid('bench-gates');
  const sparky = await startPlan(h, plan, sparkyId);
  const bareSteps = (id: string) => Array.from({ length: rounds + 1 }, (_, i): StepActivityInput => ({
    step: step('s', NOOP), ctx: { runWorkflowId: id, planName: 'bare', phaseId: `p${i}`, domainId: 'd', workstreamId: `w${i}`, stepId: 's', idempotencyKey: `${id}/w${i}/s` },
  }));
  const signalId = uid('bare-signal-gate');
  const childId = uid('bare-child-gate');
  const signal = await h.env.client.workflow.start('bareSignalGate', { taskQueue: h.bareQueue, workflowId: signalId, args: [{ rounds, steps: bareSteps(signalId), taskQueue: h.bareQueue }] });
  const child = await h.env.client.workflow.start('bareChildGate', { taskQueue: h.bareQueue, workflowId: childId, args: [{ rounds, steps: bareSteps(childId), taskQueue: h.bareQueue, workflowId: childId }] });

  const kinds = [
    { name: 'sparky', id: sparkyId, samples: [] as number[],
      waiting: async (i: number) => (await sparky.query<RunStatus>('status')).phases[i].gate?.state === 'waiting',
      approve: (i: number) => sparky.signal('approveGate', { gate: `g${i}`, approver: 'bench' }) },
    { name: 'signal', id: signalId, samples: [] as number[],
      waiting: async (i: number) => (await signal.query<number>('bareWaiting')) === i, approve: (i: number) => signal.signal('bareApprove', i) },
    { name: 'child', id: childId, samples: [] as number[],
      waiting: async (i: number) => (await child.query<number>('bareWaiting')) === i, approve: (i: number) => child.signal('bareApprove', i) },
  ];
  const results = [sparky, signal, child].map((handle) => handle.result());
  // Each approval is sent to a quiet machine, as a person's approval is: every run (Sparky's and the
  // floors) waits at its next gate (or has finished), and nothing is polled for SETTLE_MS before the
  // signal, so no run's tail work (a child finishing, progress, the next gate's set-up) lands in another's
  // measurement. The three take turns (rotating who goes first), so all share the machine's slow spells.
  for (let i = 0; i < rounds; i++) {
    const approved = new Set<string>();
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(i + k) % kinds.length];
      await Promise.all(kinds.map((other, o) => {
        const at = approved.has(other.name) ? i + 1 : i;
        return at < rounds ? waitUntil(() => other.waiting(at)) : results[o];
      }));
      await sleep(SETTLE_MS);
      const started = h.whenStarted(`${kind.id}/w${i + 1}/s`);
      const t0 = performance.now();
      await kind.approve(i);
      const t1 = await started;
      approved.add(kind.name);
      if (i >= warmup) kind.samples.push(t1 - t0);
    }
  }
  await Promise.all(results);
  const dist = (v: number[]) => ({ p50: round(percentile(v, 50)), p90: round(percentile(v, 90)), p99: round(percentile(v, 99)), max: round(Math.max(...v)), iqr: summarize(v).iqr, n: v.length, samplesMs: v.map((x) => round(x)) });
  const [s, sig, ch] = kinds.map((k) => dist(k.samples));
  return [{
    name: `gate latency (approval signal → next phase's first step started, ${gates} gates)`,
    baseline: `bare "signal, then activity": p50 ${sig.p50} ms, p99 ${sig.p99} ms`,
    value: `p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms (IQR ${s.iqr} ms)`,
    ratio: round(s.p50 / sig.p50),
    details: { sparky: s, bareSignal: sig, bareChild: ch, ratioToSignalP50: round(s.p50 / sig.p50), ratioToChildP50: round(s.p50 / ch.p50), warmupRoundsDropped: warmup },
  }, {
    name: 'gate latency vs a bare child-workflow gate (p50)',
    baseline: `bare "signal, then a child workflow runs the activity": p50 ${ch.p50} ms, p99 ${ch.p99} ms`,
    value: `Sparky p50 ${s.p50} ms`,
    ratio: round(s.p50 / ch.p50),
  }];
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

async function parallelSpeedup(h: Harness, reps: number): Promise<BenchRow> {
  const plan: Plan = {
    name: 'bench-dag',
    phases: [{
      id: 'p', domains: [{
        id: 'd', maxParallel: 4,
        workstreams: DAG.map((n) => ({ id: n.id, dependsOn: n.deps, steps: [step('work', ['sleep', String(n.seconds)])] })),
      }],
    }],
  };
  const walls: number[] = [];
  for (let i = 0; i < reps; i++) walls.push(await timePlan(h, plan));
  const w = summarize(walls.map((x) => x / 1000));
  const ideal = criticalPath();
  const serial = DAG.reduce((s, n) => s + n.seconds, 0);
  return {
    name: `parallel speed-up (DAG of ${DAG.length} timed steps)`,
    baseline: `critical path ${ideal} s (ideal); one after another ${serial} s`,
    value: `${fmtSummary(w, ' s')} wall`,
    ratio: round(w.median / ideal),
    details: { wallS: w, idealS: ideal, serialS: serial, speedupVsSerial: round(serial / w.median), efficiencyVsIdeal: round(ideal / w.median) },
  };
}

export type OrchestrationPart = 'overhead' | 'gates' | 'dag';
export interface OrchestrationBenchOptions { reps?: number; gates?: number; parts?: OrchestrationPart[]; log?: (line: string) => void }

export async function runOrchestrationBench(env: TestWorkflowEnvironment, opts: OrchestrationBenchOptions = {}): Promise<BenchRow[]> {
  const { reps = 5, gates = 50, parts = ['overhead', 'gates', 'dag'], log = console.log } = opts;
  const h = await harness(env);
  try {
    const rows: BenchRow[] = [];
    if (parts.includes('overhead')) { log(`· orchestration overhead (${reps} repetitions each, interleaved) …`); rows.push(await overhead(h, reps)); }
    if (parts.includes('gates')) { log(`· gate latency (${gates} gates, against two bare floors) …`); rows.push(...await gateLatency(h, gates)); }
    if (parts.includes('dag')) { log(`· parallel speed-up (${reps} repetitions) …`); rows.push(await parallelSpeedup(h, reps)); }
    return rows;
  } finally {
    await h.stop();
  }
}
