// The plan side of agent supervision (docs/agents.md): budgets on steps, workstreams, phases and the
// plan; `ask` (whom questions go to, their timeout and escalation); Codex's prices. Bad input gets an
// error naming the fix. And the pure accounting the workflow and the runner share (common/agent-spend.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from '../../plan/validate.ts';
import { budgetReached, leftFor, priced, spendText } from '../../common/agent-spend.ts';
import { messageText } from '../../activities/notify-message.ts';

const agent = (extra: Record<string, unknown> = {}) => ({ id: 'a', kind: 'agent', agent: 'codex', prompt: 'do it', apiKey: { fromEnv: 'K' }, ...extra });
const plan = (step: object, more: Record<string, unknown> = {}, ws: Record<string, unknown> = {}, phase: Record<string, unknown> = {}) => ({
  name: 'p', ...more, phases: [{ id: 'build', ...phase, domains: [{ id: 'd', workstreams: [{ id: 'w', ...ws, steps: [step] }] }] }],
});
const errors = (p: unknown) => { const v = validatePlan(p); return v.ok ? [] : v.errors.map((e) => `${e.path}: ${e.message}`); };

test('budgets on a step, a workstream, a phase and the plan validate; a negative or empty figure is refused', () => {
  assert.deepEqual(errors(plan(agent({ agent: 'claude-code', budget: { usd: 1, tokens: 1000, turns: 5 } }), { budget: { tokens: 9000 } }, { budget: { turns: 50 } }, { budget: { tokens: 5000 } })), []);
  assert.match(errors(plan(agent({ budget: { turns: 0 } }))).join('\n'), /steps\[0\]\.budget\.turns/);
  assert.match(errors(plan(agent(), { budget: { usd: -1 } })).join('\n'), /^budget\.usd: /m);
  assert.match(errors(plan(agent(), {}, { budget: { dollars: 3 } })).join('\n'), /workstreams\[0\]\.budget\.dollars: unknown field "dollars"/);
});

test('a codex step under a USD budget needs its model priced in prices (Codex reports tokens only)', () => {
  const missing = errors(plan(agent({ model: 'gpt-x' }), {}, {}, { budget: { usd: 2 } }));
  assert.match(missing.join('\n'), /steps\[0\]\.model: a USD budget covers this codex step, and Codex reports tokens only: give its model a price, prices: \{ "gpt-x": \{ input: <USD per million input tokens>, output: <USD per million output tokens> \} \}/);
  assert.deepEqual(errors(plan(agent({ model: 'gpt-x' }), { prices: { 'gpt-x': { input: 1.25, output: 10 } } }, {}, { budget: { usd: 2 } })), []);
  assert.match(errors(plan(agent({ budget: { usd: 1 } }))).join('\n'), /prices: \{ "default": /, 'a step without model is priced as "default"');
  assert.deepEqual(errors(plan(agent({ budget: { tokens: 100 } }))), [], 'a token budget needs no price');
});

test('ask: whom questions go to, a timeout, and an escalation only with a timeout', () => {
  assert.deepEqual(errors(plan(agent({ ask: { to: ['alice'], timeout: '4h', escalate: ['dana'] } }))), []);
  assert.match(errors(plan(agent({ ask: { escalate: ['dana'] } }))).join('\n'), /steps\[0\]\.ask\.escalate: ask\.escalate needs ask\.timeout/);
  assert.match(errors(plan(agent({ ask: { to: [] } }))).join('\n'), /steps\[0\]\.ask\.to/);
  assert.match(errors(plan(agent({ ask: { timeout: 'soon' } }))).join('\n'), /steps\[0\]\.ask\.timeout: a duration/);
});

test('the accounting: a budget reached names its scope and figures; what is left is the tightest budget; Codex tokens priced per million', () => {
  const budgets = [
    { scope: 'step', limit: { tokens: 1000 }, elsewhere: { usd: 0, tokens: 0, turns: 0 } },
    { scope: 'phase build', limit: { tokens: 500, turns: 10 }, elsewhere: { usd: 0, tokens: 300, turns: 2 } },
  ];
  assert.equal(budgetReached(budgets, { usd: 0, tokens: 150, turns: 1 }, true), undefined);
  const r = budgetReached(budgets, { usd: 0, tokens: 200, turns: 1 }, true);
  assert.equal(r?.scope, 'phase build');
  assert.deepEqual(r?.figures, ['500 tokens of 500']);
  assert.equal(budgetReached(budgets, { usd: 0, tokens: 200, turns: 1 }, false), undefined, 'while running, only past the limit');
  assert.deepEqual(leftFor(budgets, 'tokens', { usd: 0, tokens: 100, turns: 0 }), { left: 100, scope: 'phase build' });
  assert.equal(leftFor(budgets, 'usd', { usd: 0, tokens: 0, turns: 0 }), undefined);
  assert.equal(priced({ input: 1_000_000, output: 100_000 }, { input: 1.25, output: 10 }), 2.25);
  assert.equal(spendText({ usd: 0.0123, tokens: 42, turns: 1 }), '$0.0123, 42 tokens, 1 turn');
});

test('a question\'s notification says who is asked, the question, and the commands to answer', () => {
  const text = messageText({
    event: 'attention', at: '2026-12-01T10:00:00.000Z', runWorkflowId: 'sparky-p-1', plan: 'p',
    question: { step: 'w/a', text: 'Port 80 or 8080?', to: ['alice'], deadline: '2026-12-01T14:00:00.000Z' },
  }, { namespace: 'default' });
  assert.match(text, /The agent of w\/a in run sparky-p-1 \(plan p\) asks alice: Port 80 or 8080\? \(escalates at 2026-12-01T14:00:00.000Z\)/);
  assert.match(text, /npx sparky answer sparky-p-1 w\/a "…" --as NAME/);
  assert.match(text, /--name answerQuestion --input '\{"step":"w\/a","by":"NAME","answer":"…"\}'/);
  const escalated = messageText({ event: 'escalated', at: '2026-12-01T14:00:00.000Z', runWorkflowId: 'sparky-p-1', plan: 'p',
    question: { step: 'w/a', text: 'Port 80 or 8080?', to: ['alice'], escalatedTo: ['dana'] } }, { namespace: 'default' });
  assert.match(escalated, /Nobody answered the question of w\/a in run sparky-p-1 \(plan p\) in time: escalated to dana: Port 80 or 8080\?/);
});
