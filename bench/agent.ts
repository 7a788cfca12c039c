// Agent-step benchmark (issue 23): Sparky's wall time for one `agent` step against the same CLI run by
// hand, for Claude Code and Codex. Both sides talk to one scripted model endpoint (the agent tests'
// double, test/helpers/model-endpoint.ts) playing the same 20-turn session: 19 tool calls that write
// and edit files in a git worktree and read its status, then the final message.
//  - Sparky: a one-step plan on the real dev server, run by the real CPU worker (`tsx workers/cpu.ts`,
//    a process of its own), timed from the workflow's start to its result at the client;
//  - by hand: the same CLI with the same argv, environment and session-store layout the runner uses
//    (agentLaunch and sessionDirOf from activities/agent-cli.ts: the runner's own composition), started
//    directly with stdout and stderr to a file, timed from the spawn to its exit;
//  - Sparky with the git flow: the same step in a plan with `git:` and `commit:` (Sparky makes the
//    worktree, commits the work, merges it): what a git plan adds on top.
// Every repetition gets a fresh repository (and a worktree of it where the CLI works), the sides are
// interleaved (bench/interleave.ts), and every run is checked: the endpoint answered all 20 turns, the
// files are the same on every side (one git tree), and the agent saw the same variables by hand as
// under Sparky. Each sample is split into phases (history timestamps, the endpoint's request times).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { agentLaunch, askFileOf, claudeSessionId, sessionDirOf } from '../activities/agent-cli.ts';
import { RUN_DIR_VAR } from '../activities/run-dir.ts';
import type { StepActivityInput } from '../common/activity-types.ts';
import { domainWorkflowId } from '../common/ids.ts';
import { findAgentCli, type AgentName } from '../host/agents.ts';
import type { AgentStep, Plan } from '../plan/schema.ts';
import { validatePlan } from '../plan/validate.ts';
import type { RunStatus } from '../workflows/status.ts';
import { git, newRepository, worktreeTree } from '../test/helpers/git-repo.ts';
import { startModelEndpoint, type EndpointRequest, type ModelEndpoint, type Turn } from '../test/helpers/model-endpoint.ts';
import { serverAddress, uniqueTaskQueue } from '../test/helpers/temporal.ts';
import { cpuWorkerProcess } from '../test/helpers/worker-process.ts';
import { interleaved } from './interleave.ts';
import { fmtSummary, round, summarize, type BenchRow } from './stats.ts';

export const AGENT_SESSION_TURNS = 20;
const MARKER = 'BENCH-AGENT-SESSION';
const KEY_VAR = 'SPARKY_BENCH_AGENT_KEY';
const KEY = 'sk-bench-agent-key-0123456789';
/** No run of the session takes this long unless something broke (the dev server or worker gone): fail, do not hang. */
const RUN_LIMIT_MS = 5 * 60_000;
const IDS = { planName: 'bench-agent', phaseId: 'p', domainId: 'd', workstreamId: 'ws', stepId: 'agent' };

/** The scripted session: `turns - 1` tool calls (write a module, edit it, note it and look at git), then the final message. */
export function editingSession(turns = AGENT_SESSION_TURNS): Turn[] {
  const script: Turn[] = [];
  for (let i = 0; i < turns - 1; i++) {
    const n = Math.floor(i / 3);
    if (i === turns - 2) script.push({ bash: `env | sort > "$${RUN_DIR_VAR}/agent-env.txt" && git status --short` });
    else if (i % 3 === 0) script.push({ write: { path: `src/part${n}.py`, content: `def part${n}(x):\n    return x + ${n}\n` } });
    else if (i % 3 === 1) script.push({ bash: `sed -i 's/return x + ${n}$/return x * ${n + 2}/' src/part${n}.py && cat src/part${n}.py` });
    else script.push({ bash: `printf '%s\\n' 'part ${n}: x * ${n + 2}' >> CHANGES.md && git status --short && wc -l CHANGES.md` });
  }
  script.push({ text: `Added ${Math.ceil((turns - 2) / 3)} modules under src/ and noted each in CHANGES.md.` });
  return script;
}

