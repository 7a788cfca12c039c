// A step kind is one module (plan/kinds/<kind>.ts) registered in plan/kinds/index.ts: every kind of the
// schema has a complete definition and a runner (checked by `tsc`, see the @ts-expect-error lines),
// documentation where its `docs` points, and paths/worktree mapping that never silently pass an
// unknown kind through (the bug a forgotten `default: return step` used to hide).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { STEP_KINDS, STEP_SCHEMAS, type StepBody } from '../../plan/schema.ts';
import { resolvePlanPaths } from '../../plan/paths.ts';
import { stepInWorktree } from '../../common/git-flow.ts';
import { validatePlan } from '../../plan/validate.ts';
import { planJsonSchema } from '../../plan/json-schema.ts';
import type { StepKindDef } from '../../plan/kinds/kind.ts';
import type { StepRunners } from '../../activities/runners.ts';

// Compile-time: a table of runners or definitions that misses a kind is a type error (tsc runs in npm test).
const run = async () => ({ status: 'succeeded' as const, durationMs: 0, taskQueue: 'x' });
// @ts-expect-error the runners table must name every kind (here `just` is missing)
export const missingRunner: StepRunners = { shell: run, docker: run, inference: run };
// @ts-expect-error a kind definition needs its worktree mapping (here inWorktree is missing)
export const missingPiece: StepKindDef<{ kind: 'x'; id: string }> = { kind: 'x', schema: STEP_SCHEMAS[0] as never, json: { id: 'X', description: '' }, docs: '', resolvePaths: (s) => s };

test('every kind of the step schema is registered once, with its JSON Schema definition and its docs section', async () => {
  const names = STEP_SCHEMAS.map((s) => s.shape.kind.value);
  assert.deepEqual(Object.keys(STEP_KINDS).sort(), [...names].sort());
  const defs = (planJsonSchema().$defs ?? {}) as Record<string, unknown>;
  const reference = await readFile(path.join(PROJECT_ROOT, 'docs', 'plan-reference.md'), 'utf8');
  const anchors = new Set([...reference.matchAll(/^#{2,4} (.+)$/gm)].map(([, h]) => h.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  for (const def of Object.values(STEP_KINDS) as StepKindDef<StepBody>[]) {
    assert.ok(defs[def.json.id], `plan.schema.json has no definition ${def.json.id} for kind ${def.kind}`);
    const [file, anchor] = def.docs.split('#');
    assert.equal(file, 'plan-reference.md');
    assert.ok(anchors.has(anchor), `docs/plan-reference.md has no section #${anchor} for kind ${def.kind}`);
  }
});

test('an unknown kind is never passed through silently: paths and worktree mapping refuse it loudly', () => {
  const strange = { id: 's', kind: 'teleport', cwd: 'x' } as unknown as StepBody;
  const plan = { name: 'p', baseDir: '/base', phases: [{ id: 'a', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: [strange] }] }] }] };
  assert.throws(() => resolvePlanPaths(plan as never), /unknown step kind "teleport" \(known: shell, docker, inference, just/);
  assert.throws(() => stepInWorktree(strange, '/repo', '/wt'), /unknown step kind "teleport"/);
  const v = validatePlan(plan);
  assert.equal(v.ok, false);
  assert.match(v.errors.map((e) => e.message).join('\n'), /unknown kind "teleport": expected one of shell, docker, inference, just/);
});

test('each kind resolves and maps its own path fields (one example per kind)', () => {
  const steps: StepBody[] = [
    { id: 'a', kind: 'shell', run: ['make'], cwd: 'src' },
    { id: 'b', kind: 'docker', action: 'run', image: 'x', volumes: ['./data:/data'] },
    { id: 'c', kind: 'inference', op: 'gemm', inputs: { i: 'in/*.png' }, outputDir: 'out' },
    { id: 'd', kind: 'just', recipe: 'build', justfile: 'justfile' },
  ];
  const plan = resolvePlanPaths({ name: 'p', baseDir: '/repo', phases: [{ id: 'a', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: steps as never }] }] }] });
  const resolved = plan.phases[0].domains[0].workstreams[0].steps;
  const moved = resolved.map((s) => stepInWorktree(s, '/repo', '/wt'));
  assert.deepEqual(moved.map((s) => JSON.stringify(s)), [
    '{"id":"a","kind":"shell","run":["make"],"cwd":"/wt/src"}',
    '{"id":"b","kind":"docker","action":"run","image":"x","volumes":["/wt/data:/data"],"cwd":"/wt"}',
    '{"id":"c","kind":"inference","op":"gemm","inputs":{"i":"/wt/in/*.png"},"outputDir":"/wt/out"}',
    '{"id":"d","kind":"just","recipe":"build","justfile":"/wt/justfile","workdir":"/wt"}',
  ]);
});
