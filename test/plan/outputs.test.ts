// Output references: found anywhere in a step, substituted as text, and an unknown one is an error
// that names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findOutputRefs, substituteOutputs } from '../../plan/outputs.ts';

const outputs = { 'WS-01.gemm': { tflops: 1.5, device: 'cpu', shape: { n: 256 } }, 'WS-08.raw': { width: 64, ok: true, list: [1, 2] } };

test('references are found in argv, env, params and nested values, in order', () => {
  const step = { run: ['x', '${{ outputs.WS-01.gemm.tflops }}'], env: { W: 'w=${{outputs.WS-08.raw.width}}' }, params: { deep: [{ p: '${{ outputs.WS-01.gemm.shape.n }}' }] } };
  assert.deepEqual(findOutputRefs(step).map((r) => [r.workstream, r.step, r.key]),
    [['WS-01', 'gemm', 'tflops'], ['WS-08', 'raw', 'width'], ['WS-01', 'gemm', 'shape.n']]);
  assert.deepEqual(findOutputRefs({ run: ['${{ secrets.X }}', 'plain', 42] }), []);
});

test('substitution: text in place, numbers and booleans as text, objects as JSON; the input is not changed', () => {
  const step = {
    run: ['render', '${{ outputs.WS-08.raw.width }}x${{ outputs.WS-08.raw.width }}', '${{ outputs.WS-08.raw.ok }}', '${{ outputs.WS-08.raw.list }}'],
    params: { n: '${{ outputs.WS-01.gemm.shape.n }}', keep: 7, nil: null },
  };
  const copy = structuredClone(step);
  assert.deepEqual(substituteOutputs(step, outputs), { run: ['render', '64x64', 'true', '[1,2]'], params: { n: '256', keep: 7, nil: null } });
  assert.deepEqual(step, copy);
});

test('an unknown step, key or malformed reference throws an Error naming it', () => {
  assert.throws(() => substituteOutputs(['${{ outputs.WS-02.x.y }}'], outputs), /\$\{\{ outputs\.WS-02\.x\.y \}\}: step WS-02\.x has no outputs/);
  assert.throws(() => substituteOutputs(['${{ outputs.WS-01.gemm.gflops }}'], outputs), /has no output "gflops" \(it has: tflops, device, shape\)/);
  assert.throws(() => substituteOutputs({ a: '${{ outputs.WS-01 }}' }, outputs), /malformed output reference \$\{\{ outputs\.WS-01 \}\}/);
});
