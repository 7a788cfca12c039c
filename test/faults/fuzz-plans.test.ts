// Fuzzing the plan checks: 10,000 generated plans (mutations of a valid plan at every depth, plus
// arbitrary JSON) through the validator and through the metaOrchestrator's own input check. Zero
// crashes; every rejection names a path; the input check fails only with a non-retryable
// SparkyInvalidPlan failure. A few of them are then started for real: the run fails at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { validatePlan } from '../../plan/validate.ts';
import { validateRunInput } from '../../workflows/validate-input.ts';
import { startCpuWorker } from '../../workers/cpu.ts';
import { basePlan, paths, setAt } from '../plan/plans.ts';
import { startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';

type Json = unknown;

function deleteAt(root: Json, path: (string | number)[]): Json {
  if (path.length === 0) return undefined;
  if (path.length === 1) {
    if (Array.isArray(root)) return root.filter((_, i) => i !== path[0]);
    const { [path[0]]: _gone, ...rest } = root as Record<string, Json>;
    return rest;
  }
  const copy = (Array.isArray(root) ? [...root] : { ...(root as object) }) as Record<string | number, Json>;
  copy[path[0]] = deleteAt(copy[path[0]], path.slice(1));
  return copy;
}

const allPaths = paths(basePlan());
const anyPath = fc.constantFrom(...allPaths);

/** Any plan-ish input: valid ones, subtly broken ones at every depth, and garbage. */
const fuzzPlan: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(anyPath, fc.jsonValue({ maxDepth: 3 })).map(([p, v]) => setAt(basePlan(), p, v)) },
  { weight: 2, arbitrary: anyPath.filter((p) => p.length > 0).map((p) => deleteAt(basePlan(), p)) },
  { weight: 2, arbitrary: fc.tuple(anyPath, fc.constantFrom<Json>('', '0s', '3-x', -1, 1e309, '${{ outputs.nope.x.y }}', 'gpu:host:x', [], {}, null))
    .map(([p, v]) => setAt(basePlan(), p, v)) },
  { weight: 1, arbitrary: fc.tuple(anyPath, anyPath).map(([a, b]) => setAt(basePlan(), a, structuredClone(b.reduce<Json>((n, k) => (n as Record<string | number, Json>)?.[k], basePlan())))) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 4 }) },
);

test('10,000 generated plans through validatePlan and the workflow input check: no crash, every rejection has a path', () => {
  let rejected = 0; let accepted = 0;
  fc.assert(fc.property(fuzzPlan, (plan) => {
    const result = validatePlan(plan);
    if (!result.ok) {
      rejected += 1;
      assert.ok(result.errors.length > 0);
      for (const e of result.errors) assert.ok(e.path.length > 0 && e.message.length > 0, JSON.stringify(e));
    } else {
      accepted += 1;
    }
    // The workflow's own check on the same input: returns, or fails non-retryably naming the fields.
    try {
      validateRunInput({ plan });
      assert.equal(result.ok, true, 'the input check accepted a plan the validator rejects');
    } catch (err) {
      assert.ok(err instanceof ApplicationFailure, `input check threw ${String(err)}`);
      assert.equal(err.nonRetryable, true);
      assert.equal(err.type, 'SparkyInvalidPlan');
      const errors = (err.details?.[0] as { errors: { path: string }[] }).errors;
      assert.ok(errors.length > 0 && errors.every((e) => e.path.length > 0));
      assert.equal(result.ok, false, 'the input check rejected a plan the validator accepts');
    }
  }), { numRuns: 10_000 });
  assert.equal(rejected + accepted, 10_000);
  assert.ok(rejected > 5_000, `only ${rejected} of 10,000 mutations were rejected: the generator is too gentle`);
});

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('fuzz');

before(async () => {
  env = await startDevServer();
  worker = await startCpuWorker({ connection: env.nativeConnection, taskQueue });
  running = worker.run();
});
after(async () => { worker?.shutdown(); await running?.catch(() => undefined); await env?.teardown(); });

test('broken plans started as real runs fail at once, non-retryably, naming the field', async () => {
  const samples = fc.sample(fuzzPlan, { numRuns: 200, seed: 7 }).filter((p) => !validatePlan(p).ok).slice(0, 5);
  assert.equal(samples.length, 5);
  for (const [i, plan] of samples.entries()) {
    const expected = validatePlan(plan);
    assert.equal(expected.ok, false);
    const err = await env.client.workflow.execute('metaOrchestrator', {
      taskQueue, workflowId: `fuzz-${taskQueue}-${i}`, args: [{ plan, options: { cpuTaskQueue: taskQueue } }],
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, `run ${i} did not fail`);
    const cause = err.cause as ApplicationFailure;
    assert.equal(cause.type, 'SparkyInvalidPlan');
    assert.equal(cause.nonRetryable, true);
    if (!expected.ok) assert.ok(cause.message.includes(expected.errors[0].path), `${cause.message} lacks ${expected.errors[0].path}`);
  }
});
