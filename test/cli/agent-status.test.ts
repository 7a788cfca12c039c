// What `sparky status` / `sparky watch` print about agent steps (cli/progress.ts, workflows/spend.ts):
// each agent step's state — running (its last heartbeat), waiting for a person, stalled, over budget —
// and the spend per run, phase and workstream against the plan's budgets. Pure rendering of a status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialStatus } from '../../workflows/status.ts';
import { renderStatus } from '../../cli/progress.ts';
import { spendLines, spendTotals } from '../../workflows/spend.ts';
import type { Plan } from '../../plan/schema.ts';

const agent = (id: string) => ({ id, kind: 'agent' as const, agent: 'claude-code' as const, prompt: 'x', apiKey: { fromEnv: 'K' } });
const plan: Plan = {
  name: 'p', budget: { tokens: 10000 },
  phases: [{ id: 'build', budget: { usd: 1 }, domains: [{ id: 'd', workstreams: [
    { id: 'ws-a', budget: { turns: 50 }, steps: [agent('one')] },
    { id: 'ws-b', steps: [agent('two')] },
    { id: 'ws-c', steps: [agent('three')] },
  ] }] }],
};

function sample() {
  const s = initialStatus(plan, 'sparky-p-1', (p, d) => `sparky-p-1/${p}/${d}`);
  s.currentPhase = 'build';
  s.state = 'attention';
  const [a, b, c] = s.phases[0].domains[0].workstreams;
  Object.assign(a.steps[0], { state: 'running', spend: { usd: 0.25, tokens: 1200, turns: 4 } });
  a.state = 'running';
  Object.assign(b.steps[0], { state: 'failed', spend: { usd: 0.5, tokens: 3000, turns: 9 } });
  Object.assign(b, { state: 'attention', attention: { step: 'two', cause: 'question', reason: 'ws-b/two asks alice: which port?', since: '2026-12-01T10:00:00.000Z',
    question: { text: 'which port?', to: ['alice'], askedAt: '2026-12-01T10:00:00.000Z', deadline: '2026-12-01T14:00:00.000Z' } } });
  Object.assign(c.steps[0], { state: 'failed', spend: { usd: 0, tokens: 10, turns: 1 } });
  Object.assign(c, { state: 'attention', attention: { step: 'three', cause: 'stalled', reason: 'ws-c/three stalled', since: '2026-12-01T10:05:00.000Z',
    lastEvent: { event: 'assistant', at: '2026-12-01T10:04:00.000Z' } } });
  return s;
}

test('spend totals per workstream, phase and run, against the budgets', () => {
  const s = sample();
  assert.deepEqual(spendTotals(s).run, { usd: 0.75, tokens: 4210, turns: 14 });
  assert.deepEqual(spendLines(s), [
    'agent spend: run $0.7500, 4210 tokens, 14 turns of budget 10000 tokens',
    '  phase build: $0.7500, 4210 tokens, 14 turns of budget $1',
    '  ws-a: $0.2500, 1200 tokens, 4 turns of budget 50 turns',
    '  ws-b: $0.5000, 3000 tokens, 9 turns',
    '  ws-c: 10 tokens, 1 turn',
  ]);
});

test('each agent step\'s state: its live heartbeat, waiting for a person (with the answer command), stalled', () => {
  const s = sample();
  const live = new Map([['ws-a/one', { state: 'running a tool', tool: 'Bash', lastEvent: 'assistant', lastEventAt: new Date(Date.now() - 5_000).toISOString(), turns: 4, tokens: 1200, costUsd: 0.25, attempt: 2 }]]);
  const text = renderStatus(s, live);
  assert.match(text, /one \(agent\): running a tool \(Bash\); last event assistant [56]s ago; 4 turns, 1200 tokens, \$0\.2500; attempt 2/);
  assert.match(text, /two \(agent\): waiting for a person \(alice\) since 2026-12-01T10:00:00\.000Z; spent \$0\.5000, 3000 tokens, 9 turns/);
  assert.match(text, /three \(agent\): stalled \(last event assistant at 2026-12-01T10:04:00\.000Z\); spent 10 tokens, 1 turn/);
  assert.match(text, /ws-b\/two asks alice: which port\?  \(escalates at 2026-12-01T14:00:00\.000Z\)/);
  assert.match(text, /npx sparky answer sparky-p-1 ws-b\/two "…" --as NAME/);
  assert.match(text, /--name answerQuestion --input '\{"step":"ws-b\/two","by":"NAME","answer":"…"\}'/);
  assert.match(text, /^agent spend: run \$0\.7500/m);
});
