// The DGX-Pixels example's shell steps really work: run in dependency order, straight from the
// loaded plan, through the real activities (activities/index.ts: argv, cwd, env, $SPARKY_RUN_DIR,
// outputs) called directly, with output references substituted from earlier steps' real outputs, on a
// copy of examples/. Then the gate checks it can judge (files with JSON fields, metrics) through the
// real gate-check runner, and the compensations newest first. Every file lands in the run's own
// directory, none in the example's folder. Docker and inference steps need their workers (the workflow
// tests run them); steps that need their results are skipped here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StepContext } from '../../common/activity-types.ts';
import { createActivities } from '../../activities/index.ts';
import { runDir } from '../../activities/run-dir.ts';
import { loadPlanFile, formatErrors } from '../../plan/load.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { findOutputRefs, substituteOutputs } from '../../plan/outputs.ts';
import type { Step, StepBody } from '../../plan/schema.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';

test('the example\'s shell steps, gate checks and compensations run for real, in the run\'s own directory', { timeout: 600_000 }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'sparky-example-'));
  await cp(path.join(PROJECT_ROOT, 'examples'), path.join(root, 'examples'), { recursive: true, filter: (src) => !src.includes(`${path.sep}out`) });
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules')); // ipc-pingpong.mjs imports zeromq
  const loaded = await loadPlanFile(path.join(root, 'examples', 'dgx-pixels.plan.yaml'));
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  const plan = loaded.plan!;
  const logDir = path.join(root, 'logs');
  const activities = createActivities({ logDir, killGraceMs: 1_000 });
  const runWorkflowId = 'sparky-dgx-pixels-example-steps';
  const ctxOf = (wsId: string, step: StepBody, compensation = false): StepContext => ({
    runWorkflowId, planName: plan.name, phaseId: 'p', domainId: 'd', workstreamId: wsId, stepId: step.id, env: plan.env,
    idempotencyKey: `${runWorkflowId}/${wsId}/${step.id}${compensation ? '/compensate' : ''}`, compensation,
  });
  const byId = new Map(plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).map((w) => [w.id, w]));
  const outputs: Record<string, Record<string, unknown>> = {};
  const skipped = new Map<string, string>();
  const done: { wsId: string; step: Step }[] = [];
  const slow: string[] = [];
  const t0 = Date.now();

  for (const wsId of analyzePlan(plan).order) {
    for (const step of byId.get(wsId)!.steps) {
      const key = `${wsId}.${step.id}`;
      const needs = findOutputRefs(step).map((r) => `${r.workstream}.${r.step}`).find((k) => skipped.has(k));
      const reason = step.kind !== 'shell' ? `${step.kind} step (needs its worker)`
        : step.when?.gpu ? 'needs a GPU' : step.when?.docker ? 'feeds the docker steps'
        : step.when?.env && !process.env[step.when.env] ? `${step.when.env} is not set`
        : needs ? `uses the outputs of ${needs}`
        : step.run.some((a) => a.includes('out/pixelized')) ? 'reads the pixelize results' : undefined;
      if (reason) { skipped.set(key, reason); continue; }
      const started = Date.now();
      const result = await activities.runStep({ step: substituteOutputs(step, outputs), ctx: ctxOf(wsId, step) })
        .catch((err: Error) => assert.fail(`${key} failed: ${err.message}`));
      const took = Date.now() - started;
      assert.equal(result.status, 'succeeded', key);
      if (took > 60_000) slow.push(key);
      outputs[key] = result.outputs ?? {};
      done.push({ wsId, step });
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

  // The files are in the run's own directory; the example's folder got none.
  const out = path.join(runDir(logDir, runWorkflowId), 'out');
  assert.ok((await readdir(out)).includes('membw.json'), `no membw.json in ${out}`);
  await assert.rejects(stat(path.join(plan.baseDir!, 'out')), /ENOENT/);

  // Gate checks this test can judge without the docker and inference steps, by the real runner.
  let judged = 0;
  for (const phase of plan.phases) {
    for (const check of phase.gate?.checks ?? []) {
      if (check.kind !== 'file' && check.kind !== 'metric') continue;
      if (check.kind === 'metric' && !(check.metric.split('.').slice(0, 2).join('.') in outputs)) continue;
      const result = await activities.runGateCheck({ check, outputs, ctx: { runWorkflowId, planName: plan.name, phaseId: phase.id, gateId: phase.gate!.id, env: plan.env } });
      assert.equal(result.passed, true, `${check.id}: ${result.message}`);
      judged++;
    }
  }
  assert.ok(judged >= 6, `judged ${judged} checks`);

  // Compensations, newest first, as the saga would run them: the outputs are gone afterwards.
  for (const { wsId, step } of done.reverse()) {
    const comp = step.compensate;
    if (comp?.kind !== 'shell') continue;
    await activities.runStep({ step: comp, ctx: ctxOf(wsId, comp, true) }).catch((err: Error) => assert.fail(`compensation ${comp.id}: ${err.message}`));
  }
  await assert.rejects(stat(out), /ENOENT/);
  await rm(root, { recursive: true, force: true });
});
