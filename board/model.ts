// What the board shows of one run, built from what Temporal answers (the `status` query and the `plan`
// query) and nothing else: the schedule against the estimates with the stalled/over flags, the waiting
// list (gates, attention items, agent questions: for whom, since when), each gate's approvers with
// their keys, checks and votes, the steps with their logs, and the audit. `sparky report` reads the same
// model (board/report.ts), so the page and the report never disagree. The graph is in board/graph.ts.
// Pure: `now` is passed in.
import { approverKeys, approverName, type ApproverEntry } from '../common/approvers.ts';
import { describeKey, parseListedKey } from '../common/keys.ts';
import { base64UrlEncode } from '../common/bytes.ts';
import { analyzePlan } from '../plan/analyze.ts';
import { durationMs, parseEstimate } from '../plan/durations.ts';
import type { Plan } from '../plan/schema.ts';
import type { AuditEntry, DecisionEntry, GateStatus, RunStatus, WorkstreamStatus } from '../workflows/status.ts';

/** Defaults of the plan's `tracking` (docs/board.md). */
export const DEFAULT_STALLED_AFTER = '24h';
export const DEFAULT_OVERRUN_PERCENT = 150;

export type Flag = 'stalled' | 'over';

export interface GanttRow {
  id: string;
  name?: string;
  phase: string;
  domain: string;
  state: string;
  estimate?: string;
  /** Planned start and length from the run's start (ms, midpoint of the estimates, phase gates as barriers). */
  plannedStartMs: number;
  plannedMs: { low: number; mid: number; high: number };
  /** Actual start and end from the run's start (ms); end is absent while it runs. */
  startMs?: number;
  endMs?: number;
  /** How long it has taken so far (or took). */
  elapsedMs?: number;
  /** Share of the estimate's high end used so far (percent), when it has an estimate. */
  percentOfEstimate?: number;
  lastProgress?: string;
  flags: Flag[];
  critical: boolean;
  /** Steps done of all (succeeded, taken from the cache, skipped). */
  progress: { done: number; total: number };
}

export interface WaitingItem {
  kind: 'gate' | 'checks-failed' | 'merge-conflict' | 'attention' | 'question';
  /** The gate id, or `<workstream>/<step>`. */
  id: string;
  what: string;
  /** Who it waits for: named approvers still to vote, or "an operator" for fix-and-continue. */
  who: string[];
  since?: string;
  /** Attention cause (failed, rework, stalled, budget, question…) or gate state. */
  cause: string;
  /** What the page offers (the same updates as the CLI). */
  actions: string[];
}

export interface KeyView { type: string; fingerprint: string; describe: string; rpId?: string; credentialId?: string }
export interface ApproverView { name: string; keys: KeyView[]; voted?: 'approve' | 'reject'; escalation?: boolean }

export interface GateView {
  id: string;
  phase: string;
  state: string;
  round?: number;
  required: number;
  approvals: string[];
  escalated: boolean;
  preventSelfApproval: boolean;
  waitingSince?: string;
  deadline?: string;
  decidedAt?: string;
  checks: GateStatus['checks'];
  approvers: ApproverView[];
  votes: AuditEntry[];
  mergeConflict?: GateStatus['mergeConflict'];
}

export interface StepView { workstream: string; id: string; kind: string; state: string; attempts?: number; lastError?: string; startedAt?: string; finishedAt?: string; logPath?: string; outputs?: Record<string, string> }

export interface AuditLine { at: string; kind: string; who: string; text: string; ignored?: boolean }

export interface RunView {
  id: string;
  plan: string;
  state: string;
  waitingFor: string;
  startedAt: string;
  finishedAt?: string;
  currentPhase?: string;
  revision: number;
  planDigest?: string;
  startedBy?: RunStatus['startedBy'];
  counts: RunStatus['counts'];
  thresholds: { stalledAfter: string; stalledAfterMs: number; overrunPercent: number };
  criticalPath: string[];
  gantt: GanttRow[];
  waiting: WaitingItem[];
  gates: GateView[];
  steps: StepView[];
  audit: AuditLine[];
  /** Agent steps' spend (their outputs costUsd, tokens, turns), when the run has agent steps. */
  spend?: { usd: number; tokens: number; turns: number; steps: number };
  error?: string;
}

const OPERATOR = 'an operator (anyone who may act on the run)';

function keyViews(entry: ApproverEntry): KeyView[] {
  return approverKeys(entry).flatMap((line) => {
    const k = parseListedKey(line);
    if ('error' in k) return [];
    const fp = describeKey(k).split(' ').pop()!;
    return [{ type: k.type, fingerprint: fp, describe: describeKey(k), ...(k.type === 'webauthn' ? { rpId: k.rpId, credentialId: base64UrlEncode(k.credentialId) } : {}) }];
  });
}

