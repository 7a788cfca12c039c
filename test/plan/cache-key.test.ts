// The plan's part of step caching and subset runs, pure: which steps are cached and with what (a step's
// own `cache`, the plan's defaults, what cannot be cached), what a key leaves out, the producers of
// files in the run's directory, what a plan's cache fields may not say (clear errors naming the fix),
// and which workstreams `only` and `from` select, with the gate checks a subset run skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheSettings, chainOf, keyDefinition, keyParts, producerOf, runDirProducers } from '../../plan/cache-key.ts';
import { validatePlan } from '../../plan/validate.ts';
import { checkReads, gateSubset, selectWorkstreams, subsetErrors } from '../../plan/subset.ts';
import type { Plan, StepBody } from '../../plan/schema.ts';
import { rerunOptionErrors } from '../../workflows/validate-input.ts';

const shell = (id: string, extra: object = {}) => ({ id, kind: 'shell' as const, run: ['true'], ...extra });
const planOf = (workstreams: object[], extra: object = {}) => ({ name: 'p', ...extra, phases: [{ id: 'ph', domains: [{ id: 'd', workstreams }] }] });
const errorsOf = (plan: object) => { const r = validatePlan(plan); return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`); };

test('which steps are cached: the step, else defaults.cache, else its kind; steps that cannot be are left out of defaults', () => {
  const defaults = { cache: true, ttl: '1d', cacheVersion: 3 };
  assert.equal(cacheSettings(shell('a') as StepBody), undefined, 'off unless asked');
  assert.deepEqual(cacheSettings(shell('a', { cache: true }) as StepBody), { inputs: [], outputs: [], ttl: undefined });
  assert.deepEqual(cacheSettings(shell('a') as StepBody, defaults), { inputs: [], outputs: [], ttl: '1d', version: '3' });
  assert.equal(cacheSettings(shell('a', { cache: false }) as StepBody, defaults), undefined, 'a step turns the default off');
  assert.deepEqual(cacheSettings(shell('a', { cache: { inputs: ['x'], outputs: ['y'] }, outputs: { from: 'json-file', file: 'o.json' }, ttl: '2h', cacheVersion: 'b' }) as StepBody, defaults),
    { inputs: ['x'], outputs: ['y', 'o.json'], ttl: '2h', version: 'b' }, 'the json-file outputs are outputs too');
  // A kind's own files: inference inputs and output folder; a docker build's context.
  assert.deepEqual(cacheSettings({ id: 'i', kind: 'inference', op: 'pixelize', inputs: { images: ['/a/*.png'] }, outputDir: '/o', cache: true } as StepBody),
    { inputs: ['/a/*.png'], outputs: ['/o'], ttl: undefined });
  assert.deepEqual(cacheSettings({ id: 'b', kind: 'docker', action: 'build', context: '/ctx', cache: true } as StepBody)?.inputs, ['/ctx']);
  // Defaults skip what cannot be cached: a compose-up, a step with secrets.
  assert.equal(cacheSettings({ id: 'c', kind: 'docker', action: 'compose-up', file: '/f' } as StepBody, defaults), undefined);
  assert.equal(cacheSettings(shell('s', { secrets: { T: { fromEnv: 'T' } } }) as StepBody, defaults), undefined);
});

test('a key leaves out what does not decide the result, and follows the step before it', () => {
  const a = keyDefinition(shell('a', { name: 'A', timeout: '1m', retry: { maximumAttempts: 2 }, pool: 'cpu', when: { docker: true }, commit: 'c', ttl: '1d', cacheVersion: 2, cache: true, env: { X: '1' } }) as StepBody);
  assert.deepEqual(a, { id: 'a', kind: 'shell', run: ['true'], env: { X: '1' } });
  assert.deepEqual(keyDefinition(shell('a', { cache: {} }) as StepBody), keyDefinition(shell('a', { cache: true }) as StepBody));
  assert.notDeepEqual(keyDefinition(shell('a', { cache: { inputs: ['x'] } }) as StepBody), keyDefinition(shell('a', { cache: true }) as StepBody));
  const ws = { id: 'W', dependsOn: ['B', 'A'], steps: [shell('one'), shell('two')] };
  assert.deepEqual(chainOf(ws as never, 0), ['ws:A', 'ws:B'], 'the first step follows the workstreams it depends on');
  assert.deepEqual(chainOf(ws as never, 1), ['W.one'], 'a later step follows the one before it');
  // Outputs of a cached step are known by its fingerprint; of an uncached one by their value.
  const step = shell('s', { run: ['echo', '${{ outputs.A.c.x }}', '${{ outputs.B.u.y }}'], cache: { inputs: ['$SPARKY_RUN_DIR/out/f'] } }) as StepBody;
  const { parts, missing } = keyParts(step, cacheSettings(step)!, ['ws:A'], {
    fingerprints: { 'ws:A': 'fpA', 'A.c': 'fpAc', 'M.m': 'fpM' }, outputs: { 'B.u': { y: 7 } },
    isCached: (k) => k === 'A.c', producers: new Map([['out', 'M.m']]),
  }, 'base123');
  assert.deepEqual(parts.refs, { '${{ outputs.A.c.x }}': { fingerprint: 'fpAc' }, '${{ outputs.B.u.y }}': { value: 7 } });
  assert.deepEqual(parts.producers, { '$SPARKY_RUN_DIR/out/f': 'fpM' }, 'a file made in the run is known by its maker, found by a folder above it');
  assert.deepEqual(parts.chain, ['fpA']);
  assert.equal(parts.git, 'base123');
  assert.deepEqual(missing, []);
  assert.deepEqual(keyParts(step, cacheSettings(step)!, ['ws:Z'], { fingerprints: {}, outputs: {}, isCached: () => true, producers: new Map() }).missing.sort(), ['A.c', 'B.u', 'ws:Z']);
});

test('files made in the run directory are known by the cached step that declares them', () => {
  const plan = planOf([
    { id: 'M', steps: [shell('make', { cache: { outputs: ['$SPARKY_RUN_DIR/out/pixelized', '$SPARKY_RUN_DIR/out/a.json'] } })] },
    { id: 'U', steps: [shell('uncached', { run: ['touch', '$SPARKY_RUN_DIR/out/b.json'] })] },
  ]) as Plan;
  const producers = runDirProducers(plan);
  assert.equal(producerOf('$SPARKY_RUN_DIR/out/pixelized/x.png', producers), 'M.make');
  assert.equal(producerOf('${SPARKY_RUN_DIR}/out/a.json', producers), 'M.make');
  assert.equal(producerOf('$SPARKY_RUN_DIR/out/b.json', producers), undefined, 'an uncached step declares nothing');
  assert.equal(producerOf('/elsewhere/out/a.json', producers), undefined);
});

test('bad cache fields are errors that say what to do', () => {
  const errs = errorsOf(planOf([{ id: 'W', steps: [
    shell('a', { ttl: '1d' }),
    shell('b', { cacheVersion: 2 }),
    shell('c', { cache: true, secrets: { TOKEN: { fromEnv: 'TOKEN' } } }),
    { id: 'd', kind: 'docker', action: 'compose-up', file: 'x.yml', cache: true },
    shell('e', { cache: true, compensate: shell('undo', { cache: true }) }),
    shell('f', { cache: { inputs: 'x' } }),
    shell('g', { cache: true, ttl: '0s' }),
  ] }]));
  const at = (i: number) => `phases[0].domains[0].workstreams[0].steps[${i}]`;
  assert.ok(errs.includes(`${at(0)}.ttl: "ttl" needs caching: add cache: true to the step (or defaults.cache: true)`), errs.join('\n'));
  assert.ok(errs.includes(`${at(1)}.cacheVersion: "cacheVersion" needs caching: add cache: true to the step (or defaults.cache: true)`));
  assert.ok(errs.some((e) => e.startsWith(`${at(2)}.cache: a step with secrets cannot be cached`)));
  assert.ok(errs.some((e) => e.startsWith(`${at(3)}.cache: a docker compose-up step changes containers and images, not files`)));
  assert.ok(errs.includes(`${at(4)}.compensate.cache: a compensation is never cached: it undoes what this run did`));
  assert.ok(errs.some((e) => e.startsWith(`${at(5)}.cache`)), 'cache.inputs must be a list');
  assert.ok(errs.includes(`${at(6)}.ttl: a ttl of 0 would never let a hit count: remove cache instead`));
  // With defaults.cache, ttl on a step is fine; an explicit cache: false with ttl is not.
  assert.deepEqual(errorsOf(planOf([{ id: 'W', steps: [shell('a', { ttl: '1d' })] }], { defaults: { cache: true } })), []);
  assert.equal(errorsOf(planOf([{ id: 'W', steps: [shell('a', { ttl: '1d', cache: false })] }], { defaults: { cache: true } })).length, 1);
});

const chainPlan = () => ({
  name: 'p', phases: [
    { id: 'one', domains: [{ id: 'd1', workstreams: [{ id: 'A', steps: [shell('a', { cache: { outputs: ['$SPARKY_RUN_DIR/a.json'] } })] }, { id: 'X', steps: [shell('x')] }] }],
      gate: { id: 'g1', checks: [
        { id: 'a-file', kind: 'file', path: '$SPARKY_RUN_DIR/a.json' }, { id: 'x-metric', kind: 'metric', metric: 'X.x.v', atLeast: 1 },
        { id: 'plain', kind: 'command', run: ['true'] },
      ] } },
    { id: 'two', domains: [{ id: 'd2', workstreams: [{ id: 'B', dependsOn: ['A'], steps: [shell('b')] }, { id: 'C', dependsOn: ['B'], steps: [shell('c')] }] }] },
    { id: 'three', domains: [{ id: 'd3', workstreams: [{ id: 'D', dependsOn: ['X'], steps: [shell('d')] }] }] },
  ],
}) as Plan;

test('--only takes what it needs, --from what follows (forced) and what that needs; a gate skips the checks of work left out', () => {
  const plan = chainPlan();
  assert.equal(selectWorkstreams(plan, {}), undefined);
  const only = selectWorkstreams(plan, { only: ['B'] })!;
  assert.deepEqual([...only.selected].sort(), ['A', 'B']);
  assert.deepEqual(only.forced, []);
  assert.equal(only.excluded.get('C'), 'not in this run (--only B)');
  assert.equal(only.summary, '--only B: 2 of 5 workstreams; needed: A');
  const from = selectWorkstreams(plan, { from: ['B'] })!;
  assert.deepEqual([...from.selected].sort(), ['A', 'B', 'C']);
  assert.deepEqual(from.forced, ['B', 'C'], 'the cone runs whatever the cache holds');
  assert.equal(from.summary, '--from B: 3 of 5 workstreams; downstream: C; needed: A');
  assert.deepEqual(checkReads(plan.phases[0].gate!.checks![0], plan), ['A'], 'a file a cached step declares');
  assert.deepEqual(checkReads(plan.phases[0].gate!.checks![1], plan), ['X'], 'a metric');
  assert.deepEqual(checkReads(plan.phases[0].gate!.checks![2], plan), [], 'a command: unknown, so it runs');
  const g = gateSubset(plan.phases[0].gate!, plan, only);
  assert.deepEqual(g.gate.checks!.map((c) => c.id), ['a-file', 'plain']);
  assert.deepEqual(g.skipped, [{ id: 'x-metric', reason: 'reads the work of X, not in this run' }]);
  assert.deepEqual(subsetErrors(plan, { only: ['Bb'], from: [] }).map((e) => `${e.path}: ${e.message}`),
    ['options.only: unknown workstream "Bb" (did you mean "B"?)', 'options.from: must be a non-empty list of workstream ids']);
  assert.deepEqual(rerunOptionErrors(plan, { noCache: ['QQQQ'], dryRun: 'yes' as unknown as boolean }).map((e) => `${e.path}: ${e.message}`),
    ['options.noCache: unknown workstream "QQQQ"', 'options.dryRun: must be true or false']);
});
