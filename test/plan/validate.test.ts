// validatePlan: every semantic rule, one broken thing at a time, with the exact path and message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan, type PlanError } from '../../plan/validate.ts';
import type { Plan } from '../../plan/schema.ts';
import { basePlan } from './plans.ts';

function errorsOf(mutate: (p: Plan & Record<string, unknown>) => void): PlanError[] {
  const plan = basePlan() as Plan & Record<string, unknown>;
  mutate(plan);
  const result = validatePlan(plan);
  assert.equal(result.ok, false, 'expected the plan to be rejected');
  return result.errors;
}
const has = (errors: PlanError[], path: string, message: RegExp) =>
  assert.ok(errors.some((e) => e.path === path && message.test(e.message)), `no ${path}: ${message} in\n${errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
const ws = (p: Plan, phase: number, i: number) => p.phases[phase].domains[0].workstreams[i];

test('the base plan is valid and comes back unchanged', () => {
  const result = validatePlan(basePlan());
  assert.equal(result.ok, true, JSON.stringify(result.errors));
  assert.deepEqual(result.ok && result.plan, basePlan());
});

test('shape errors name the field: unknown field, missing field, bad kind, bad duration', () => {
  const errors = errorsOf((p) => {
    p.colour = 'red';
    delete (ws(p, 0, 0) as Partial<Plan['phases'][0]['domains'][0]['workstreams'][0]>).id;
    (ws(p, 0, 1).steps[0] as { kind: string }).kind = 'shel';
    ws(p, 1, 0).estimate = 'soon';
  });
  has(errors, 'colour', /unknown field "colour"/);
  has(errors, 'phases[0].domains[0].workstreams[0].id', /missing required field "id"/);
  has(errors, 'phases[0].domains[0].workstreams[1].steps[0].kind', /unknown kind "shel": expected one of shell, docker, inference/);
  has(errors, 'phases[1].domains[0].workstreams[0].estimate', /estimate like 3d or 3-4d/);
});

test('duplicate ids: phases, domains, workstreams across phases, steps, gates, checks', () => {
  const errors = errorsOf((p) => {
    p.phases[1].id = 'one';
    p.phases[0].domains.push({ id: 'd1', workstreams: [{ id: 'Z', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] });
    ws(p, 1, 0).id = 'A';
    ws(p, 0, 1).steps[1].id = 'use';
    p.phases[1].gate = { id: 'g1', checks: [{ id: 'c', kind: 'file', path: 'x' }, { id: 'c', kind: 'file', path: 'y' }] };
  });
  has(errors, 'phases[1].id', /duplicate phase id "one" \(first at phases\[0\]\)/);
  has(errors, 'phases[0].domains[1].id', /duplicate domain id "d1"/);
  has(errors, 'phases[1].domains[0].workstreams[0].id', /duplicate workstream id "A" \(first at phases\[0\]\.domains\[0\]\.workstreams\[0\]\)/);
  has(errors, 'phases[0].domains[0].workstreams[1].steps[1].id', /duplicate step id "use"/);
  has(errors, 'phases[1].gate.id', /duplicate gate id "g1"/);
  has(errors, 'phases[1].gate.checks[1].id', /duplicate check id "c"/);
});

test('dependencies: unknown (with a suggestion), later phase, cycles printed', () => {
  const errors = errorsOf((p) => {
    ws(p, 0, 0).dependsOn = ['C', 'B'];
    ws(p, 0, 1).dependsOn = ['A', 'Q'];
    ws(p, 1, 0).dependsOn = ['B', 'C'];
  });
  has(errors, 'phases[0].domains[0].workstreams[0].dependsOn[0]', /depends on "C", which is in a later phase \(phases\[1\] "two"\)/);
  has(errors, 'phases[0].domains[0].workstreams[1].dependsOn[1]', /unknown workstream "Q"/);
  has(errors, 'phases[0].domains[0].workstreams[0].dependsOn[1]', /^cycle: A → B → A$/);
  has(errors, 'phases[1].domains[0].workstreams[0].dependsOn[1]', /^cycle: C → C$/);
  assert.match(errorsOf((p) => { ws(p, 0, 0).dependsOn = ['AA']; }).find((e) => e.path.endsWith('dependsOn[0]'))!.message, /did you mean "A"\?/);
});

test('a longer cycle is printed in dependency order', () => {
  const plan = basePlan();
  const step = [{ id: 's', kind: 'shell' as const, run: ['true'] }];
  plan.phases[1].domains[0].workstreams = [
    { id: 'P', dependsOn: ['R'], steps: step }, { id: 'Q', dependsOn: ['P'], steps: step }, { id: 'R', dependsOn: ['Q'], steps: step },
  ];
  const result = validatePlan(plan);
  assert.equal(result.ok, false);
  assert.deepEqual(result.errors.map((e) => e.message), ['cycle: P → R → Q → P']);
});

test('approvals: required above the approvers (also in escalate), repeated approvers, escalate without approvers', () => {
  const errors = errorsOf((p) => {
    p.phases[0].gate!.approval = { approvers: ['ann', 'bo', 'ann'], required: 3, onTimeout: 'escalate', timeout: '1h' };
    p.phases[1].gate = { id: 'g2', approval: { approvers: ['x'], onTimeout: 'escalate', escalate: { approvers: ['y'], required: 2 } } };
  });
  has(errors, 'phases[0].gate.approval.required', /required is 3 but only 2 approvers are listed/);
  has(errors, 'phases[0].gate.approval.approvers[2]', /approver "ann" is listed twice/);
  has(errors, 'phases[0].gate.approval.onTimeout', /no "escalate" approvers/);
  has(errors, 'phases[1].gate.approval.escalate.required', /required is 2 but only 1 approver is listed/);
});

test('pools: cpu, gpu, declared and gpu:<host>:<n> pass; anything else is named', () => {
  const errors = errorsOf((p) => {
    ws(p, 0, 0).steps[0].pool = 'gpus';
    p.defaults = { pool: 'tpu' };
    p.pools = { ...p.pools, cpu: { host: 'h', gpu: 1 } };
  });
  has(errors, 'phases[0].domains[0].workstreams[0].steps[0].pool', /unknown pool "gpus": expected cpu, gpu, a pool declared in pools \(declared: a100, cpu\), or gpu:<host>:<index>/);
  has(errors, 'defaults.pool', /unknown pool "tpu"/);
  has(errors, 'pools.cpu', /built-in pool/);
});

test('output references: unknown workstream or step, not a dependency, later step, malformed', () => {
  const errors = errorsOf((p) => {
    ws(p, 0, 0).steps.push({ id: 'late', kind: 'shell', run: ['echo', '${{ outputs.B.use.x }}', '${{ outputs.A.later.x }}', '${{ outputs.A }}'] });
    ws(p, 0, 0).steps.push({ id: 'later', kind: 'shell', run: ['true'] });
    ws(p, 0, 1).steps[0] = { id: 'use', kind: 'shell', run: ['echo'], env: { V: '${{ outputs.Nope.s.k }}', W: '${{ outputs.A.missing.k }}' } };
  });
  has(errors, 'phases[0].domains[0].workstreams[0].steps[1].run[1]', /"B" is neither a \(transitive\) dependency of "A" nor in an earlier phase/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[1].run[2]', /step "later" does not run before this step in "A"/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[1].run[3]', /malformed output reference \$\{\{ outputs\.A \}\}/);
  has(errors, 'phases[0].domains[0].workstreams[1].steps[0].env.V', /unknown workstream "Nope"/);
  has(errors, 'phases[0].domains[0].workstreams[1].steps[0].env.W', /workstream "A" has no step "missing"/);
});

test('output references: transitive dependencies, earlier phases and a compensation\'s own step are fine', () => {
  const plan = basePlan();
  ws(plan, 1, 0).steps[0] = { id: 'x', kind: 'shell', run: ['echo', '${{ outputs.A.build.v }}', '${{ outputs.B.gemm.tflops }}'],
    compensate: { id: 'undo', kind: 'shell', run: ['echo', '${{ outputs.C.x.made }}'] } };
  const result = validatePlan(plan);
  assert.equal(result.ok, true, JSON.stringify(result.errors));
});

test('metric checks must name a step of a workstream that has run by the gate', () => {
  const errors = errorsOf((p) => {
    p.phases[0].gate!.checks = [
      { id: 'a', kind: 'metric', metric: 'C.x.v' }, { id: 'b', kind: 'metric', metric: 'A.nope.v' },
      { id: 'c', kind: 'metric', metric: 'A.build' }, { id: 'd', kind: 'file', path: '${{ outputs.Z.s.k }}' },
    ];
  });
  has(errors, 'phases[0].gate.checks[0].metric', /"C" is in a later phase/);
  has(errors, 'phases[0].gate.checks[1].metric', /workstream "A" has no step "nope"/);
  has(errors, 'phases[0].gate.checks[2].metric', /must be <workstream>\.<step>\.<output key>/);
  has(errors, 'phases[0].gate.checks[3].path', /unknown workstream "Z"/);
});

test('compensations and docker steps must name what they act on, unless it can be inferred', () => {
  const errors = errorsOf((p) => {
    ws(p, 0, 0).steps = [
      { id: 'img', kind: 'docker', action: 'build', context: '.', tag: 't', compensate: { id: 'u1', kind: 'docker', action: 'rmi' } },
      { id: 'run', kind: 'docker', action: 'run', image: 't', compensate: { id: 'u2', kind: 'docker', action: 'rm' } },
      { id: 'sh', kind: 'shell', run: ['true'], compensate: { id: 'u3', kind: 'docker', action: 'rm' } },
      { id: 'sh2', kind: 'shell', run: ['true'], compensate: { id: 'u4', kind: 'docker', action: 'rmi' } },
      { id: 'bare', kind: 'docker', action: 'run' },
      { id: 'down', kind: 'docker', action: 'compose-down' },
    ];
  });
  assert.ok(!errors.some((e) => /workstreams\[0\]\.steps\[[01]\]/.test(e.path)), 'rmi after build and rm after run are inferred');
  has(errors, 'phases[0].domains[0].workstreams[0].steps[2].compensate', /docker rm needs "container" \(it can only be inferred when compensating a docker run step\)/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[3].compensate', /docker rmi needs "tag"/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[4]', /docker run needs "image"/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[5]', /compose-down needs "file" or "project"/);
});

test('empty argv, blank program, json-file outputs without a file, reversed estimate, empty gate', () => {
  const errors = errorsOf((p) => {
    ws(p, 0, 0).steps = [
      { id: 'a', kind: 'shell', run: [] },
      { id: 'b', kind: 'shell', run: [' ', 'x'], outputs: { from: 'json-file' } },
    ];
    ws(p, 0, 0).estimate = '4-2d';
    p.phases[1].gate = { id: 'g2', checks: [] };
  });
  has(errors, 'phases[0].domains[0].workstreams[0].steps[0].run', /argv must not be empty/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[1].run[0]', /program\) must not be empty/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[1].outputs', /needs "file"/);
  has(errors, 'phases[0].domains[0].workstreams[0].estimate', /low end is above the high end/);
  has(errors, 'phases[1].gate', /a gate needs checks, an approval, or both/);
});

test('non-objects and hostile inputs give errors, never exceptions', () => {
  const cyclic: Record<string, unknown> = { name: 'x' };
  cyclic.phases = [cyclic];
  const throwing = { get name() { throw new Error('boom'); }, phases: [] };
  for (const input of [undefined, null, 0, 'plan', [], {}, cyclic, throwing, { name: 'x', phases: [null, 1, 'a', []] }]) {
    const result = validatePlan(input);
    assert.equal(result.ok, false);
    assert.ok(result.errors.length > 0);
    for (const e of result.errors) assert.ok(e.path.length > 0 && e.message.length > 0, JSON.stringify(e));
  }
  assert.deepEqual(validatePlan(null).errors, [{ path: '(plan)', message: 'expected object, got null' }]);
});

test('secrets stay references: a literal value under a secret-looking name, or a name in both env and secrets, is an error', () => {
  const errors = errorsOf((p) => {
    p.env = { HF_TOKEN: 'hf_abc123', MODE: 'fast' };
    ws(p, 0, 0).steps[0] = { id: 'build', kind: 'shell', run: ['x'], env: { DB_PASSWORD: 'hunter2', KEY: 'k' },
      secrets: { KEY: { fromEnv: 'WORKER_KEY' } }, outputs: { from: 'stdout-json' } };
  });
  has(errors, 'env.HF_TOKEN', /"HF_TOKEN" looks like a secret: never put its value in a plan; use secrets: \{ HF_TOKEN: \{ fromEnv: <variable on the worker> \} \}/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[0].env.DB_PASSWORD', /looks like a secret/);
  has(errors, 'phases[0].domains[0].workstreams[0].steps[0].secrets.KEY', /"KEY" is set both in env and in secrets/);
  assert.ok(!errors.some((e) => e.path === 'env.MODE'));
});
