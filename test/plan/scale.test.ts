// A 2,000-workstream plan (long dependency chains, an output reference per workstream) validates
// and analyses well under a second on these 2-core machines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { validatePlan } from '../../plan/validate.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { loadPlanText } from '../../plan/load.ts';
import { bigPlan } from './plans.ts';

function best(fn: () => void, runs = 3): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

test('2,000 workstreams: validation under a second (measured, best of 3)', (t) => {
  const plan = bigPlan(2000);
  const result = validatePlan(plan);
  assert.equal(result.ok, true, JSON.stringify(result.ok ? [] : result.errors.slice(0, 3)));
  const ms = best(() => validatePlan(plan));
  t.diagnostic(`validatePlan(2,000 workstreams, 4,000 steps): ${ms.toFixed(1)} ms`);
  assert.ok(ms < 1000, `validation took ${ms.toFixed(0)} ms`);
  const analysis = best(() => analyzePlan(plan));
  t.diagnostic(`analyzePlan: ${analysis.toFixed(1)} ms`);
  assert.ok(analysis < 1000, `analysis took ${analysis.toFixed(0)} ms`);
  assert.equal(analyzePlan(plan).order.length, 2000);
  // A generated plan is usually JSON: read without the YAML position parse unless there are errors.
  const json = JSON.stringify(plan, null, 2);
  const load = best(() => assert.equal(loadPlanText(json, '/plans/big.plan.json').ok, true));
  t.diagnostic(`loadPlanText(${(json.length / 1024).toFixed(0)} KiB JSON): ${load.toFixed(1)} ms`);
  assert.ok(load < 1000, `loading took ${load.toFixed(0)} ms`);
});

test('2,000 workstreams with errors: all reported, still fast; loading from YAML keeps positions', (t) => {
  const plan = bigPlan(2000);
  const wss = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams));
  for (let i = 0; i < wss.length; i += 100) wss[i].dependsOn = [...(wss[i].dependsOn ?? []), `missing-${i}`];
  const ms = best(() => validatePlan(plan));
  const result = validatePlan(plan);
  assert.equal(result.ok, false);
  assert.equal(result.errors.length, 20);
  assert.ok(ms < 1000, `validation took ${ms.toFixed(0)} ms`);
  const yamlText = stringify(plan);
  const t0 = performance.now();
  const loaded = loadPlanText(yamlText, 'big.yaml');
  const loadMs = performance.now() - t0;
  t.diagnostic(`loadPlanText(${(yamlText.length / 1024).toFixed(0)} KiB YAML): ${loadMs.toFixed(0)} ms`);
  assert.equal(loaded.errors.length, 20);
  const lines = yamlText.split('\n');
  for (const e of loaded.errors) assert.match(lines[e.line - 1], new RegExp(`missing-\\d+`), `${e.line}: ${lines[e.line - 1]}`);
});
