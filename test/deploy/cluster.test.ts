// The production topology, proven on this machine: a real multi-service Temporal cluster (frontend,
// history, matching and worker as separate processes on PostgreSQL, built by scripts/cluster), and
// Sparky's workers as two "hosts" (hosta, hostb: a CPU worker and a GPU worker each, separate
// processes with their own SPARKY_HOST, fake GPU 0 and log folder). The flagship plan runs with its
// GPU steps pinned to both hosts' queues while the cluster is hurt: the history service is SIGKILLed
// mid-run and restarted, hostb's GPU worker is SIGKILLed while its step runs and restarted,
// PostgreSQL is restarted while a gate waits with one of two approvals given. The run completes,
// every step's side effect (an attempt header in its log) happened once, only the step whose worker
// was killed under it may run twice, and no approval is lost. The two hosts run from two folders (hostb
// from a copy of the checkout with its own bundle cache) and share one build id (Worker Versioning,
// ADR 0005): their CPU workers are versioned by default. Then the same cluster with mTLS on:
// clients without a certificate are refused; Sparky's CLI and workers with one run a plan on both hosts.
// Between the two: the same plan again takes every cached step from the cache, one of them on hostb from
// the entry hosta stored (the step cache's store is in the run root the hosts share, ADR 0010).
// Skipped (visibly) only where Go or PostgreSQL cannot be had (scripts/cluster exits 3).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { parseDocument, type YAMLMap } from 'yaml';
import { PROJECT_ROOT, TEMPORAL_BIN } from '../../host/paths.ts';
import { temporalConnectionSettings } from '../../host/temporal-connection.ts';
import type { RunStatus, StepStatus } from '../../workflows/status.ts';
import { buildOf } from '../../workers/deployment.ts';
import { workflowBuildId } from '../../workers/workflow-bundle.ts';
import { eventually } from '../helpers/wait.ts';
import { SPARKY_SEARCH_ATTRIBUTES } from '../../common/search-attributes.ts';
import { loadPlanFile } from '../../plan/load.ts';
import { cacheSettings } from '../../plan/cache-key.ts';

const SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'cluster');
const HOSTS = ['hosta', 'hostb'] as const;
type Host = typeof HOSTS[number];

const root = await mkdtemp(path.join(os.tmpdir(), 'sparky-cluster-'));
chmodSync(root, 0o755); // PostgreSQL runs as the postgres user: it must reach its data folder
const clusterDir = path.join(root, 'cluster');
let started = false;
let skipReason: string | undefined;

/**
 * A block of free ports: frontend at base, services up to base+10, membership base+100.., UI base+80,
 * PostgreSQL base+300. Below 32768: Temporal keeps membership ports in a PostgreSQL smallint.
 */
async function freeBase(): Promise<number> {
  const offsets = [0, 1, 2, 6, 10, 80, 100, 101, 102, 106, 300];
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 120) * 100;
    if ((await Promise.all(offsets.map((o) => free(base + o)))).every(Boolean)) return base;
  }
  throw new Error('no free block of ports for the cluster');
}
const base = await freeBase();

function cluster(args: string[], extra: Record<string, string> = {}) {
  return execa('bash', [SCRIPT, ...args], {
    reject: false, all: true, stdin: 'ignore', cwd: PROJECT_ROOT, timeout: 30 * 60_000,
    env: { SPARKY_CLUSTER_DIR: clusterDir, SPARKY_CLUSTER_PORT: String(base), ...extra },
  });
}

/** `scripts/cluster env` as a map: TEMPORAL_ADDRESS and, with mTLS, the TEMPORAL_TLS_* paths. */
async function clusterEnv(): Promise<Record<string, string>> {
  const r = await cluster(['env']);
  assert.equal(r.exitCode, 0, r.all);
  return Object.fromEntries(r.stdout.split('\n').flatMap((l) => {
    const m = l.match(/^export (\w+)=(.*)$/);
    return m ? [[m[1], m[2]]] : [];
  }));
}

async function clientFor(env: Record<string, string>): Promise<Client> {
  const s = temporalConnectionSettings(env);
  const connection = await Connection.connect({ address: s.address, tls: s.tls, connectTimeout: 5000 });
  return new Client({ connection, namespace: s.namespace });
}

