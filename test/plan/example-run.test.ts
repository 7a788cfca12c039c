// The DGX-Pixels example, end to end on the real stack: `sparky dev --run … --exit-when-done`
// starts a Temporal dev server, the CPU worker and the GPU pool (a CPU-backed inference server
// here), runs all three phases, and the three gates pass their checks and get their approvals.
// Runs on a copy of examples/ with its own ports and data directory, so it collides with nothing.
// The steps that depend on the machine (a GPU, a Docker engine, SPARKY_CI_TOKEN) run or are skipped
// as this machine implies; the artifacts land in the run's own directory, not in the example's folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { probeDocker } from '../../activities/docker-engine.ts';
import { runDir } from '../../activities/run-dir.ts';
import { visibleGpus } from '../../activities/when.ts';
import { freePort } from '../../host/ports.ts';
import { PROJECT_ROOT, TEMPORAL_BIN, VENV_PYTHON } from '../../host/paths.ts';
import { exampleCopy } from '../helpers/example.ts';

test('sparky dev --run examples/dgx-pixels.plan.yaml completes with every gate approved', { timeout: 420_000 }, async (t) => {
  if (!existsSync(TEMPORAL_BIN) || !existsSync(VENV_PYTHON)) { t.skip('run `npm run setup` first: the Temporal CLI or the Python venv is missing'); return; }
  // Unattended, as CI runs it: a failing step or check ends the run at once (onFailure: compensate)
  // instead of waiting in attention for a person who is not there.
  const { root, planFile: plan } = await exampleCopy('sparky-example-run-', (yaml) => {
    assert.match(yaml, /^onFailure: ask\b/m);
    return yaml.replace(/^onFailure: ask\b.*$/m, 'onFailure: compensate');
  });
  // Another test file may start the shared dockerd (test/helpers/docker.ts) while this runs: probe
  // before and after, and judge the docker steps only when the answer held throughout.
  const dockerBefore = (await probeDocker()).ok;
  const run = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'dev', '--run', plan,
    '--auto-approve', 'alice,bob,carol', '--exit-when-done'], {
    cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', timeout: 400_000,
    env: {
      SPARKY_DATA_DIR: path.join(root, 'data'), SPARKY_TEMPORAL_PORT: String(await freePort()), SPARKY_UI_PORT: String(await freePort()),
      SPARKY_TEMPORAL_BIN: TEMPORAL_BIN,
    },
  });
  const log = run.all ?? '';
  t.diagnostic(log.split('\n').filter((l) => /skipped|gate .*: (approved|failed|rejected)|completed|failed/.test(l)).join('\n'));
  assert.equal(run.exitCode, 0, log.slice(-4000));
  const runId = /(sparky-dgx-pixels-\S+) completed/.exec(log)?.[1];
  assert.ok(runId, 'the run did not complete');
  for (const gate of ['gate-1', 'gate-2', 'gate-3']) assert.match(log, new RegExp(`gate ${gate}: approved`), gate);
  // Skipped exactly where this machine lacks the thing (with the reason), run where it has it.
  const expect = (step: string, runs: boolean, why: RegExp) =>
    assert.match(log, runs ? new RegExp(`${step}: succeeded`) : new RegExp(`${step}: skipped: .*${why.source}`), `${step} (expected it to ${runs ? 'run' : 'be skipped'} here)`);
  expect('WS-16/gpu-metrics', (await visibleGpus()).count > 0, /GPU/);
  expect('WS-18/sign', Boolean(process.env.SPARKY_CI_TOKEN), /SPARKY_CI_TOKEN/);
  const dockerAfter = (await probeDocker()).ok;
  if (dockerBefore === dockerAfter) expect('WS-17/run', dockerAfter, /Docker/);
  else t.diagnostic('a Docker engine came up during the run: the docker steps are not judged');
  // The artifacts are real: pixelized sprites, side-by-side comparisons, the deployable archive,
  // in the run's own directory; the example's folder got nothing.
  assert.equal(existsSync(path.join(root, 'examples', 'dgx-pixels', 'out')), false, 'the run wrote into the example\'s folder');
  const out = path.join(runDir(path.join(root, 'data', 'logs'), runId), 'out');
  assert.equal((await readdir(path.join(out, 'pixelized'))).filter((f) => f.endsWith('.png')).length, 4);
  assert.equal((await readdir(path.join(out, 'compare'))).length, 4);
  assert.equal(JSON.parse(await readFile(path.join(out, 'repro.json'), 'utf8')).identical, true);
  assert.ok(existsSync(path.join(out, 'deploy', 'sprites.tar.gz')));
  await rm(root, { recursive: true, force: true });
});
