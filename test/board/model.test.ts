// The board's model and the weekly report, pure (board/model.ts, board/graph.ts, board/report.ts): the
// stalled and over flags with the plan's `tracking` thresholds and their documented defaults, the
// waiting list (who, since when, oldest first), the report's marks, and the graph's critical path on
// the flagship. The page and `sparky report` on a real run are in test/board/board.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runGraph } from '../../board/graph.ts';
import { DEFAULT_OVERRUN_PERCENT, DEFAULT_STALLED_AFTER, runView } from '../../board/model.ts';
import { buildReport, reportMarkdown } from '../../board/report.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { loadPlanFile } from '../../plan/load.ts';
import type { Plan } from '../../plan/schema.ts';
import { validatePlan } from '../../plan/validate.ts';
import { initialStatus, type RunStatus } from '../../workflows/status.ts';

const H = 3_600_000;
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function plan(tracking?: Plan['tracking']): Plan {
  const r = validatePlan({
    name: 'model', ...(tracking ? { tracking } : {}),
    phases: [{ id: 'p1', domains: [{ id: 'd', workstreams: [
      { id: 'A', estimate: '2h', steps: [{ id: 's1', kind: 'shell', run: ['true'] }, { id: 's2', kind: 'shell', run: ['true'] }] },
      { id: 'B', estimate: '1-2h', dependsOn: ['A'], steps: [{ id: 's', kind: 'shell', run: ['true'] }] },
      { id: 'C', estimate: '10h', steps: [{ id: 's', kind: 'shell', run: ['true'] }] },
    ] }], gate: { id: 'g1', approval: { approvers: ['alice', 'bob'], required: 2 } } }],
  });
  assert.ok(r.ok, JSON.stringify(r));
  return r.plan as Plan;
}

/** A run 30h in: A done in 1h; B running for 29h with its last step start 26h ago (stalled, and 1450% of 2h); C in attention. */
function status(p: Plan): RunStatus {
  const s = initialStatus(p, 'sparky-model-1', (a, b) => `${a}/${b}`);
  s.startedAt = iso(0);
  const [a, b, c] = s.phases[0].domains[0].workstreams;
  Object.assign(a, { state: 'succeeded', startedAt: iso(0), finishedAt: iso(H) });
  a.steps.forEach((st) => Object.assign(st, { state: 'succeeded', startedAt: iso(0), finishedAt: iso(H / 2) }));
  Object.assign(b, { state: 'running', startedAt: iso(H) });
  Object.assign(b.steps[0], { state: 'running', startedAt: iso(4 * H) });
  Object.assign(c, { state: 'attention', startedAt: iso(29 * H), attention: { step: 's', cause: 'failed', reason: 'exit 1', since: iso(29.5 * H) } });
  Object.assign(c.steps[0], { state: 'failed', startedAt: iso(29 * H), finishedAt: iso(29.5 * H) });
  Object.assign(s.phases[0].gate!, { state: 'waiting', waitingSince: iso(2 * H), approvals: ['alice'], round: 1 });
  return s;
}

test('stalled and over: documented defaults (24h, 150% of the estimate\'s high end), and the plan\'s tracking', () => {
  assert.equal(DEFAULT_STALLED_AFTER, '24h');
  assert.equal(DEFAULT_OVERRUN_PERCENT, 150);
  const p = plan();
  const v = runView(status(p), p, T0 + 30 * H);
  const row = (id: string) => v.gantt.find((r) => r.id === id)!;
  assert.deepEqual(row('A').flags, []);
  assert.equal(row('A').percentOfEstimate, 50);
  assert.deepEqual(row('B').flags, ['stalled', 'over']);
  assert.equal(row('B').percentOfEstimate, 1450);
  assert.deepEqual(row('C').flags, []);
  assert.deepEqual(v.thresholds, { stalledAfter: '24h', stalledAfterMs: 24 * H, overrunPercent: 150 });
  // The plan's thresholds: stalled after 30h (B's 26h is fine), over only past 2000%.
  const q = plan({ stalledAfter: '30h', overrunPercent: 2000 });
  const w = runView(status(q), q, T0 + 30 * H);
  assert.deepEqual(w.gantt.find((r) => r.id === 'B')!.flags, []);
  assert.equal(validatePlan({ ...p, tracking: { overrunPercent: 50 } }).ok, false, 'a share below the estimate is refused');
});

test('the waiting list: the gate with the approvers still to vote, the attention item, oldest first', () => {
  const p = plan();
  const v = runView(status(p), p, T0 + 30 * H);
  assert.deepEqual(v.waiting.map((w) => [w.kind, w.id, w.who, w.since, w.actions]), [
    ['gate', 'g1', ['bob'], iso(2 * H), ['approve', 'reject']],
    ['attention', 'C/s', ['an operator (anyone who may act on the run)'], iso(29.5 * H), ['retry', 'skip', 'abort']],
  ]);
  assert.match(v.waiting[0].what, /1 of 2 approvals/);
  assert.deepEqual(v.gates[0].approvers.map((a) => a.name), ['alice', 'bob']);
});