function pidOf(service: string): number {
  return Number(readFileSync(path.join(clusterDir, 'pids', `${service}.pid`), 'utf8').trim());
}

// ---- two checkouts: hosta runs this one, hostb a copy in another folder -----------------------------
/** A copy of the checkout's working tree (no .git, no .sparky: its own bundle cache), node_modules and .tools linked. */
function copyCheckout(dir: string): string {
  const skip = new Set(['node_modules', '.git', '.sparky', '.tools']);
  mkdirSync(dir, { recursive: true });
  cpSync(PROJECT_ROOT, dir, { recursive: true, filter: (src) => !skip.has(path.relative(PROJECT_ROOT, src).split(path.sep)[0]) });
  for (const link of ['node_modules', '.tools']) symlinkSync(realpathSync(path.join(PROJECT_ROOT, link)), path.join(dir, link));
  return dir;
}
const CHECKOUTS: Record<Host, string> = { hosta: PROJECT_ROOT, hostb: copyCheckout(path.join(root, 'hostb-checkout', 'sparky')) };

/** The build a host's CPU worker declared (its first line says `deployment sparky, build build-…`). */
async function declaredBuild(host: Host): Promise<string> {
  const log = path.join(root, `cpu-${host}.log`);
  const exited = () => (workers.get(`cpu-${host}`)?.exitCode ?? null) !== null;
  const text = await eventually(`${host}'s CPU worker to declare its build`, async () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
    (t) => /deployment sparky, build build-[0-9a-f]{16}|unversioned/.test(t) || exited(), 180_000);
  const m = /deployment sparky, build (build-[0-9a-f]{16})/.exec(text);
  assert.ok(m, `${host}'s CPU worker declared no build:\n${text.slice(-2000)}`);
  return m[1];
}

