// Every example plan in examples/ loads and validates as `sparky validate` does it (shape, semantic
// rules, justfiles, the agent CLIs installed by scripts/setup), so none can rot unnoticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { formatErrors, loadPlanFile } from '../../plan/load.ts';

test('every examples/*.plan.{yaml,json} validates', async () => {
  const dir = path.join(PROJECT_ROOT, 'examples');
  const plans = (await readdir(dir)).filter((f) => /\.plan\.(ya?ml|json)$/.test(f)).sort();
  assert.ok(plans.includes('agent-workstreams.plan.yaml') && plans.includes('dgx-pixels.plan.yaml'), plans.join(', '));
  for (const file of plans) {
    const loaded = await loadPlanFile(path.join(dir, file));
    assert.equal(loaded.ok, true, `${file}:\n${formatErrors(loaded.errors)}`);
  }
});

test('examples/agent-workstreams.plan.yaml: two agent workstreams (one per CLI), verified by tests, committed, behind a signed gate', async () => {
  const loaded = await loadPlanFile(path.join(PROJECT_ROOT, 'examples', 'agent-workstreams.plan.yaml'));
  const phase = loaded.plan!.phases[1];
  const steps = phase.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps));
  assert.deepEqual(steps.map((s) => s.kind === 'agent' && s.agent), ['claude-code', 'codex']);
  for (const s of steps) assert.ok(s.kind === 'agent' && s.verify?.length && s.commit && s.apiKey);
  const approver = phase.gate?.approval?.approvers[0];
  assert.ok(typeof approver === 'object' && approver.key, 'the gate is signed');
});
