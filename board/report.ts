// The weekly report of a run (`sparky report <run> [--since 7d] [--format md|json]`), from the same
// model the board draws (board/model.ts): per workstream its mark (✅ done, 🟡 under way or in trouble,
// ⚪ not started), progress, actual time against the estimate, and its blockers (attention causes,
// stalled, over the estimate); then the decisions needed (waiting gates with their approvers, agent
// questions, checks and conflicts to resolve) and what happened in the window. Pure: data in, text out.
import type { RunView } from './model.ts';

export type Mark = '✅' | '🟡' | '⚪';

export interface ReportRow {
  workstream: string;
  name?: string;
  phase: string;
  domain: string;
  mark: Mark;
  state: string;
  progress: { done: number; total: number; percent: number };
  estimate?: string;
  actualMs?: number;
  percentOfEstimate?: number;
  blockers: string[];
  /** Finished inside the window. */
  finishedInWindow: boolean;
}

export interface RunReport {
  run: string;
  plan: string;
  state: string;
  generatedAt: string;
  since: string;
  window: string;
  summary: { done: number; underWay: number; notStarted: number; workstreams: number; percent: number };
  workstreams: ReportRow[];
  decisionsNeeded: { kind: string; id: string; what: string; who: string[]; since?: string }[];
  happened: { at: string; who: string; text: string }[];
  /** Agent steps' spend so far (when the run has agent steps). */
  spend?: RunView['spend'];
  webUi?: string;
}

export function markOf(state: string, blockers: readonly string[]): Mark {
  if (state === 'succeeded') return '✅';
  if (state === 'pending' && blockers.length === 0) return '⚪';
  return '🟡';
}

function fmt(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const h = ms / 3_600_000;
  return h < 1 ? `${Math.max(1, Math.round(ms / 60_000))}m` : h < 48 ? `${h.toFixed(1)}h` : `${(h / 24).toFixed(1)}d`;
}

export function buildReport(view: RunView, opts: { now: number; sinceMs: number; window: string; webUi?: string }): RunReport {
  const since = new Date(opts.now - opts.sinceMs).toISOString();
  const waitingBy = new Map(view.waiting.filter((w) => w.kind === 'attention' || w.kind === 'question').map((w) => [w.id.split('/')[0], w]));
  const rows: ReportRow[] = view.gantt.map((r) => {
    const blockers: string[] = [];
    const w = waitingBy.get(r.id);
    if (w) blockers.push(`${w.cause}: ${w.what.split('\n')[0]}`);
    if (r.flags.includes('stalled')) blockers.push(`stalled: no progress for more than ${view.thresholds.stalledAfter}${r.lastProgress ? ` (last ${r.lastProgress})` : ''}`);
    if (r.flags.includes('over')) blockers.push(`over the estimate: ${r.percentOfEstimate}% of ${r.estimate} (threshold ${view.thresholds.overrunPercent}%)`);
    if (r.state === 'failed' || r.state === 'halted') blockers.push(`${r.state}`);
    const ended = r.endMs !== undefined ? Date.parse(view.startedAt) + r.endMs : undefined;
    return {
      workstream: r.id, name: r.name, phase: r.phase, domain: r.domain, mark: markOf(r.state, blockers), state: r.state,
      progress: { ...r.progress, percent: r.progress.total ? Math.round((r.progress.done / r.progress.total) * 100) : 0 },
      estimate: r.estimate, actualMs: r.elapsedMs, percentOfEstimate: r.percentOfEstimate, blockers,
      finishedInWindow: r.state === 'succeeded' && ended !== undefined && ended >= opts.now - opts.sinceMs,
    };
  });
  const done = rows.filter((r) => r.mark === '✅').length;
  const notStarted = rows.filter((r) => r.mark === '⚪').length;
  const steps = rows.reduce((n, r) => n + r.progress.total, 0);
  const stepsDone = rows.reduce((n, r) => n + r.progress.done, 0);
  return {
    run: view.id, plan: view.plan, state: view.state, generatedAt: new Date(opts.now).toISOString(), since, window: opts.window,
    summary: { done, underWay: rows.length - done - notStarted, notStarted, workstreams: rows.length, percent: steps ? Math.round((stepsDone / steps) * 100) : 0 },
    workstreams: rows,
    decisionsNeeded: view.waiting.map((w) => ({ kind: w.kind, id: w.id, what: w.what, who: w.who, ...(w.since ? { since: w.since } : {}) })),
    happened: view.audit.filter((a) => a.at >= since).map((a) => ({ at: a.at, who: a.who, text: a.text })),
    ...(view.spend ? { spend: view.spend } : {}),
    ...(opts.webUi ? { webUi: opts.webUi } : {}),
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(r: RunReport): string {
  const lines = [
    `# ${r.plan} — report of ${r.generatedAt.slice(0, 10)}`, '',
    `Run \`${r.run}\` is **${r.state}**: ${r.summary.done} of ${r.summary.workstreams} workstreams done (✅), ${r.summary.underWay} under way (🟡), ${r.summary.notStarted} not started (⚪); ${r.summary.percent}% of the steps.`
      + (r.spend ? ` Agent spend: $${r.spend.usd.toFixed(2)}, ${r.spend.tokens} tokens in ${r.spend.steps} agent step${r.spend.steps === 1 ? '' : 's'}.` : '')
      + (r.webUi ? ` [Temporal Web UI](${r.webUi})` : ''), '',
    '## Workstreams', '',
    '| | workstream | phase / domain | progress | actual / estimate | blockers |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.workstreams.map((w) => `| ${w.mark} | ${cell(`${w.workstream}${w.name ? ` ${w.name}` : ''}`)}${w.finishedInWindow ? ' (done this period)' : ''} | ${w.phase} / ${w.domain} | ${w.progress.done}/${w.progress.total} steps (${w.progress.percent}%) | `
      + `${fmt(w.actualMs)} / ${w.estimate ?? '—'}${w.percentOfEstimate !== undefined ? ` (${w.percentOfEstimate}%)` : ''} | ${cell(w.blockers.join('; ')) || '—'} |`),
    '', '## Decisions needed', '',
    ...(r.decisionsNeeded.length ? r.decisionsNeeded.map((d) => `- **${d.kind} ${d.id}**: ${cell(d.what)} — waits for ${d.who.join(', ')}${d.since ? ` since ${d.since}` : ''}`) : ['- none']),
    '', `## Since ${r.since} (${r.window})`, '',
    ...(r.happened.length ? r.happened.map((h) => `- ${h.at} ${h.who}: ${cell(h.text)}`) : ['- no decisions in this period']),
    '',
  ];
  return lines.join('\n');
}