// ---- Sparky's workers: one CPU and one GPU worker per host, each its own process group ------------
const workers = new Map<string, ChildProcess>();
/** Every worker process group this file started: none may outlive it, whatever ends the file. */
const spawned = new Set<ChildProcess>();
const killGroups = () => {
  for (const c of spawned) {
    // Only groups whose leader still runs: a finished group's id may belong to someone else by now.
    if (c.pid && c.exitCode === null && c.signalCode === null) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  }
};
process.on('exit', killGroups);
function startWorker(kind: 'cpu' | 'gpu', host: Host, env: Record<string, string>): void {
  const fd = openSync(path.join(root, `${kind}-${host}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(CHECKOUTS[host], 'workers', `${kind}.ts`)], {
    cwd: CHECKOUTS[host], detached: true, stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env, SPARKY_HOST: host, SPARKY_GPUS: '0', SPARKY_LOG_DIR: path.join(root, 'logs', host),
      // The plan's steps exchange files through the run's directory: the hosts share it, as a real deployment shares storage.
      SPARKY_RUN_ROOT: path.join(root, 'runs'), SPARKY_SHUTDOWN_GRACE: '2s' },
  });
  closeSync(fd);
  spawned.add(child);
  workers.set(`${kind}-${host}`, child);
}
/** SIGKILL a worker's whole process group (the GPU worker and its inference server): a host losing it. */
function killWorker(name: string): void {
  const child = workers.get(name);
  if (child?.pid && child.exitCode === null) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  workers.delete(name);
}
async function stopWorkers(): Promise<void> {
  const all = [...workers.values()];
  for (const c of all) if (c.pid && c.exitCode === null) { try { process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ } }
  await Promise.all(all.map((c) => c.exitCode !== null ? undefined : new Promise((r) => { c.once('exit', r); setTimeout(r, 15_000); })));
  for (const c of all) if (c.pid) { try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  workers.clear();
}
function startHosts(env: Record<string, string>): void {
  for (const host of HOSTS) { startWorker('cpu', host, env); startWorker('gpu', host, env); }
}

after(async () => {
  await stopWorkers();
  killGroups();
  if (existsSync(clusterDir)) await cluster(['stop']);
});

// ---- the plan: the flagship, GPU steps pinned to the two hosts --------------------------------------
/**
 * A copy of examples/ (the plan writes into its baseDir) with the variant next to the original; `pins`
 * moves steps to other pools, into a variant of its own name (`variant`) beside the first.
 */
async function flagshipOnTwoHosts(dir: string, pins: Record<string, string> = {}, variantName = 'dgx-pixels.two-hosts.plan.yaml'): Promise<string> {
  if (!existsSync(path.join(dir, 'examples'))) {
    await cp(path.join(PROJECT_ROOT, 'examples'), path.join(dir, 'examples'), { recursive: true, filter: (src) => !src.includes(`${path.sep}out`) });
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  }
  const file = path.join(dir, 'examples', 'dgx-pixels.plan.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.set('pools', { 'a-gpu0': { host: 'hosta', gpu: 0 }, 'b-gpu0': { host: 'hostb', gpu: 0 } });
  const step = (ws: string, id: string) => {
    for (const phase of (doc.get('phases') as { items: YAMLMap[] }).items) {
      for (const domain of (phase.get('domains') as { items: YAMLMap[] }).items) {
        for (const w of (domain.get('workstreams') as { items: YAMLMap[] }).items) {
          if (w.get('id') !== ws) continue;
          const s = (w.get('steps') as { items: YAMLMap[] }).items.find((x) => x.get('id') === id);
          if (s) return s;
        }
      }
    }
    throw new Error(`no step ${ws}/${id} in the flagship plan`);
  };
  step('WS-01', 'gemm').set('pool', 'a-gpu0');
  step('WS-12', 'pixelize').set('pool', 'a-gpu0');
  // hostb's step runs long enough (a bigger GEMM) to have its worker killed under it, and a lost
  // worker is noticed in seconds (heartbeats every second), not after the 90 s step timeout.
  const b = step('WS-05', 'gemm-512');
  b.set('pool', 'b-gpu0');
  b.setIn(['params', 'iterations'], 400);
  b.set('heartbeatTimeout', '5s');
  for (const [at, pool] of Object.entries(pins)) step(at.split('/')[0], at.split('/')[1]).set('pool', pool);
  const variant = path.join(dir, 'examples', variantName);
  writeFileSync(variant, doc.toString());
  return variant;
}

function sparky(args: string[], env: Record<string, string>) {
  return execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), ...args], {
    cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', timeout: 60_000, env: { ...env },
  });
}

const allSteps = (s: RunStatus): (StepStatus & { ws: string })[] =>
  s.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps.map((x) => ({ ...x, ws: w.id })))));
const stepOf = (s: RunStatus, ws: string, id: string) => allSteps(s).find((x) => x.ws === ws && x.id === id)!;

/** Executions per step, counted from the side effect every execution leaves: its attempt header. */
function executions(workflowId: string): Map<string, { count: number; hosts: Host[] }> {
  const out = new Map<string, { count: number; hosts: Host[] }>();
  for (const host of HOSTS) {
    const runDir = path.join(root, 'logs', host, workflowId);
    if (!existsSync(runDir)) continue;
    for (const ws of readdirSync(runDir)) {
      if (ws.startsWith('gate-') || !statSync(path.join(runDir, ws)).isDirectory()) continue;
      for (const f of readdirSync(path.join(runDir, ws))) {
        const n = (readFileSync(path.join(runDir, ws, f), 'utf8').match(/^--- attempt \d+ /gm) ?? []).length;
        const key = `${ws}/${f.replace(/\.log$/, '')}`;
        const e = out.get(key) ?? { count: 0, hosts: [] };
        e.count += n; e.hosts.push(host);
        out.set(key, e);
      }
    }
  }
  return out;
}

/** `status` names the UI's URL when it runs; its API must answer through the frontend. */
async function checkUi(status: string): Promise<void> {
  const url = status.match(/^ui\s+running\s+(\S+)/m)?.[1];
  if (!url) { assert.match(status, /^ui\s+not built/m); return; }
  const body = await eventually('the Web UI to list namespaces', async () => (await fetch(`${url}/api/v1/namespaces`)).text(),
    (text) => text.includes('"default"'), 30_000);
  assert.match(body, /"name":\s*"default"/);
  assert.match(await (await fetch(url)).text(), /<html/i);
}

// ---- the tests ---------------------------------------------------------------------------------
test('scripts/cluster builds (cached) and starts a four-process Temporal cluster on PostgreSQL', { timeout: 30 * 60_000 }, async (t) => {
  const r = await cluster(['start']);
  if (r.exitCode === 3) {
    skipReason = (r.all ?? '').split('\n').filter((l) => l.includes('ERROR')).join(' ') || 'a prerequisite is missing';
    t.skip(`cannot build or run a Temporal cluster here: ${skipReason}`);
    return;
  }
  assert.equal(r.exitCode, 0, r.all);
  started = true;
  t.diagnostic((r.all ?? '').split('\n').filter((l) => /built in|cluster up/.test(l)).join('\n'));
  const s = await cluster(['status']);
  assert.equal(s.exitCode, 0, s.all);
  for (const part of ['postgres', 'frontend', 'history', 'matching', 'worker']) assert.match(s.stdout, new RegExp(`^${part}\\s+running`, 'm'));
  // Four distinct server processes, each running one service from the one config file.
  const pids = ['frontend', 'history', 'matching', 'worker'].map(pidOf);
  assert.equal(new Set(pids).size, 4);
  for (const pid of pids) assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /deploy\/temporal\/temporal\.yaml/);
  // Sparky's search attributes are registered (from common/search-attributes.ts).
  const env = await clusterEnv();
  const client = await clientFor(env);
  const sa = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const { name } of SPARKY_SEARCH_ATTRIBUTES) assert.ok(name in sa.customAttributes, `${name} registered`);
  await client.connection.close();
  // The Web UI (when its server could be built here) is a client of the frontend: it lists the namespace.
  await checkUi(s.stdout);
  // Idempotent and cached: a second start builds nothing and starts nothing.
  const again = await cluster(['start']);
  assert.equal(again.exitCode, 0, again.all);
  assert.doesNotMatch(again.all ?? '', /building|initdb/);
  assert.deepEqual(['frontend', 'history', 'matching', 'worker'].map(pidOf), pids);
});

test('without Go, scripts/cluster says so and exits 3 (what makes this file skip)', async () => {
  const empty = path.join(root, 'no-tools');
  const r = await execa('bash', [SCRIPT, 'build'], {
    reject: false, all: true, stdin: 'ignore', env: { PATH: '/usr/bin:/bin', SPARKY_CLUSTER_TOOLS: empty, SPARKY_CLUSTER_DIR: path.join(root, 'no-cluster') },
  });
  assert.equal(r.exitCode, 3, r.all);
  assert.match(r.stderr, /ERROR: Go is not installed: the Temporal server is built from source/);
});

test('the flagship plan across two hosts survives history SIGKILL, a GPU worker SIGKILL and a PostgreSQL restart', { timeout: 12 * 60_000 }, async (t) => {
  if (!started) { t.skip(skipReason ? `no cluster: ${skipReason}` : 'the cluster did not start (see the first test)'); return; }
  const env = await clusterEnv();
  const dir = path.join(root, 'run1');
  mkdirSync(dir, { recursive: true });
  const plan = await flagshipOnTwoHosts(dir);
  startHosts(env);
  const workflowId = 'sparky-dgx-pixels-cluster-faults';
  const cliEnv = { ...process.env, ...env } as Record<string, string>;
  const started1 = await sparky(['run', plan, '--id', workflowId], cliEnv);
  assert.equal(started1.exitCode, 0, started1.all);
  let client = await clientFor(env);

  // One build from two folders: each host's CPU worker bundled for itself and declared the same build,
  // the deployment has that one version (current), and the run is pinned to it.
  const build = await workflowBuildId();
  assert.deepEqual([await declaredBuild('hosta'), await declaredBuild('hostb')], [build, build], 'both hosts declare this checkout\'s build');
  assert.ok(existsSync(path.join(CHECKOUTS.hostb, '.sparky', 'cache', `workflows-${build.slice('build-'.length)}.js`)), 'hostb bundled in its own folder');
  const deployment = await execa(TEMPORAL_BIN, ['worker', 'deployment', 'describe', '--name', 'sparky', '--output', 'json'], { reject: false, all: true, env: cliEnv });
  assert.equal(deployment.exitCode, 0, deployment.all);
  const info = JSON.parse(deployment.stdout) as { routingConfig?: { currentVersionBuildID?: string }; versionSummaries?: { BuildID: string }[] };
  assert.deepEqual(info.versionSummaries?.map((v) => v.BuildID), [build], deployment.stdout);
  assert.equal(info.routingConfig?.currentVersionBuildID, build, deployment.stdout);
  assert.equal(buildOf((await eventually('the run to be pinned', () => client.workflow.getHandle(workflowId).describe(),
    (d) => buildOf(d.raw) !== undefined)).raw), build, 'the run is pinned to the shared build');
  const status = () => client.workflow.getHandle(workflowId).query<RunStatus>('status');
  const faults: string[] = [];

  // Fault 1: SIGKILL the history service while phase 1 runs, then restart it.
  // (While a step runs, normally; if phase 1 slips by between two polls, while gate-1 checks or waits.)
  const before = await eventually('a phase-1 step to run', status, (s) => (stepOf(s, 'WS-01', 'membw').state === 'succeeded'
    && allSteps(s).some((x) => x.state === 'running')) || s.phases[0].gate?.state !== 'pending', 180_000);
  const history = pidOf('history');
  process.kill(history, 'SIGKILL');
  faults.push(`history SIGKILLed while ${allSteps(before).filter((x) => x.state === 'running').map((x) => `${x.ws}/${x.id}`).join(', ') || `gate-1 was ${before.phases[0].gate?.state}`}${allSteps(before).some((x) => x.state === 'running') ? ' ran' : ''}`);
  await new Promise((r) => setTimeout(r, 2000));
  const restarted = await cluster(['start']); // starts what is down: the history service
  assert.equal(restarted.exitCode, 0, restarted.all);
  assert.notEqual(pidOf('history'), history);

  // Gate 1: one approval, through Sparky's CLI.
  await eventually('gate-1 to wait', status, (s) => s.phases[0].gate?.state === 'waiting', 240_000);
  let a = await sparky(['approve', workflowId, 'gate-1', '--as', 'alice'], cliEnv);
  assert.equal(a.exitCode, 0, a.all);

  // Fault 2: SIGKILL hostb's GPU worker (and its inference server) while its pinned step runs.
  // The kill waits until the step really executes on hostb (its attempt header is in the log), not
  // merely until the status says running (scheduled: the worker may not have picked it up yet, and an
  // attempt it never started leaves no execution to count).
  const killedDuring = await eventually('WS-05/gemm-512 to execute on hostb', status, (s) => {
    const state = stepOf(s, 'WS-05', 'gemm-512').state;
    return state !== 'pending' && (state !== 'running' || (executions(workflowId).get('WS-05/gemm-512')?.count ?? 0) > 0);
  }, 180_000);
  const wasRunning = stepOf(killedDuring, 'WS-05', 'gemm-512').state === 'running';
  killWorker('gpu-hostb');
  faults.push(`hostb GPU worker SIGKILLed ${wasRunning ? 'while WS-05/gemm-512 ran' : 'after WS-05/gemm-512 finished'}`);
  await new Promise((r) => setTimeout(r, 2000));
  startWorker('gpu', 'hostb', env);

  // Fault 3: gate 2 needs two approvals; PostgreSQL restarts between them.
  await eventually('gate-2 to wait', status, (s) => s.phases[1].gate?.state === 'waiting', 300_000);
  a = await sparky(['approve', workflowId, 'gate-2', '--as', 'alice'], cliEnv);
  assert.equal(a.exitCode, 0, a.all);
  const pg = await cluster(['restart', 'postgres']);
  assert.equal(pg.exitCode, 0, pg.all);
  faults.push('PostgreSQL restarted while gate-2 waited');
  client = await clientFor(env);
  const kept = await eventually('gate-2 to answer after the restart', status, (s) => s.phases[1].gate?.state === 'waiting', 120_000);
  assert.deepEqual(kept.phases[1].gate?.approvals, ['alice'], 'the approval given before the restart is kept');
  a = await sparky(['approve', workflowId, 'gate-2', '--as', 'bob'], cliEnv);
  assert.equal(a.exitCode, 0, a.all);

  await eventually('gate-3 to wait', status, (s) => s.phases[2].gate?.state === 'waiting', 300_000);
  for (const who of ['alice', 'carol']) {
    a = await sparky(['approve', workflowId, 'gate-3', '--as', who], cliEnv);
    assert.equal(a.exitCode, 0, a.all);
  }
  await client.workflow.getHandle(workflowId).result();
  const final = await status();
  t.diagnostic(`faults: ${faults.join('; ')}`);
  assert.equal(final.state, 'completed');
  assert.deepEqual(final.phases.map((p) => [...(p.gate?.approvals ?? [])].sort()), [['alice'], ['alice', 'bob'], ['alice', 'carol']]);

  // Pinned steps ran on their host's queue and left their log on that host.
  const runs = executions(workflowId);
  for (const [ws, id, host] of [['WS-01', 'gemm', 'hosta'], ['WS-12', 'pixelize', 'hosta'], ['WS-05', 'gemm-512', 'hostb']] as const) {
    assert.equal(stepOf(final, ws, id).taskQueue, `sparky-gpu-${host}-0`, `${ws}/${id} queue`);
    assert.deepEqual(runs.get(`${ws}/${id}`)?.hosts, [host], `${ws}/${id} ran on ${host}`);
  }
  // Both hosts' CPU workers took part.
  for (const host of HOSTS) assert.ok([...runs.values()].some((e) => e.hosts.includes(host) && e.count > 0), `${host} ran steps`);
  // Every step that ran left exactly one execution; only the step killed under its worker may have two.
  const ran = allSteps(final).filter((x) => x.state === 'succeeded');
  assert.ok(ran.length >= 25, `${ran.length} steps succeeded`);
  for (const x of allSteps(final)) assert.ok(['succeeded', 'skipped'].includes(x.state), `${x.ws}/${x.id}: ${x.state}`);
  for (const x of ran) {
    const n = runs.get(`${x.ws}/${x.id}`)?.count ?? 0;
    if (x.ws === 'WS-05' && x.id === 'gemm-512' && wasRunning) assert.ok(n >= 1 && n <= 2, `WS-05/gemm-512 ran ${n} times`);
    else assert.equal(n, 1, `${x.ws}/${x.id} ran ${n} times`);
    // The attempt that succeeded (stamped by the worker) is the last execution the logs show.
    assert.equal(x.attempts ?? 1, n, `${x.ws}/${x.id}: attempts in the status vs executions in the logs`);
  }
  t.diagnostic(`${ran.length} steps succeeded; WS-05/gemm-512 executions: ${runs.get('WS-05/gemm-512')?.count}`);

  // The step cache across hosts (ADR 0011: its store is in the run root the hosts share): the same plan
  // again, with WS-01/gemm now pinned to hostb. Every cached step is a hit, and WS-01/gemm's is taken on
  // hostb from the entry hosta stored in the run above.
  const againPlan = await flagshipOnTwoHosts(dir, { 'WS-01/gemm': 'b-gpu0' }, 'dgx-pixels.two-hosts-again.plan.yaml');
  const againId = `${workflowId}-again`;
  const again = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'run', againPlan, '--id', againId,
    '--wait', '--auto-approve', 'alice,bob,carol'], { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', timeout: 300_000, env: cliEnv });
  assert.equal(again.exitCode, 0, (again.all ?? '').slice(-3000));
  const second = await client.workflow.getHandle(againId).query<RunStatus>('status');
  const gemm = stepOf(second, 'WS-01', 'gemm');
  assert.equal(gemm.state, 'cached', JSON.stringify(gemm));
  assert.equal(gemm.taskQueue, 'sparky-gpu-hostb-0', 'asked on hostb');
  assert.deepEqual([gemm.cache?.hit?.host, gemm.cache?.hit?.run], ['hosta', workflowId], 'from the entry hosta stored');
  // The steps whose cache is off run again: those the first run ran (WS-17/run's health check only
  // where a Docker engine answers; the plan's `when` skips it elsewhere).
  const loaded = await loadPlanFile(againPlan);
  assert.ok(loaded.plan, 'the plan loads');
  const uncachedSteps = new Set(loaded.plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
    w.steps.filter((x) => !cacheSettings(x, loaded.plan!.defaults)).map((x) => `${w.id}/${x.id}`)))));
  const uncached = allSteps(final).filter((x) => x.state === 'succeeded' && uncachedSteps.has(`${x.ws}/${x.id}`)).map((x) => `${x.ws}/${x.id}`).sort();
  for (const k of ['WS-01/prepare', 'WS-16/host-metrics']) assert.ok(uncached.includes(k), `${k} is uncached and ran`);
  const ranAgain = allSteps(second).filter((x) => x.state === 'succeeded').map((x) => `${x.ws}/${x.id}`).sort();
  const why = allSteps(second).filter((x) => x.state === 'succeeded' && !uncached.includes(`${x.ws}/${x.id}`))
    .map((x) => `${x.ws}/${x.id} (first run: ${stepOf(final, x.ws, x.id).state}): ${x.cache?.miss ?? 'no miss recorded'}`);
  assert.deepEqual(ranAgain, uncached, `only the uncached steps ran; ${why.join('; ')}`);
  assert.ok(allSteps(second).filter((x) => x.state === 'cached').length >= 25);
  const hits = [...new Set(allSteps(second).filter((x) => x.state === 'cached').map((x) => x.cache?.hit?.host))].sort();
  t.diagnostic(`second run: ${allSteps(second).filter((x) => x.state === 'cached').length} steps from the cache (entries made on ${hits.join(', ')}); WS-01/gemm on hostb from hosta`);
  for (const [key, e] of executions(againId)) assert.ok(e.count === 0 || uncached.includes(key), `${key} did not run again`);
  await client.connection.close();
  await stopWorkers();
});

test('with mTLS on, clients without the certificate are refused and Sparky runs with it on both hosts', { timeout: 10 * 60_000 }, async (t) => {
  if (!started) { t.skip(skipReason ? `no cluster: ${skipReason}` : 'the cluster did not start (see the first test)'); return; }
  // Same database, services restarted with the frontend requiring client certificates.
  const stop = await cluster(['stop']);
  assert.equal(stop.exitCode, 0, stop.all);
  const r = await cluster(['start'], { SPARKY_CLUSTER_TLS: '1' });
  assert.equal(r.exitCode, 0, r.all);
  const env = await clusterEnv();
  assert.ok(env.TEMPORAL_TLS_CLIENT_CERT_PATH && env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, JSON.stringify(env));
  // Refused: plain TCP, and TLS without a client certificate.
  await assert.rejects(async () => (await clientFor({ TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS })).workflowService.getSystemInfo({}));
  await assert.rejects(async () => (await clientFor({ TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TEMPORAL_TLS_SERVER_CA_CERT_PATH: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, TEMPORAL_TLS_SERVER_NAME: 'localhost' }))
    .workflowService.getSystemInfo({}));
  const cliEnv = { ...process.env, ...env } as Record<string, string>;
  const plainCli = await sparky(['status', 'last'], { ...process.env, TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS } as Record<string, string>);
  assert.equal(plainCli.exitCode, 3, plainCli.all);
  const st = await cluster(['status']);
  assert.match(st.stdout, /127\.0\.0\.1:\d+ \(mTLS\)/);
  await checkUi(st.stdout);
  // The temporal CLI reads the same variables (Temporal's environment configuration).
  const health = await execa(TEMPORAL_BIN, ['operator', 'cluster', 'health'], { reject: false, all: true, env: cliEnv });
  assert.match(health.all ?? '', /SERVING/);
  // Accepted: Sparky's workers on both hosts and its CLI, with the client certificate.
  startHosts(env);
  const dir = path.join(root, 'run2');
  mkdirSync(dir, { recursive: true });
  const plan = await flagshipOnTwoHosts(dir);
  const workflowId = 'sparky-dgx-pixels-cluster-mtls';
  // --no-cache: the work really runs again under mTLS (the cache holds the first run's results).
  const run = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'run', plan, '--id', workflowId,
    '--wait', '--auto-approve', 'alice,bob,carol', '--no-cache'], { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', timeout: 540_000, env: cliEnv });
  assert.equal(run.exitCode, 0, (run.all ?? '').slice(-3000));
  const client = await clientFor(env);
  const final = await client.workflow.getHandle(workflowId).query<RunStatus>('status');
  assert.equal(final.state, 'completed');
  const runs = executions(workflowId);
  assert.deepEqual(runs.get('WS-01/gemm')?.hosts, ['hosta']);
  assert.deepEqual(runs.get('WS-05/gemm-512')?.hosts, ['hostb']);
  for (const x of allSteps(final).filter((s) => s.state === 'succeeded')) assert.equal(runs.get(`${x.ws}/${x.id}`)?.count, 1, `${x.ws}/${x.id}`);
  await client.connection.close();
  await stopWorkers();
});
