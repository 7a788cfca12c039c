// Analysis on the DGX-Pixels example: the seed's critical path, the three durations (low / mid /
// high), parallelism per phase; and the mermaid diagram's structure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadPlanFile } from '../../plan/load.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { planToMermaid } from '../../plan/mermaid.ts';
import { DAY_MS } from '../../plan/durations.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { basePlan } from './plans.ts';

const days = (s: { low: number; mid: number; high: number }) => [s.low / DAY_MS, s.mid / DAY_MS, s.high / DAY_MS];

test('the example: critical path WS-01→04→05→10→13→14 and its durations', async () => {
  const loaded = await loadPlanFile(path.join(PROJECT_ROOT, 'examples', 'dgx-pixels.plan.yaml'));
  const a = analyzePlan(loaded.plan!);
  assert.deepEqual(a.criticalPath.path, ['WS-01', 'WS-04', 'WS-05', 'WS-10', 'WS-13', 'WS-14']);
  assert.deepEqual(days(a.criticalPath.span), [28, 31.5, 35]);   // 3+4+5+5+5+6 … 4+5+7+6+6+7
  assert.deepEqual(days(a.serial), [83, 94.5, 106]);             // the sum of all 18 estimates
  assert.deepEqual(days(a.scheduled), [43, 49, 55]);             // phases back to back, gates as barriers
  assert.deepEqual(a.phases.map((p) => days(p.length)), [[7, 8, 9], [21, 24, 27], [15, 17, 19]]);
  assert.deepEqual(a.phases.map((p) => p.maxParallel), [2, 4, 3]);
  const start = (id: string) => a.workstreams.find((w) => w.id === id)!.start.mid / DAY_MS;
  assert.deepEqual(['WS-01', 'WS-04', 'WS-10', 'WS-13', 'WS-18'].map(start), [0, 8, 18.5, 32, 42]);
  assert.deepEqual(a.counts, { phases: 3, domains: 4, workstreams: 18, steps: 33, gates: 3 });
  // Topological: every workstream after all of its dependencies.
  const at = new Map(a.order.map((id, i) => [id, i]));
  assert.equal(a.order.length, 18);
  for (const w of a.workstreams) for (const d of w.dependsOn) assert.ok(at.get(d)! < at.get(w.id)!, `${d} before ${w.id}`);
  assert.deepEqual(a.phases.map((p) => p.gate && [p.gate.id, p.gate.required, p.gate.approvers.length]), [['gate-1', 1, 2], ['gate-2', 2, 3], ['gate-3', 2, 2]]);
});

test('barriers matter: a short chain in a later phase waits for the whole earlier phase', () => {
  const plan = basePlan(); // A 2d → B 1-3d in phase one; C 4d (after B) in phase two
  plan.phases[0].domains[0].workstreams.push({ id: 'Long', estimate: '10d', steps: [{ id: 's', kind: 'shell', run: ['true'] }] });
  const a = analyzePlan(plan);
  assert.deepEqual(a.criticalPath.path, ['Long']);
  assert.deepEqual(days(a.criticalPath.span), [10, 10, 10]);
  assert.deepEqual(days(a.scheduled), [14, 14, 14]);             // Long, then C
  assert.deepEqual(days(a.serial), [17, 18, 19]);
  assert.equal(a.phases[0].maxParallel, 2);
});

test('the mermaid diagram: phases and domains nested, gates between phases, edges, critical path marked', async () => {
  const plan = basePlan();
  const text = planToMermaid(plan, { criticalPath: ['A', 'B', 'C'] });
  assert.equal(text, [
    'flowchart TD',
    '  subgraph p0["one"]',
    '    subgraph p0d0["d1"]',
    '      ws0["A<br/>2d"]',
    '      ws1["B<br/>1-3d"]',
    '    end',
    '  end',
    '  subgraph p1["two"]',
    '    subgraph p1d0["d2"]',
    '      ws2["C<br/>4d"]',
    '    end',
    '  end',
    '  g0{{"g1<br/>1 check<br/>2 of 2: ann, bo"}}',
    '  p0 --> g0',
    '  g0 --> p1',
    '  ws0 --> ws1',
    '  ws1 --> ws2',
    '  classDef critical stroke:#d03030,stroke-width:3px',
    '  class ws0,ws1,ws2 critical',
    '',
  ].join('\n'));
  plan.phases[0].name = 'say "hi" <now>';
  assert.match(planToMermaid(plan), /subgraph p0\["one: say #quot;hi#quot; #lt;now#gt;"\]/);
});
