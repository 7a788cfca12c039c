// A gate-check kind is one module (plan/checks/<kind>.ts) registered in plan/checks/index.ts, like a
// step kind: every kind of the check schema has a complete definition and a runner (checked by `tsc`:
// see the @ts-expect-error lines), a docs section, its own rules, and path resolution that refuses an
// unknown kind instead of passing it through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { CHECK_KINDS, CHECK_SCHEMAS } from '../../plan/checks/index.ts';
import type { CheckKindDef } from '../../plan/checks/kind.ts';
import type { CheckRunners } from '../../activities/checks.ts';
import { resolvePlanPaths } from '../../plan/paths.ts';
import { validatePlan } from '../../plan/validate.ts';
import type { Plan } from '../../plan/schema.ts';

const verdict = () => ({ passed: true, measured: 0, message: '' });
// @ts-expect-error the runners table must name every check kind (here `http` is missing)
export const missingRunner: CheckRunners = { command: verdict, file: verdict, metric: verdict };
// @ts-expect-error a check kind needs its path resolution
export const missingPiece: CheckKindDef<{ kind: 'x'; id: string }> = { kind: 'x', schema: CHECK_SCHEMAS[0] as never, docs: '' };

test('every check kind of the schema is registered once, with its docs section', async () => {
  assert.deepEqual(Object.keys(CHECK_KINDS).sort(), CHECK_SCHEMAS.map((s) => s.shape.kind.value).sort());
  const reference = await readFile(path.join(PROJECT_ROOT, 'docs', 'plan-reference.md'), 'utf8');
  const anchors = new Set([...reference.matchAll(/^#{2,4} (.+)$/gm)].map(([, h]) => h.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  for (const def of Object.values(CHECK_KINDS)) {
    const [file, anchor] = def.docs.split('#');
    assert.equal(file, 'plan-reference.md');
    assert.ok(anchors.has(anchor), `docs/plan-reference.md has no section #${anchor} for check kind ${def.kind}`);
  }
});

test('each kind brings its own rules and paths: a metric names a visible step, a command an argv, a file path is resolved', () => {
  const plan = (checks: unknown[]) => ({ name: 'p', phases: [{ id: 'p1', domains: [{ id: 'd', workstreams: [{ id: 'W', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] }],
    gate: { id: 'g', checks } }] });
  const errors = (checks: unknown[]) => { const r = validatePlan(plan(checks)); return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`); };
  assert.deepEqual(errors([{ id: 'm', kind: 'metric', metric: 'W.s' }]), ['phases[0].gate.checks[0].metric: metric "W.s" must be <workstream>.<step>.<output key>']);
  assert.match(errors([{ id: 'm', kind: 'metric', metric: 'X.s.k' }])[0], /metric "X.s.k": unknown workstream "X"/);
  assert.deepEqual(errors([{ id: 'c', kind: 'command', run: [' '] }]), ['phases[0].gate.checks[0].run[0]: argv[0] (the program) must not be empty']);
  const ok = validatePlan({ ...plan([{ id: 'f', kind: 'file', path: 'out/report.json' }, { id: 'c', kind: 'command', run: ['true'] }]), baseDir: '/plans' });
  assert.ok(ok.ok);
  const resolved = resolvePlanPaths(ok.plan);
  assert.deepEqual(resolved.phases[0].gate!.checks!.map((c) => ('path' in c ? c.path : 'cwd' in c ? c.cwd : undefined)), ['/plans/out/report.json', '/plans']);
  const strange = { ...ok.plan, phases: [{ ...ok.plan.phases[0], gate: { id: 'g', checks: [{ id: 't', kind: 'teleport' }] } }] } as unknown as Plan;
  assert.throws(() => resolvePlanPaths(strange), /unknown gate check kind "teleport" \(known: command, file, metric, http\)/);
});