test('the report: ✅ 🟡 ⚪ per workstream, progress, blockers, decisions needed; markdown and data agree', () => {
  const p = plan();
  const s = status(p);
  s.decisions.push({ at: iso(29.9 * H), surface: 'update', action: 'retryStep', by: 'dana', step: 'C/s', comment: 'tried again' });
  s.decisions.push({ at: iso(-200 * H), surface: 'update', action: 'skipStep', by: 'old', step: 'X/y', comment: 'long ago' });
  const r = buildReport(runView(s, p, T0 + 30 * H), { now: T0 + 30 * H, sinceMs: 168 * H, window: '7d' });
  assert.deepEqual(r.workstreams.map((w) => [w.workstream, w.mark, `${w.progress.done}/${w.progress.total}`]), [['A', '✅', '2/2'], ['B', '🟡', '0/1'], ['C', '🟡', '0/1']]);
  assert.deepEqual(r.summary, { done: 1, underWay: 2, notStarted: 0, workstreams: 3, percent: 50 });
  assert.match(r.workstreams[1].blockers.join('\n'), /stalled: no progress for more than 24h/);
  assert.match(r.workstreams[1].blockers.join('\n'), /over the estimate: 1450% of 1-2h/);
  assert.match(r.workstreams[2].blockers.join('\n'), /failed: exit 1/);
  assert.deepEqual(r.happened.map((h) => h.who), ['dana'], 'only the window');
  const md = reportMarkdown(r);
  assert.match(md, /^# model — report of 2026-12-02/);
  assert.match(md, /\| ✅ \| A \(done this period\) \| p1 \/ d \| 2\/2 steps \(100%\) \| 1\.0h \/ 2h \(50%\) \| — \|/);
  assert.match(md, /- \*\*gate g1\*\*: 1 of 2 approvals — waits for bob since/);
  assert.equal(r.spend, undefined, 'no agent steps, no spend line');
  // Agent steps: their outputs' cost, tokens and turns add up on the board and in the report.
  const withAgents = status(p);
  Object.assign(withAgents.phases[0].domains[0].workstreams[0].steps[0], { kind: 'agent', outputs: { costUsd: '0.125', tokens: '1200', turns: '3' } });
  Object.assign(withAgents.phases[0].domains[0].workstreams[2].steps[0], { kind: 'agent', outputs: { costUsd: '0.5', tokens: '800', turns: '2' } });
  const spent = buildReport(runView(withAgents, p, T0 + 30 * H), { now: T0 + 30 * H, sinceMs: H, window: '1h' });
  assert.deepEqual(spent.spend, { usd: 0.625, tokens: 2000, turns: 5, steps: 2 });
  assert.match(reportMarkdown(spent), /Agent spend: \$0\.63, 2000 tokens in 2 agent steps\./);
  const fresh = buildReport(runView(initialStatus(p, 'x', (a, b) => `${a}/${b}`), p, Date.now()), { now: Date.now(), sinceMs: H, window: '1h' });
  assert.deepEqual(fresh.workstreams.map((w) => w.mark), ['⚪', '⚪', '⚪']);
});

test('the graph: the flagship laid out by dagre, every workstream and gate placed, the critical path\'s edges marked', async () => {
  const loaded = await loadPlanFile(path.join(PROJECT_ROOT, 'examples', 'dgx-pixels.plan.yaml'));
  assert.ok(loaded.ok && loaded.plan);
  const p = loaded.plan;
  const critical = analyzePlan(p).criticalPath.path;
  const g = runGraph(initialStatus(p, 'sparky-dgx', (a, b) => `${a}/${b}`), p, critical);
  const ws = p.phases.flatMap((ph) => ph.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
  const nodes = g.nodes.filter((n) => n.kind === 'workstream');
  assert.deepEqual(nodes.map((n) => n.id).sort(), [...ws].sort());
  assert.deepEqual(nodes.filter((n) => n.critical).map((n) => n.id).sort(), [...critical].sort());
  assert.deepEqual(g.edges.filter((e) => e.critical).map((e) => `${e.from}→${e.to}`).sort(), critical.slice(1).map((w, i) => `${critical[i]}→${w}`).sort());
  // Each workstream inside its domain's box, each domain inside its phase's.
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  for (const n of g.nodes.filter((x) => x.parent)) {
    const box = byId.get(n.parent!)!;
    assert.ok(Math.abs(n.x - box.x) <= box.width / 2 && Math.abs(n.y - box.y) <= box.height / 2, `${n.id} lies inside ${box.id}`);
  }
  assert.ok(g.edges.every((e) => e.points.length >= 2));
});
