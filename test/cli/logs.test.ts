// `sparky logs`: a step the run does not have is named as unknown (with a "did you mean"), not as "no
// log yet"; the path it falls back to is the one the workers write (activities/logs.ts), odd ids too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepLogPath } from '../../activities/logs.ts';
import { localStepLogPath, unknownStep } from '../../cli/logs.ts';
import type { RunStatus } from '../../workflows/status.ts';

const status = {
  runWorkflowId: 'sparky-demo-1',
  phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [
    { id: 'WS-01', state: 'running', dependsOn: [], steps: [{ id: 'build', kind: 'shell', state: 'succeeded' }, { id: 'test', kind: 'shell', state: 'pending' }] },
    { id: 'WS-02', state: 'pending', dependsOn: [], steps: [{ id: 'ship', kind: 'shell', state: 'pending' }] },
  ] }] }],
} as unknown as RunStatus;

test('an unknown step or workstream is named as such, with a did-you-mean', () => {
  assert.equal(unknownStep(status, 'WS-01', 'build'), undefined);
  assert.equal(unknownStep(status, 'WS-01', 'test'), undefined, 'a step that has not started is still a step of the run');
  assert.equal(unknownStep(status, 'WS-01', 'nope'), 'workstream WS-01 of run sparky-demo-1 has no step "nope" (its steps: build, test)');
  assert.match(unknownStep(status, 'WS-01', 'biuld')!, /has no step "biuld" \(did you mean "WS-01\/build"\?\)/);
  assert.match(unknownStep(status, 'WS-1', 'build')!, /has no workstream "WS-1" \(did you mean "WS-01\/build"\?\)/);
  assert.match(unknownStep(status, 'WS-03', 'zzz')!, /has no workstream "WS-03" \(did you mean "WS-01"\?\)/);
});

test('the fallback log path is the workers\' own, made safe the same way', () => {
  for (const [ws, step] of [['WS-01', 'build'], ['.hidden', 'a b'], ['WS-01', '..']]) {
    assert.equal(localStepLogPath('sparky-demo-1', ws, step, '/logs'), stepLogPath('/logs', { runWorkflowId: 'sparky-demo-1', workstreamId: ws, stepId: step }));
  }
  assert.equal(localStepLogPath('sparky-demo-1', '.hidden', 'a b', '/logs'), '/logs/sparky-demo-1/_hidden/a_b.log');
});
