// The run's rules for what a revision may change (workflows/revise.ts), pure: a gate that decided —
// approved, or approved and waiting on a merge conflict — cannot change, and every field of the plan is
// compared and listed (a change to git or baseDir shows up, it is never silently taken).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRevision } from '../../workflows/revise.ts';
import { initialStatus } from '../../workflows/status.ts';
import type { Plan } from '../../plan/schema.ts';

const plan: Plan = {
  name: 'demo', git: { repo: '/repo' }, phases: [
    { id: 'p1', domains: [{ id: 'd', workstreams: [{ id: 'W1', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] }],
      gate: { id: 'gate-1', approval: { approvers: ['alice', 'bob'], required: 2 } } },
  ],
};

function statusAt(gateState: 'waiting' | 'approved' | 'merge-conflict') {
  const status = initialStatus(plan, 'sparky-demo-1', (p, d) => `sparky-demo-1/${p}/${d}`);
  status.phases[0].state = 'gate';
  status.phases[0].domains[0].workstreams[0].state = 'succeeded';
  status.phases[0].gate!.state = gateState;
  return status;
}

test('a gate in merge-conflict is approved for revisions: its approval cannot change (nor an approved one)', () => {
  const next = structuredClone(plan);
  next.phases[0].gate!.approval!.required = 1;
  for (const state of ['approved', 'merge-conflict'] as const) {
    const check = checkRevision(plan, next, statusAt(state));
    assert.equal(check.problems.length, 1, state);
    assert.match(check.problems[0], /the gate is already approved/);
  }
  assert.deepEqual(checkRevision(plan, next, statusAt('waiting')), { problems: [], changes: ['gate gate-1 approval'] });
});

test('every plan field is compared: git, baseDir and notify changes are listed', () => {
  const next = { ...structuredClone(plan), git: { repo: '/repo', base: 'release' }, baseDir: '/elsewhere', notify: { webhooks: [{ url: 'http://127.0.0.1:9/x' }] } } as Plan;
  assert.deepEqual(checkRevision(plan, next, statusAt('waiting')).changes, ['plan baseDir', 'plan git', 'plan notify']);
});