/** One timed run: wall time, its phases (ms, in order), CPU time by whom, and what it left, for the checks. */
interface Sample { ms: number; phases: Record<string, number>; cpuMs: Record<string, number>; tree: string; envNames: string; requests: number }

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
/** CPU time (ms) of a process so far: its own, and its children's that it has waited for (the CLI, git). */
function cpuOf(pid: number | 'self'): { own: number; children: number } {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { throw new Error(`process ${pid} (the worker or the dev server) is gone: the agent benchmark cannot go on`); }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // After the command's name: state is field 3 of stat(5), utime 14, stime 15, cutime 16, cstime 17.
  return { own: (f[11] + f[12]) * TICK_MS, children: (f[13] + f[14]) * TICK_MS };
}
/** The dev server's process (a child of this one, whose CPU is counted only when it exits): by its port. */
function serverPid(address: string): number | undefined {
  const port = address.split(':').pop();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes('start-dev') && argv[argv.indexOf('--port') + 1] === port) return Number(entry);
    } catch { /* gone */ }
  }
  return undefined;
}
const cpuSince = (a: { own: number; children: number }, b: { own: number; children: number }) => ({ own: b.own - a.own, children: b.children - a.children });

interface Ctx {
  env: TestWorkflowEnvironment;
  ep: ModelEndpoint;
  taskQueue: string;
  /** Where repositories, the worker's logs and the hand runs' directories go. */
  root: string;
  logDir: string;
  workerPid: number;
  serverPid: number;
  /** Rejects when the worker process exits. */
  workerGone: Promise<never>;
}

