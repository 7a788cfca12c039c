// Small plans for the plan tests: a valid base to break one thing at a time, and a generator of
// large plans (for the speed bound and the 2,000-workstream check).
import type { Plan } from '../../plan/schema.ts';

export function basePlan(): Plan {
  return {
    name: 'base',
    pools: { a100: { host: 'dgx1', gpu: 0 } },
    phases: [
      {
        id: 'one',
        domains: [{
          id: 'd1',
          workstreams: [
            { id: 'A', estimate: '2d', steps: [{ id: 'build', kind: 'shell', run: ['cc', '--version'], outputs: { from: 'stdout-json' } }] },
            { id: 'B', dependsOn: ['A'], estimate: '1-3d', steps: [
              { id: 'use', kind: 'shell', run: ['echo', '${{ outputs.A.build.version }}'] },
              { id: 'gemm', kind: 'inference', op: 'gemm', pool: 'a100' },
            ] },
          ],
        }],
        gate: { id: 'g1', checks: [{ id: 'm', kind: 'metric', metric: 'A.build.version', atLeast: 1 }], approval: { approvers: ['ann', 'bo'], required: 2 } },
      },
      {
        id: 'two',
        domains: [{ id: 'd2', workstreams: [{ id: 'C', dependsOn: ['B'], estimate: '4d', steps: [{ id: 'x', kind: 'shell', run: ['true'], pool: 'gpu:dgx2:3' }] }] }],
      },
    ],
  };
}

/** `n` workstreams in `phases` phases of 4 domains each, every one depending on up to 3 earlier ones. */
export function bigPlan(n: number, phases = 4): Plan {
  const perPhase = Math.ceil(n / phases);
  const plan: Plan = { name: 'big', phases: [] };
  for (let p = 0; p < phases; p++) {
    const domains = Array.from({ length: 4 }, (_, d) => ({ id: `d${d}`, workstreams: [] as Plan['phases'][0]['domains'][0]['workstreams'] }));
    for (let i = p * perPhase; i < Math.min(n, (p + 1) * perPhase); i++) {
      const deps = [i - 1, i - 7, i - 50].filter((j) => j >= 0).map((j) => `WS-${j}`);
      domains[i % 4].workstreams.push({
        id: `WS-${i}`, dependsOn: deps, estimate: `${1 + (i % 5)}-${2 + (i % 5)}d`,
        steps: [
          { id: 'run', kind: 'shell', run: ['true'], outputs: { from: 'stdout-json' } },
          { id: 'next', kind: 'shell', run: ['echo', i > 0 ? `\${{ outputs.WS-${i - 1}.run.value }}` : 'first'] },
        ],
      });
    }
    plan.phases.push({ id: `phase-${p}`, domains: domains.filter((d) => d.workstreams.length > 0), gate: { id: `gate-${p}`, approval: { approvers: ['a', 'b'], required: 1 } } });
  }
  return plan;
}

/** Every container path in a value, so a mutation can hit any depth. */
export function paths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [at];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [at, ...entries.flatMap(([k, v]) => paths(v, [...at, k]))];
}

/** A copy of `root` with the node at `path` replaced by `value`. */
export function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<string | number, unknown>;
  copy[path[0]] = setAt(copy[path[0]], path.slice(1), value);
  return copy;
}
