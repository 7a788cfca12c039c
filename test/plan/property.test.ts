// Property-based tests (fast-check): thousands of broken plans never make the validator throw and
// always come back as errors with a path and a message; generated valid plans survive
// YAML → JSON → validation unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { validatePlan } from '../../plan/validate.ts';
import { loadPlanText } from '../../plan/load.ts';
import type { Plan } from '../../plan/schema.ts';
import { basePlan, paths, setAt } from './plans.ts';

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' })).filter((s) => !s.includes('${{'));
const id = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,8}$/);

const allPaths = paths(basePlan());

/** A mutation that certainly breaks the plan: a wrong type, an unknown field, or a dangling reference. */
const brokenPlan = fc.oneof(
  // Replace any node by a value of a type no field of the schema accepts there.
  fc.tuple(fc.constantFrom(...allPaths.filter((p) => p.length > 0)), fc.constantFrom<unknown>(null, true, [[]], { '\u0000': 1 }))
    .map(([path, value]) => setAt(basePlan(), path, value)),
  // An unknown field on any mapping.
  fc.tuple(fc.constantFrom(...allPaths.filter((p) => typeof p[p.length - 1] === 'number' || p.length === 0 || p[p.length - 1] === 'gate')),
    fc.stringMatching(/^x[a-z]{1,6}$/), fc.jsonValue())
    .map(([path, key, value]) => {
      const plan = basePlan() as unknown;
      let node = plan as Record<string | number, unknown>;
      for (const seg of path) node = node[seg] as Record<string | number, unknown>;
      if (Array.isArray(node) || node === null || typeof node !== 'object') return setAt(plan, path, 42);
      node[key] = value;
      return plan;
    }),
  // A dependency, pool or output reference that names nothing.
  id.map((name) => setAt(basePlan(), ['phases', 0, 'domains', 0, 'workstreams', 1, 'dependsOn'], ['A', `zz-${name}`])),
  id.map((name) => setAt(basePlan(), ['phases', 1, 'domains', 0, 'workstreams', 0, 'steps', 0, 'pool'], `pool-${name}`)),
  id.map((name) => setAt(basePlan(), ['phases', 0, 'domains', 0, 'workstreams', 0, 'steps', 0, 'run'], ['echo', `\${{ outputs.${name}.q.k }}`])),
  // Anything at all.
  fc.anything({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 5 }).map((v) => ({ name: 'x', phases: [v] })),
);

test('thousands of broken plans: never throws, every error has a path and a message', () => {
  let errorsSeen = 0;
  fc.assert(fc.property(brokenPlan, (input) => {
    const result = validatePlan(input);
    assert.equal(result.ok, false);
    assert.ok(result.errors.length > 0);
    for (const e of result.errors) {
      assert.equal(typeof e.path, 'string');
      assert.ok(e.path.length > 0, `empty path for ${e.message}`);
      assert.ok(e.message.length > 0, `empty message at ${e.path}`);
    }
    errorsSeen += result.errors.length;
  }), { numRuns: 3000 });
  assert.ok(errorsSeen >= 3000);
});

/** Valid plans: unique ids, dependencies only on earlier workstreams, approvals within bounds. */
const validPlan = fc.record({
  name: id,
  description: fc.option(text, { nil: undefined }),
  shape: fc.array(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
  argv: fc.array(fc.array(text, { minLength: 1, maxLength: 4 }).map((a) => (a[0].trim() === '' ? ['prog', ...a] : a)), { minLength: 1, maxLength: 20 }),
  deps: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 1, maxLength: 40 }),
  estimates: fc.array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 3 }), fc.constantFrom('h', 'd')), { minLength: 1 }),
  approvers: fc.uniqueArray(id, { minLength: 1, maxLength: 4 }),
  env: fc.dictionary(fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,6}$/).filter((n) => !/TOKEN|SECRET|PASSW|KEY|CREDENTIAL/.test(n)), text, { maxKeys: 3 }).map((d) => ({ ...d })),
}).map((g): Plan => {
  let n = 0;
  const phases: Plan['phases'] = g.shape.map((domains, p) => ({
    id: `p${p}`,
    domains: domains.map((count, d) => ({
      id: `d${d}`,
      workstreams: Array.from({ length: count }, () => {
        const i = n++;
        const [lo, extra, unit] = g.estimates[i % g.estimates.length];
        const deps = [...new Set((g.deps[i % g.deps.length] ?? []).filter(() => i > 0).map((k) => `W${k % i}`))];
        return {
          id: `W${i}`, estimate: extra ? `${lo}-${lo + extra}${unit}` : `${lo}${unit}`,
          ...(deps.length ? { dependsOn: deps } : {}),
          steps: [{ id: 's', kind: 'shell' as const, run: g.argv[i % g.argv.length], ...(Object.keys(g.env).length ? { env: g.env } : {}) }],
        };
      }),
    })),
    gate: { id: `g${p}`, approval: { approvers: g.approvers, required: 1 + (p % g.approvers.length) } },
  }));
  return { name: g.name, ...(g.description !== undefined ? { description: g.description } : {}), phases };
});

test('valid generated plans round-trip YAML → JSON → validation unchanged', () => {
  fc.assert(fc.property(validPlan, (plan) => {
    const direct = validatePlan(plan);
    assert.equal(direct.ok, true, JSON.stringify(direct.errors));
    const yamlText = stringify(plan);
    const viaJson = JSON.parse(JSON.stringify(parse(yamlText)));
    const result = validatePlan(viaJson);
    assert.equal(result.ok, true, JSON.stringify(result.errors));
    assert.deepEqual(result.ok && result.plan, plan);
    // The loader agrees on both spellings (it adds baseDir and absolute cwds, nothing else).
    for (const [body, file] of [[yamlText, '/plans/gen.yaml'], [JSON.stringify(plan, null, 1), '/plans/gen.json']]) {
      const loaded = loadPlanText(body, file);
      assert.equal(loaded.ok, true, JSON.stringify(loaded.errors));
      assert.equal(loaded.plan!.baseDir, '/plans');
      const argv = (p: Plan) => p.phases.map((ph) => ph.domains.map((d) => d.workstreams.map((w) => (w.steps[0].kind === 'shell' ? w.steps[0].run : []))));
      assert.deepEqual(argv(loaded.plan!), argv(plan));
    }
  }), { numRuns: 400 });
});