function overdue(what: string): { promise: Promise<never>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took over ${RUN_LIMIT_MS / 60_000} minutes: something broke`)), RUN_LIMIT_MS); });
  return { promise, clear: () => clearTimeout(timer) };
}

const epochMs = (t: number) => performance.timeOrigin + t;
let seq = 0;
const uid = (side: string, agent: AgentName) => `bench-agent-${agent}-${side}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

function agentStep(agent: AgentName, ep: ModelEndpoint, cwd: string, extra: Partial<AgentStep> = {}): AgentStep {
  return {
    id: IDS.stepId, kind: 'agent', agent, cwd, prompt: `Do the benchmark task ${MARKER}.`,
    endpoint: agent === 'codex' ? ep.openaiBaseUrl : ep.anthropicBaseUrl, apiKey: { fromEnv: KEY_VAR }, retry: { maximumAttempts: 1 }, ...extra,
  } as AgentStep;
}

/** A fresh repository for one run, and (unless the run's plan makes its own) a worktree of it on a branch of its own. */
function workplace(ctx: Ctx, id: string, withWorktree: boolean): { repo: string; cwd: string; scratch: string } {
  const scratch = path.join(ctx.root, id);
  const repo = newRepository(scratch);
  if (!withWorktree) return { repo, cwd: repo, scratch };
  const cwd = path.join(scratch, 'worktree');
  git(repo, 'worktree', 'add', '--quiet', '-b', `bench/${id}`, cwd);
  return { repo, cwd, scratch };
}

/** The endpoint's requests of the session since `from`: all 20 turns answered, or why not. */
function session(ep: ModelEndpoint, from: number, what: string): EndpointRequest[] {
  const mine = ep.requests.slice(from).filter((r) => r.script === MARKER);
  const turns = new Set(mine.map((r) => r.turn));
  if (mine.length !== AGENT_SESSION_TURNS || turns.size !== AGENT_SESSION_TURNS) {
    throw new Error(`${what}: the endpoint answered ${mine.length} requests for turns ${[...turns].join(',')}, not the ${AGENT_SESSION_TURNS} turns of the session`);
  }
  return mine;
}

const envNames = (runDir: string) => readFileSync(path.join(runDir, 'agent-env.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('=')[0]).join(' ');

/** The CLI started by hand: the runner's launch for this step, spawned directly in a fresh worktree. */
async function byHand(ctx: Ctx, agent: AgentName): Promise<Sample> {
  const runId = uid('hand', agent);
  const place = workplace(ctx, runId, true);
  const step = agentStep(agent, ctx.ep, place.cwd);
  const runDir = path.join(ctx.root, 'hand-runs', runId);
  mkdirSync(runDir, { recursive: true });
  const input = { step, ctx: { ...IDS, runWorkflowId: runId, idempotencyKey: `${runId}/${IDS.workstreamId}/${IDS.stepId}`, env: { [RUN_DIR_VAR]: runDir } } } satisfies StepActivityInput;
  const cli = findAgentCli(agent);
  if ('missing' in cli) throw new Error(cli.missing);
  const sessionDir = sessionDirOf(runDir, input.ctx);
  const launch = agentLaunch(input, 1, {}, cli, {
    step, prompt: step.prompt!, sessionDir, apiKey: KEY, endpoint: step.endpoint as string, askFile: askFileOf(sessionDir),
    newSessionId: agent === 'claude-code' ? claudeSessionId(input.ctx.idempotencyKey) : undefined,
  });
  const out = openSync(path.join(sessionDir, 'events.jsonl'), 'w');
  const from = ctx.ep.requests.length;
  const [cpu0, worker0, server0] = [cpuOf('self'), cpuOf(ctx.workerPid), cpuOf(ctx.serverPid)];
  const t0 = performance.now();
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(launch.file, launch.args, { cwd: place.cwd, env: launch.env, stdio: ['ignore', out, out] });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${agent} by hand took over ${RUN_LIMIT_MS / 60_000} minutes: something broke`)); }, RUN_LIMIT_MS);
    child.once('error', reject);
    child.once('exit', (c, signal) => { clearTimeout(timer); resolve(c ?? signal ?? 'unknown'); });
  });
  const t1 = performance.now();
  const [cpu, worker, server] = [cpuSince(cpu0, cpuOf('self')), cpuSince(worker0, cpuOf(ctx.workerPid)), cpuSince(server0, cpuOf(ctx.serverPid))];
  closeSync(out);
  if (code !== 0) throw new Error(`${agent} by hand exited ${code}: ${readFileSync(path.join(sessionDir, 'events.jsonl'), 'utf8').slice(-2_000)}`);
  const reqs = session(ctx.ep, from, `${agent} by hand`);
  const first = reqs[0].at; const last = Math.max(...reqs.map((r) => r.answeredAt ?? r.at));
  return {
    ms: t1 - t0, requests: ctx.ep.requests.length - from, tree: worktreeTree(place.cwd, place.scratch), envNames: envNames(runDir),
    cpuMs: { 'the CLI (and what it ran)': cpu.children, 'the worker process (idle)': worker.own, 'the dev server (idle)': server.own, 'the bench process (endpoint double)': cpu.own },
    phases: { 'spawn → first model request': first - t0, 'session (first request → last answer)': last - first, 'last answer → exit': t1 - last },
  };
}

type Event = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
const eventMs = (e: Event | undefined) => (e?.eventTime ? Number(e.eventTime.seconds ?? 0) * 1000 + Math.floor((e.eventTime.nanos ?? 0) / 1e6) : NaN);

/** The step's plan run by Sparky: with `gitFlow`, in a plan with `git:` (Sparky's worktree, commit and merge). */
async function bySparky(ctx: Ctx, agent: AgentName, gitFlow: boolean): Promise<Sample> {
  const runId = uid(gitFlow ? 'gitflow' : 'sparky', agent);
  const place = workplace(ctx, runId, !gitFlow);
  const step = agentStep(agent, ctx.ep, place.cwd, gitFlow ? { commit: 'bench: agent session' } : {});
  const plan: Plan = {
    name: IDS.planName, ...(gitFlow ? { git: { repo: place.repo } } : {}),
    phases: [{ id: IDS.phaseId, domains: [{ id: IDS.domainId, workstreams: [{ id: IDS.workstreamId, steps: [step] }] }] }],
  } as Plan;
  const valid = validatePlan(plan);
  if (!valid.ok) throw new Error(`the benchmark's plan does not validate: ${JSON.stringify(valid.errors)}`);
  const from = ctx.ep.requests.length;
  const [bench0, worker0, server0] = [cpuOf('self'), cpuOf(ctx.workerPid), cpuOf(ctx.serverPid)];
  const t0 = performance.now();
  const handle = await ctx.env.client.workflow.start('metaOrchestrator', {
    taskQueue: ctx.taskQueue, workflowId: runId, args: [{ plan, options: { cpuTaskQueue: ctx.taskQueue } }],
  });
  const limit = overdue(`${agent} under Sparky`);
  const result = await Promise.race([handle.result() as Promise<RunStatus>, ctx.workerGone, limit.promise]).finally(limit.clear);
  const t1 = performance.now();
  const [bench, worker, server] = [cpuSince(bench0, cpuOf('self')), cpuSince(worker0, cpuOf(ctx.workerPid)), cpuSince(server0, cpuOf(ctx.serverPid))];
  if (result.state !== 'completed') throw new Error(`${agent} under Sparky${gitFlow ? ' (git flow)' : ''}: the run ended ${result.state}: ${result.error ?? JSON.stringify(result.phases[0]?.domains[0]?.workstreams[0]?.steps[0])}`);
  const reqs = session(ctx.ep, from, `${agent} under Sparky`);
  const first = reqs[0].at; const last = Math.max(...reqs.map((r) => r.answeredAt ?? r.at));
  // The phases: the run's and its domain child's histories (server time), the endpoint's requests (this process).
  const meta = (await handle.fetchHistory()).events ?? [];
  const child = (await ctx.env.client.workflow.getHandle(domainWorkflowId(runId, IDS.phaseId, IDS.domainId)).fetchHistory()).events ?? [];
  const scheduled = child.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runStep');
  const sid = String(scheduled?.eventId);
  const startedEv = child.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === sid);
  const completedEv = child.find((e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === sid);
  const runStarted = eventMs(meta.find((e) => e.workflowExecutionStartedEventAttributes));
  const runDone = eventMs(meta.find((e) => e.workflowExecutionCompletedEventAttributes));
  const actStarted = eventMs(startedEv); const actDone = eventMs(completedEv);
  const runDir = path.join(ctx.logDir, runId);
  const tree = gitFlow ? git(place.repo, 'rev-parse', 'main^{tree}') : worktreeTree(place.cwd, place.scratch);
  return {
    ms: t1 - t0, requests: ctx.ep.requests.length - from, tree, envNames: envNames(runDir),
    cpuMs: { 'the CLI (and what it ran), git': worker.children, 'the worker process': worker.own, 'the dev server': server.own, 'the bench process (endpoint double, client)': bench.own },
    phases: {
      'start → run started': runStarted - epochMs(t0),
      'run started → step activity started': actStarted - runStarted,
      'activity started → first model request': epochMs(first) - actStarted,
      'session (first request → last answer)': last - first,
      'last answer → activity completed': actDone - epochMs(last),
      'activity completed → run completed': runDone - actDone,
      'run completed → result at the client': epochMs(t1) - runDone,
    },
  };
}

/** Median of each phase (or CPU figure) over the samples, in ms. */
function medians(samples: Sample[], of: 'phases' | 'cpuMs'): Record<string, number> {
  return Object.fromEntries(Object.keys(samples[0][of]).map((k) => [k, summarize(samples.map((s) => s[of][k])).median]));
}

function checkAlike(agent: AgentName, hand: Sample[], sparky: Sample[], gitFlow: Sample[]): void {
  const trees = new Set([...hand, ...sparky, ...gitFlow].map((s) => s.tree));
  if (trees.size !== 1) throw new Error(`${agent}: the runs left different files (git trees ${[...trees].join(', ')}): the sides did not do the same work`);
  const names = new Set([...hand, ...sparky].map((s) => s.envNames));
  if (names.size !== 1) {
    const [a, b] = [hand[0].envNames.split(' '), sparky[0].envNames.split(' ')];
    throw new Error(`${agent}: the agent's environment by hand differs from Sparky's: only by hand ${a.filter((n) => !b.includes(n)).join(' ') || '-'}; only under Sparky ${b.filter((n) => !a.includes(n)).join(' ') || '-'}`);
  }
}

async function benchAgent(ctx: Ctx, agent: AgentName, reps: number): Promise<BenchRow[]> {
  const [hand, sparky, gitFlow] = await interleaved(reps, [() => byHand(ctx, agent), () => bySparky(ctx, agent, false), () => bySparky(ctx, agent, true)]);
  checkAlike(agent, hand, sparky, gitFlow);
  const s = (xs: Sample[]) => summarize(xs.map((x) => x.ms / 1000));
  const [h, sp, gf] = [s(hand), s(sparky), s(gitFlow)];
  const rounded = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));
  const raw = (xs: Sample[]) => xs.map((x) => ({ ms: round(x.ms), phasesMs: rounded(x.phases), cpuMs: rounded(x.cpuMs) }));
  const baseline = `${agent} by hand (same argv, environment, session store; same endpoint): ${fmtSummary(h, ' s')}`;
  const session = `${AGENT_SESSION_TURNS}-turn scripted session`;
  return [{
    name: `agent step, ${agent}: ${session} (one-step plan, real dev server and CPU worker process)`,
    baseline, value: fmtSummary(sp, ' s'), ratio: round(sp.median / h.median),
    details: {
      handS: h, sparkyS: sp, pairRatios: summarize(sparky.map((x, i) => x.ms / hand[i].ms)),
      phaseMediansMs: { hand: medians(hand, 'phases'), sparky: medians(sparky, 'phases') }, cpuMediansMs: { hand: medians(hand, 'cpuMs'), sparky: medians(sparky, 'cpuMs') },
      hand: raw(hand), sparky: raw(sparky), requestsPerRun: hand[0].requests, reps, sameFiles: true, sameEnvironment: true,
    },
  }, {
    name: `agent step, ${agent}, with the git flow (Sparky makes the worktree, commits, merges): ${session}`,
    baseline, value: fmtSummary(gf, ' s'), ratio: round(gf.median / h.median),
    details: { gitFlowS: gf, pairRatios: summarize(gitFlow.map((x, i) => x.ms / hand[i].ms)), phaseMediansMs: medians(gitFlow, 'phases'), cpuMediansMs: medians(gitFlow, 'cpuMs'), gitFlow: raw(gitFlow), reps },
  }];
}

export interface AgentBenchOptions { reps?: number; agents?: AgentName[]; log?: (line: string) => void }

/** The agent part of `npm run bench`, on the given dev server: two rows per agent. */
export async function runAgentBench(env: TestWorkflowEnvironment, opts: AgentBenchOptions = {}): Promise<BenchRow[]> {
  const { reps = 5, agents = ['claude-code', 'codex'], log = console.log } = opts;
  for (const agent of agents) {
    const cli = findAgentCli(agent);
    if ('missing' in cli) throw new Error(`the agent benchmark needs ${cli.missing}`);
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'sparky-bench-agent-'));
  const logDir = path.join(root, 'logs');
  const ep = await startModelEndpoint({ scripts: { [MARKER]: editingSession() } });
  const taskQueue = uniqueTaskQueue('bench-agent');
  let worker: ChildProcess | undefined;
  try {
    worker = await cpuWorkerProcess(env, taskQueue, logDir, { [KEY_VAR]: KEY, SPARKY_RUN_ROOT: '' });
    const running = worker;
    const workerGone = new Promise<never>((_, reject) => running.once('exit', (code, signal) => reject(new Error(`the worker process exited (${code ?? signal}) during the agent benchmark`))));
    workerGone.catch(() => undefined); // told to the run it ends, if one is under way
    const server = serverPid(serverAddress(env));
    if (!server) throw new Error(`the agent benchmark did not find the dev server's process (listening on ${serverAddress(env)})`);
    const ctx: Ctx = { env, ep, taskQueue, root, logDir, workerPid: worker.pid!, serverPid: server, workerGone };
    const rows: BenchRow[] = [];
    for (const agent of agents) {
      log(`· agent step, ${agent} (${AGENT_SESSION_TURNS} turns; by hand, Sparky, Sparky with the git flow; ${reps} repetitions each, interleaved) …`);
      rows.push(...await benchAgent(ctx, agent, reps));
    }
    return rows;
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((r) => worker!.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
    await ep.close();
    rmSync(root, { recursive: true, force: true });
  }
}