function thresholdsOf(plan: Plan | undefined) {
  const stalledAfter = plan?.tracking?.stalledAfter ?? DEFAULT_STALLED_AFTER;
  return { stalledAfter, stalledAfterMs: durationMs(stalledAfter), overrunPercent: plan?.tracking?.overrunPercent ?? DEFAULT_OVERRUN_PERCENT };
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

function lastProgress(ws: WorkstreamStatus): string | undefined {
  const times = [ws.startedAt, ...ws.steps.flatMap((s) => [s.startedAt, s.finishedAt])].filter((t): t is string => Boolean(t));
  return times.sort().pop();
}

export function runView(status: RunStatus, plan: Plan | undefined, now: number): RunView {
  const thresholds = thresholdsOf(plan);
  const analysis = plan ? analyzePlan(plan) : undefined;
  const critical = new Set(analysis?.criticalPath.path ?? []);
  const start = Date.parse(status.startedAt);
  const summaries = new Map((analysis?.workstreams ?? []).map((w) => [w.id, w]));
  const gantt: GanttRow[] = [];
  const steps: StepView[] = [];
  const waiting: WaitingItem[] = [];
  for (const phase of status.phases) {
    for (const domain of phase.domains) {
      for (const ws of domain.workstreams) {
        const sum = summaries.get(ws.id);
        const est = sum?.estimate ? parseEstimate(sum.estimate) : undefined;
        const begun = ms(ws.startedAt);
        const ended = ms(ws.finishedAt);
        const elapsed = begun !== undefined ? (ended ?? now) - begun : undefined;
        const last = lastProgress(ws);
        const flags: Flag[] = [];
        const active = ws.state === 'running' || ws.state === 'attention';
        if (active && last && now - Date.parse(last) > thresholds.stalledAfterMs) flags.push('stalled');
        const percent = est && elapsed !== undefined && est.high > 0 ? Math.round((elapsed / est.high) * 100) : undefined;
        if (percent !== undefined && percent > thresholds.overrunPercent) flags.push('over');
        gantt.push({
          id: ws.id, name: ws.name, phase: phase.id, domain: domain.id, state: ws.state, estimate: sum?.estimate,
          plannedStartMs: sum?.start.mid ?? 0, plannedMs: sum?.span ?? { low: 0, mid: 0, high: 0 },
          ...(begun !== undefined ? { startMs: begun - start } : {}), ...(ended !== undefined ? { endMs: ended - start } : {}),
          ...(elapsed !== undefined ? { elapsedMs: elapsed } : {}), ...(percent !== undefined ? { percentOfEstimate: percent } : {}),
          ...(last ? { lastProgress: last } : {}), flags, critical: critical.has(ws.id),
          progress: { done: ws.steps.filter((s) => s.state === 'succeeded' || s.state === 'cached' || s.state === 'skipped').length, total: ws.steps.length },
        });
        for (const s of ws.steps) {
          steps.push({ workstream: ws.id, id: s.id, kind: s.kind, state: s.state, attempts: s.attempts, lastError: s.lastError, startedAt: s.startedAt, finishedAt: s.finishedAt, logPath: s.logPath, outputs: s.outputs });
        }
        if (ws.attention) {
          const cause = ws.attention.cause as string;
          const question = cause === 'question';
          waiting.push({
            kind: question ? 'question' : 'attention', id: ws.attention.step.includes('/') ? ws.attention.step : `${ws.id}/${ws.attention.step}`,
            what: ws.attention.reason, since: ws.attention.since, cause,
            // A question is for the people its step's ask.to names (and ask.escalate once escalated); anything else, an operator.
            who: question && ws.attention.question?.to.length ? [...ws.attention.question.to, ...(ws.attention.question.escalated?.to ?? [])] : [OPERATOR],
            actions: question ? ['answer', 'skip', 'abort'] : ['retry', 'skip', 'abort'],
          });
        }
      }
    }
    const g = phase.gate;
    if (g && (g.state === 'waiting' || g.state === 'checks-failed' || g.state === 'merge-conflict')) {
      if (g.state === 'waiting') {
        const left = g.approvers.filter((a) => !g.approvals.includes(a));
        waiting.push({
          kind: 'gate', id: g.id, cause: 'waiting', since: g.waitingSince,
          what: `${g.approvals.length} of ${g.required} approval${g.required === 1 ? '' : 's'}${g.escalated ? ' (escalated)' : ''}${g.deadline ? `; deadline ${g.deadline}` : ''}`,
          who: left, actions: ['approve', 'reject'],
        });
      } else if (g.state === 'checks-failed') {
        const failed = g.checks.filter((c) => !c.passed);
        waiting.push({ kind: 'checks-failed', id: g.id, cause: g.state, who: [OPERATOR], since: g.waitingSince ?? phase.startedAt,
          what: `checks failed: ${failed.map((c) => `${c.id} (${c.message})`).join('; ') || 'see the gate'}`, actions: ['recheck', 'rework', 'abort'] });
      } else {
        const m = g.mergeConflict;
        waiting.push({ kind: 'merge-conflict', id: g.id, cause: g.state, who: [OPERATOR], since: g.decidedAt,
          what: m ? `merging ${m.branch} into ${m.base} conflicts in ${m.files.join(', ')}` : 'merge conflict', actions: ['recheck', 'abort'] });
      }
    }
  }
  waiting.sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''));
  const agents = steps.filter((st) => st.kind === 'agent');
  const num = (v: string | undefined) => (v !== undefined && Number.isFinite(Number(v)) ? Number(v) : 0);
  const spend = agents.length ? {
    usd: Number(agents.reduce((n, st) => n + num(st.outputs?.costUsd), 0).toFixed(6)),
    tokens: agents.reduce((n, st) => n + num(st.outputs?.tokens), 0),
    turns: agents.reduce((n, st) => n + num(st.outputs?.turns), 0), steps: agents.length,
  } : undefined;
  return {
    id: status.runWorkflowId, plan: status.plan, state: status.state, waitingFor: status.waitingFor, startedAt: status.startedAt, finishedAt: status.finishedAt,
    currentPhase: status.currentPhase, revision: status.revision, planDigest: status.planDigest, startedBy: status.startedBy, counts: status.counts,
    thresholds, criticalPath: analysis?.criticalPath.path ?? [], gantt, waiting, gates: gateViews(status, plan), steps, audit: auditOf(status), error: status.error,
    ...(spend ? { spend } : {}),
  };
}

