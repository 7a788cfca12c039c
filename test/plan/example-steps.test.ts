// The DGX-Pixels example's shell steps really work: run in dependency order, straight from the
// loaded plan (argv, cwd, env, output references substituted from earlier steps' real outputs), on
// a copy of examples/ so nothing in the checkout changes. Then the gate checks this test can judge
// (files with JSON fields, metrics), and the compensations newest first. Docker and inference steps
// need their runners (the workflow tests run them); steps that need their results are skipped here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadPlanFile, formatErrors } from '../../plan/load.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { findOutputRefs, substituteOutputs } from '../../plan/outputs.ts';
import type { ShellStep, Step } from '../../plan/schema.ts';
import { PROJECT_ROOT } from '../../workers/paths.ts';

/** Outputs as the shell runner reads them: a JSON file relative to cwd, or the last stdout line. */
async function readOutputs(step: ShellStep, stdout: string): Promise<Record<string, unknown>> {
  if (!step.outputs) return {};
  if (step.outputs.from === 'json-file') return JSON.parse(await readFile(path.resolve(step.cwd!, step.outputs.file!), 'utf8'));
  const last = stdout.trim().split('\n').filter(Boolean).pop() ?? '';
  return JSON.parse(last);
}

const dig = (value: unknown, keys: string[]) => keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);

test('the example\'s shell steps, gate checks and compensations run for real', { timeout: 600_000 }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sparky-example-'));
  await cp(path.join(PROJECT_ROOT, 'examples'), path.join(root, 'examples'), { recursive: true, filter: (src) => !src.includes(`${path.sep}out`) });
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules')); // ipc-pingpong.mjs imports zeromq
  const loaded = await loadPlanFile(path.join(root, 'examples', 'dgx-pixels.plan.yaml'));
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  const plan = loaded.plan!;
  const byId = new Map(plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).map((w) => [w.id, w]));
  const outputs: Record<string, Record<string, unknown>> = {};
  const skipped = new Map<string, string>();
  const done: Step[] = [];
  const slow: string[] = [];
  const t0 = Date.now();

  for (const wsId of analyzePlan(plan).order) {
    for (const step of byId.get(wsId)!.steps) {
      const key = `${wsId}.${step.id}`;
      const needs = findOutputRefs(step).map((r) => `${r.workstream}.${r.step}`).find((k) => skipped.has(k));
      const reason = step.kind !== 'shell' ? `${step.kind} step (needs its runner)`
        : step.when?.gpu ? 'needs a GPU' : step.when?.docker ? 'feeds the docker steps'
        : step.when?.env && !process.env[step.when.env] ? `${step.when.env} is not set`
        : needs ? `uses the outputs of ${needs}`
        : step.run.some((a) => a.includes('out/pixelized')) ? 'reads the pixelize results' : undefined;
      if (reason) { skipped.set(key, reason); continue; }
      const s = substituteOutputs(step as ShellStep, outputs);
      const started = Date.now();
      const result = await execa(s.run[0], s.run.slice(1), {
        cwd: s.cwd, env: { ...plan.env, ...s.env }, reject: false, timeout: 60_000, stdin: 'ignore',
      });
      const took = Date.now() - started;
      assert.equal(result.exitCode, 0, `${key} failed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`);
      if (took > 60_000) slow.push(key);
      outputs[key] = await readOutputs(s, result.stdout);
      done.push(step);
      t.diagnostic(`${key}: ${took} ms ${JSON.stringify(outputs[key]).slice(0, 100)}`);
    }
  }
  t.diagnostic(`ran ${done.length} steps in ${Date.now() - t0} ms; skipped: ${[...skipped].map(([k, r]) => `${k} (${r})`).join(', ')}`);
  assert.deepEqual(slow, []);
  assert.ok(done.length >= 22, `only ${done.length} shell steps ran`);
  assert.equal(outputs['WS-02.compare'].identical, true);
  assert.ok((outputs['WS-06.train'].final_loss as number) < (outputs['WS-06.train'].initial_loss as number));
  assert.deepEqual(outputs['WS-08.render'], { cells: 2048, bytes: outputs['WS-08.render'].bytes, opaque: 1411 });
  assert.equal(outputs['WS-14.load'].mapped, 1411); // the plugin saw the same sprite, through output references

  // Gate checks this test can judge without the runners: JSON fields of files, and metrics.
  let judged = 0;
  for (const phase of plan.phases) {
    for (const check of phase.gate?.checks ?? []) {
      let value: unknown;
      if (check.kind === 'file') {
        await stat(check.path);
        value = check.field ? dig(JSON.parse(await readFile(check.path, 'utf8')), check.field.split('.')) : true;
      } else if (check.kind === 'metric') {
        const [ws, st, ...keyPath] = check.metric.split('.');
        if (!(`${ws}.${st}` in outputs)) continue;
        value = dig(outputs[`${ws}.${st}`], keyPath);
      } else continue;
      if ('atLeast' in check && check.atLeast !== undefined) assert.ok((value as number) >= check.atLeast, `${check.id}: ${value} < ${check.atLeast}`);
      if ('atMost' in check && check.atMost !== undefined) assert.ok((value as number) <= check.atMost, `${check.id}: ${value} > ${check.atMost}`);
      if ('equals' in check && check.equals !== undefined) assert.deepEqual(value, check.equals, check.id);
      judged++;
    }
  }
  assert.ok(judged >= 6, `judged ${judged} checks`);

  // Compensations, newest first, as the saga would run them: the outputs are gone afterwards.
  for (const step of done.reverse()) {
    const comp = step.compensate;
    if (comp?.kind !== 'shell') continue;
    const result = await execa(comp.run[0], comp.run.slice(1), { cwd: comp.cwd, reject: false });
    assert.equal(result.exitCode, 0, `compensation ${comp.id}: ${result.stderr}`);
  }
  await assert.rejects(stat(path.join(plan.baseDir!, 'out')), /ENOENT/);
  await rm(root, { recursive: true, force: true });
});