function gateViews(status: RunStatus, plan: Plan | undefined): GateView[] {
  return status.phases.flatMap((p) => {
    const g = p.gate;
    if (!g) return [];
    const approval = plan?.phases.find((ph) => ph.id === p.id)?.gate?.approval;
    const entries: [ApproverEntry, boolean][] = [...(approval?.approvers ?? []).map((a) => [a, false] as [ApproverEntry, boolean]),
      ...(approval?.escalate?.approvers ?? []).map((a) => [a, true] as [ApproverEntry, boolean])];
    const counted = g.audit.filter((a) => !a.ignored && !a.void && (a.round === undefined || a.round === g.round));
    const approvers: ApproverView[] = (entries.length ? entries : g.approvers.map((n) => [n, false] as [ApproverEntry, boolean])).map(([e, esc]) => {
      const vote = counted.find((a) => a.approver === approverName(e) && (a.decision === 'approve' || a.decision === 'reject'));
      return { name: approverName(e), keys: keyViews(e), ...(esc ? { escalation: true } : {}), ...(vote ? { voted: vote.decision as 'approve' | 'reject' } : {}) };
    });
    return [{
      id: g.id, phase: p.id, state: g.state, round: g.round, required: g.required, approvals: g.approvals, escalated: g.escalated,
      preventSelfApproval: Boolean(g.preventSelfApproval), waitingSince: g.waitingSince, deadline: g.deadline, decidedAt: g.decidedAt,
      checks: g.checks, approvers, votes: g.audit, ...(g.mergeConflict ? { mergeConflict: g.mergeConflict } : {}),
    }];
  });
}

function decisionText(d: DecisionEntry): string {
  const target = d.step ?? d.gate ?? '';
  return `${d.action}${target ? ` ${target}` : ''}${d.rework?.length ? ` (${d.rework.join(', ')})` : ''}${d.revision !== undefined ? ` → revision ${d.revision}` : ''}${d.comment ? `: ${d.comment}` : ''}`;
}

function auditOf(status: RunStatus): AuditLine[] {
  const lines: AuditLine[] = [];
  for (const d of status.decisions) {
    lines.push({ at: d.at, kind: d.action, who: d.by, text: decisionText(d), ...(d.ignored ? { ignored: true } : {}), ...(d.ignoredReason ? { text: `${decisionText(d)} — ignored: ${d.ignoredReason}` } : {}) });
  }
  for (const p of status.phases) {
    for (const a of p.gate?.audit ?? []) {
      const words = `${a.decision ?? 'vote'} ${p.gate!.id}${a.round !== undefined ? ` (round ${a.round})` : ''}${a.comment ? `: ${a.comment}` : ''}${a.reason ? `: ${a.reason}` : ''}`
        + `${a.fingerprint ? ` [signed ${a.fingerprint}]` : ''}${a.void ? ' (void after rework)' : ''}${a.ignored ? ` — ignored: ${a.ignoredReason ?? ''}` : ''}`;
      lines.push({ at: a.at, kind: 'gate', who: a.approver, text: words, ...(a.ignored ? { ignored: true } : {}) });
    }
  }
  for (const r of status.revisions) lines.push({ at: r.at, kind: 'revision', who: r.by, text: `revision ${r.revision}: ${r.changes.join(', ')}${r.comment ? ` (${r.comment})` : ''}` });
  return lines.sort((a, b) => a.at.localeCompare(b.at));
}
