// Live progress of a run for `sparky run --wait`, `sparky status --watch` and `npm start`: in a terminal
// a tree with bars per phase and domain that redraws in place; elsewhere (CI, pipes) plain lines, one per
// change, so logs stay readable.
import logUpdate from 'log-update';
import type { GateStatus, RunStatus, StepStatus } from '../workflows/status.ts';
import { DEFAULT_ADDRESS, temporalAddress, webUiText } from './connection.ts';
import { failedGate, needingAttention } from '../workflows/run-text.ts';
import { count } from '../common/plural.ts';
import { worktreeHelp } from '../common/git-flow.ts';
import { spendText } from '../common/agent-spend.ts';
import { spendLines } from '../workflows/spend.ts';
import { liveText, type AgentLive } from './agent-live.ts';

const STEP_MARK: Record<string, string> = {
  pending: '·', running: '▶', succeeded: '✔', cached: '↺', failed: '✖', skipped: '↷', cancelled: '⊘',
};

function bar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/**
 * Exactly how to approve a waiting gate, from each surface that would be accepted: approvers with keys
 * must sign (`--key`, or a signature over `sparky statement`), so for them no unsigned `tctl` or Web UI
 * line is offered; approvers without keys get every surface.
 */
export function approvalHelp(workflowId: string, gate: GateStatus): string {
  const addr = temporalAddress() === DEFAULT_ADDRESS ? '' : ` --address ${temporalAddress()}`;
  const signers = gate.signedApprovers ?? [];
  const unsigned = gate.approvers.filter((a) => !signers.includes(a));
  const input = JSON.stringify({ gate: gate.id, approver: 'NAME', decision: 'approve' });
  const signalInput = JSON.stringify({ gate: gate.id, approver: 'NAME' });
  const signedInput = JSON.stringify({ gate: gate.id, approver: 'NAME', decision: 'approve', signedAt: 'TIME', signature: '<armored signature>' });
  const lines = [
    `gate ${gate.id} waits for ${count(gate.required, 'approval')} from ${gate.approvers.join(', ')}` +
      (gate.approvals.length ? ` (have: ${gate.approvals.join(', ')})` : '') +
      (gate.deadline ? `; times out at ${gate.deadline}` : ''),
  ];
  if (unsigned.length) {
    const who = signers.length ? `   (${unsigned.join(', ')}: no key)` : '';
    lines.push(
      `  sparky:   npx sparky approve ${workflowId} ${gate.id} --as NAME   (or: npx sparky reject … --reason WHY)${who}`,
      `  temporal: .tools/bin/temporal workflow update execute${addr} --workflow-id ${workflowId} --name decideGate --input '${input}'`,
      `  tctl:     tctl workflow signal --workflow_id ${workflowId} --name approveGate --input '${signalInput}'`,
      `  Web UI:   ${webUiText(workflowId, ` → "Send a Signal": approveGate ${signalInput}`)}`,
    );
  }
  if (signers.length) {
    lines.push(
      `  signed:   ${signers.join(', ')} must sign: npx sparky approve ${workflowId} ${gate.id} --as NAME --key ~/.ssh/id_ed25519   (or: npx sparky reject … --reason WHY --key …)`,
      `            or sign \`npx sparky statement ${workflowId} ${gate.id} --decision approve --time TIME\` with ssh-keygen -Y sign -n sparky-gate, then:`,
      `            .tools/bin/temporal workflow update execute${addr} --workflow-id ${workflowId} --name decideGate --input '${signedInput}'`,
    );
  }
  return lines.join('\n');
}

/** What needs a person, with the failed step's log tail and each way on, from each surface. */
export function attentionHelp(status: RunStatus): string {
  const id = status.runWorkflowId;
  const addr = temporalAddress() === DEFAULT_ADDRESS ? '' : ` --address ${temporalAddress()}`;
  const web = (input: string) => webUiText(id, ` → "Send a Signal": ${input}`);
  const out: string[] = [];
  for (const ws of needingAttention(status)) {
    const step = `${ws.id}/${ws.attention?.step ?? '?'}`;
    const failed = ws.steps.find((s) => s.id === ws.attention?.step && s.state === 'failed');
    const input = JSON.stringify({ step, by: 'NAME' });
    if (ws.attention?.cause === 'question') {
      const q = ws.attention.question;
      const answer = JSON.stringify({ step, by: 'NAME', answer: '…' });
      out.push(`${step} asks ${q?.to.length ? q.to.join(', ') : 'a person'}: ${q?.text ?? ws.attention.reason}`
        + `${q?.escalated ? `  [escalated${q.escalated.to.length ? ` to ${q.escalated.to.join(', ')}` : ''} at ${q.escalated.at}]` : q?.deadline ? `  (escalates at ${q.deadline})` : ''}`,
      `  sparky:   npx sparky answer ${id} ${step} "…" --as NAME   |   npx sparky skip ${id} ${step} --as NAME --reason WHY`,
      `  temporal: .tools/bin/temporal workflow signal${addr} --workflow-id ${id} --name answerQuestion --input '${answer}'`,
      `  Web UI:   ${web(`answerQuestion ${answer}`)}`);
      continue;
    }
    out.push(ws.attention?.cause === 'rework'
      ? `${ws.id} waits for rework: ${ws.attention.reason}`
      : `${step} needs attention: ${(ws.attention?.reason ?? ws.error ?? '').split('\n')[0]}`);
    const tail = (failed?.lastError ?? '').split('\n').slice(1).filter(Boolean).slice(-12);
    if (tail.length) out.push(...tail.map((l) => `  | ${l}`));
    if (ws.attention?.git) out.push(...worktreeHelp(ws.attention.git).map((l) => `  ${l}`));
    out.push(
      `  sparky:   npx sparky retry ${id} ${step} --as NAME   |   npx sparky skip ${id} ${step} --as NAME --reason WHY`,
      `  temporal: .tools/bin/temporal workflow signal${addr} --workflow-id ${id} --name retryStep --input '${input}'`,
      `  tctl:     tctl workflow signal --workflow_id ${id} --name retryStep --input '${input}'`,
      `  Web UI:   ${web(`retryStep ${input}`)}`,
      ...(failed ? [`  log:      npx sparky logs ${id} ${step}`] : []),
    );
  }
  const stuck = failedGate(status);
  const merge = stuck?.state === 'merge-conflict' ? stuck : undefined;
  if (merge) {
    const c = merge.mergeConflict;
    const input = JSON.stringify({ gate: merge.id, by: 'NAME' });
    out.push(`gate ${merge.id}: approved, but ${c?.files.length ? `merging ${c.branch} into ${c.base} conflicts in ${c.files.join(', ')}` : 'the merge failed (sparky status)'}`,
      `  sparky:   npx sparky recheck ${id} ${merge.id} --as NAME   (after resolving it on the branch, or merging by hand)`,
      `  temporal: .tools/bin/temporal workflow signal${addr} --workflow-id ${id} --name recheckGate --input '${input}'`);
  }
  const gate = stuck?.state === 'checks-failed' ? stuck : undefined;
  if (gate) {
    const input = JSON.stringify({ gate: gate.id, by: 'NAME' });
    out.push(`gate ${gate.id}: checks failed: ${gate.checks.filter((c) => !c.passed).map((c) => `${c.id} (${c.message.split('\n')[0]})`).join('; ')}`,
      `  sparky:   npx sparky recheck ${id} ${gate.id} --as NAME   (after fixing what the checks measure)`,
      `  temporal: .tools/bin/temporal workflow signal${addr} --workflow-id ${id} --name recheckGate --input '${input}'`,
      `  Web UI:   ${web(`recheckGate ${input}`)}`);
  }
  if (out.length) out.push(`or end the run: npx sparky abort ${id} --as NAME --reason WHY; fix the plan: npx sparky revise ${id} PLAN --as NAME`);
  return out.join('\n');
}

export function waitingGate(status: RunStatus): GateStatus | undefined {
  return status.phases.map((p) => p.gate).find((g): g is GateStatus => g?.state === 'waiting');
}

/** An agent step's state in words: running (from its heartbeat), waiting for a person, stalled, over budget. */
export function agentState(status: RunStatus, wsId: string, s: StepStatus, live?: Map<string, AgentLive>): string | undefined {
  if (s.kind !== 'agent') return undefined;
  const ws = status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).find((w) => w.id === wsId);
  const a = ws?.state === 'attention' && ws.attention?.step === s.id ? ws.attention : undefined;
  const spent = s.spend ? `; spent ${spendText(s.spend)}` : '';
  if (a?.cause === 'question') return `waiting for a person (${a.question?.to.length ? a.question.to.join(', ') : 'anyone'}) since ${a.since}${a.question?.escalated ? ', escalated' : ''}${spent}`;
  if (a?.cause === 'stalled') return `stalled (last event ${a.lastEvent ? `${a.lastEvent.event} at ${a.lastEvent.at ?? '?'}` : 'none'})${spent}`;
  if (a?.cause === 'budget') return `budget reached (${a.budget?.scope ?? ''})${spent}`;
  const beat = live?.get(`${wsId}/${s.id}`);
  if (s.state === 'running' && beat) return liveText(beat);
  if (s.state === 'running') return `starting${spent}`;
  return s.spend ? `spent ${spendText(s.spend)}` : undefined;
}

/** The whole run as a tree of lines (`live`: running agent steps' last heartbeats, cli/agent-live.ts). */
export function renderStatus(status: RunStatus, live?: Map<string, AgentLive>): string {
  const lines: string[] = [];
  lines.push(`${status.runWorkflowId}  plan ${status.plan}  ${status.state.toUpperCase()}${status.paused ? ' (paused)' : ''}`);
  if (status.waitingFor) lines.push(`  ${status.waitingFor}`);
  if (status.subset) lines.push(`  subset run: ${status.subset}`);
  if (status.noCache) lines.push(`  --no-cache: ${status.noCache === true ? 'every workstream' : status.noCache.join(', ')} (cached steps ran whatever the cache held)`);
  for (const phase of status.phases) {
    const steps = phase.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps));
    const done = steps.filter((s) => s.state !== 'pending' && s.state !== 'running').length;
    lines.push(`phase ${phase.id}${phase.name ? ` (${phase.name})` : ''}  ${bar(done, steps.length)} ${done}/${steps.length}  ${phase.state}`);
    for (const domain of phase.domains) {
      const dsteps = domain.workstreams.flatMap((w) => w.steps);
      const ddone = dsteps.filter((s) => s.state !== 'pending' && s.state !== 'running').length;
      lines.push(`  ${domain.id.padEnd(14)} ${bar(ddone, dsteps.length, 12)} ${String(ddone).padStart(3)}/${dsteps.length}  ${domain.state}`);
      for (const ws of domain.workstreams) {
        if (ws.state === 'pending' && phase.state === 'pending') continue;
        const marks = ws.steps.map((s) => `${STEP_MARK[s.state] ?? '?'}${s.id}${nothingCommitted(s) ? ' (nothing committed)' : ''}`).join(' ');
        const revised = ws.steps.some((s) => (s.revision ?? 0) > 0) ? `  (revision ${Math.max(...ws.steps.map((s) => s.revision ?? 0))})` : '';
        lines.push(`    ${ws.id.padEnd(8)} ${ws.state.padEnd(9)} ${marks}${ws.error ? `  — ${ws.error.split('\n')[0]}` : ''}${ws.skippedReason ? `  — ${ws.skippedReason}` : ''}${revised}`);
        for (const s of ws.steps) {
          const story = stepStory(s);
          if (story) lines.push(`      ${s.id}: ${story}`);
          const agent = agentState(status, ws.id, s, live);
          if (agent) lines.push(`      ${s.id} (agent): ${agent}`);
        }
      }
    }
    if (phase.gate) {
      const g = phase.gate;
      const checks = g.checks.map((c) => `${c.passed ? '✔' : '✖'}${c.id}${c.measured !== undefined ? `=${JSON.stringify(c.measured)}` : ''}`).join(' ');
      lines.push(g.state === 'skipped' ? `  gate ${g.id}  skipped: ${g.skippedReason ?? ''}`
        : `  gate ${g.id}  ${g.state}  approvals ${g.approvals.length}/${g.required}${g.escalated ? ' (escalated)' : ''}${checks ? `  checks: ${checks}` : ''}`);
      for (const c of g.skippedChecks ?? []) lines.push(`    check ${c.id} not run: ${c.reason}`);
      lines.push(...auditLines(g));
    }
    if (phase.git) lines.push(...gitLines(phase.git));
  }
  lines.push(...cacheLines(status));
  if (status.compensations.length) {
    lines.push('compensations (newest first):');
    for (const c of status.compensations) lines.push(`  ${c.of} → ${c.stepId}  ${c.state}${c.error ? `  — ${c.error.split('\n')[0]}` : ''}${c.reason ? `  — ${c.reason}` : ''}`);
  }
  if (status.revisions.length) {
    lines.push(`plan revisions: ${status.revisions.map((r) => `${r.revision} by ${r.by}${r.comment ? ` (${r.comment})` : ''}: ${r.changes.join(', ')}`).join('; ')}`);
  }
  if (status.error) lines.push(`error: ${status.error}`);
  lines.push(...spendLines(status));
  const gate = waitingGate(status);
  if (gate) lines.push('', approvalHelp(status.runWorkflowId, gate));
  if (status.state === 'attention') lines.push('', attentionHelp(status));
  return lines.join('\n');
}

/**
 * The cache's part of the run, step by step: where each hit came from (run, step, when, host, key), and
 * for each cached step that ran, why (no entry, what changed, an output gone, forced) and whether it
 * was stored. The audit of what this run did not run.
 */
export function cacheLines(status: RunStatus): string[] {
  const out: string[] = [];
  for (const p of status.phases) {
    for (const d of p.domains) {
      for (const w of d.workstreams) {
        for (const s of w.steps) {
          const c = s.cache;
          if (!c) continue;
          if (s.state === 'cached' && c.hit) {
            out.push(`  ${w.id}/${s.id}  cached: from run ${c.hit.run} (${c.hit.workstream}/${c.hit.step}, made ${c.hit.at}${c.hit.host ? ` on ${c.hit.host}` : ''}), `
              + `key ${c.key.slice(0, 16)}${c.hit.restored ? `, ${c.hit.restored} file(s) brought in` : ''}`);
          } else if (s.state === 'succeeded') {
            out.push(`  ${w.id}/${s.id}  ran: ${c.miss ?? 'no entry'}; ${c.stored ? `stored, key ${c.key.slice(0, 16)}` : `not stored: ${c.notStored ?? '?'}`}`);
          }
        }
      }
    }
  }
  return out.length ? ['cache:', ...out] : [];
}

/** A `commit:` step that found nothing to commit (the status says why, e.g. the step changed nothing). */
function nothingCommitted(s: StepStatus): boolean {
  return s.commit?.startsWith('nothing committed') === true;
}

/**
 * What the step's marks cannot say: its attempts in all (counting across retries), who retried it, when
 * and why, and a commit that did not happen. Empty for a step that ran once and committed as asked.
 */
export function stepStory(s: StepStatus): string {
  const parts: string[] = [];
  if ((s.attempts ?? 0) > 1 || s.retries?.length) parts.push(count(s.attempts ?? 0, 'attempt'));
  for (const r of s.retries ?? []) parts.push(`${r.rework ? 'rework ' : ''}retried by ${r.by} at ${r.at}${r.comment ? ` ("${r.comment.split('\n')[0]}")` : ''}`);
  if (nothingCommitted(s)) parts.push(s.commit as string);
  return parts.join('; ');
}

/**
 * A gate's audit trail, one line per decision: when, who, what, how (surface; signed with which key),
 * the comment or reason, and what did not count (ignored signals with why, votes voided by a rework).
 */
export function auditLines(gate: GateStatus): string[] {
  const who = Math.max(0, ...gate.audit.map((a) => a.approver.length));
  return gate.audit.map((a) => {
    const how = a.surface === 'timeout' ? 'on timeout'
      : `via ${a.surface}${a.fingerprint ? `, signed (key ${a.fingerprint})` : a.signature ? ', signature not verified' : ''}`;
    const text = a.decision === 'reject' ? a.reason ?? a.comment : a.comment ?? a.reason;
    const marks = [
      a.automatic ? 'automatic' : '',
      a.rework?.length ? `rework: ${a.rework.join(', ')}` : '',
      a.void ? 'void: cast before a rework reopened the phase' : '',
      a.ignored ? `IGNORED: ${(a.ignoredReason ?? '').split('\n')[0]}` : '',
    ].filter(Boolean);
    return `    ${a.at}  ${a.approver.padEnd(who)}  ${(a.decision ?? '-').padEnd(8)} ${how}${text ? `  "${text.split('\n')[0]}"` : ''}${marks.length ? `  [${marks.join('; ')}]` : ''}`;
  });
}

/** The git flow of a phase: each branch (push, pull request) and the merge into the base. */
function gitLines(git: NonNullable<RunStatus['phases'][number]['git']>): string[] {
  const out = [`  git ${git.base} @ ${git.baseCommit.slice(0, 12)}`];
  for (const b of git.branches) {
    out.push(`    ${b.workstreamId.padEnd(8)} ${b.branch}${b.push ? `  push: ${b.push}` : ''}${b.pr ? `  pr: ${b.pr}` : ''}`);
    for (const r of b.resets ?? []) {
      out.push(`      reset to ${git.baseCommit.slice(0, 12)} at ${r.at} (was ${r.from.slice(0, 12)}${r.discarded?.length ? `, ${count(r.discarded.length, 'uncommitted change')} discarded` : ''})${r.reason ? `: ${r.reason.split('\n')[0]}` : ''}`);
    }
  }
  const m = git.merge;
  if (m?.state === 'nothing-to-merge') {
    out.push(`    merge: nothing to merge: no branch has a commit beyond ${git.base} @ ${git.baseCommit.slice(0, 12)} (its steps changed nothing in their worktrees); ${git.base} did not move`);
  } else if (m) {
    out.push(`    merge: ${m.state}${m.head ? ` → ${m.head.slice(0, 12)}` : ''}${m.push ? `  push: ${m.push}` : ''}${m.reason ? `  — ${m.reason.split('\n')[0]}` : ''}`
      + `${m.nothingFrom?.length ? `  (nothing to merge from ${m.nothingFrom.join(', ')})` : ''}`);
  }
  return out;
}

type Flat = Map<string, string>;

function flatten(status: RunStatus): Flat {
  const flat: Flat = new Map();
  flat.set('run', `${status.state}${status.paused ? ' (paused)' : ''}`);
  for (const phase of status.phases) {
    flat.set(`phase ${phase.id}`, phase.state);
    for (const d of phase.domains) {
      for (const w of d.workstreams) {
        for (const s of w.steps) {
          flat.set(`${w.id}/${s.id}`, describeStep(s));
          // An agent step waiting for a person, stalled or over budget (a running one's heartbeat changes every second: not a line each).
          const agent = s.state !== 'running' && w.state === 'attention' ? agentState(status, w.id, s) : undefined;
          if (agent) flat.set(`${w.id}/${s.id} (agent)`, agent);
        }
      }
    }
    if (phase.gate) flat.set(`gate ${phase.gate.id}`, `${phase.gate.state} ${phase.gate.approvals.length}/${phase.gate.required}`);
  }
  for (const c of status.compensations) flat.set(`compensate ${c.of}`, c.state);
  const spend = spendLines(status);
  if (spend.length) flat.set('agent spend', spend.map((l) => l.trim()).join('; ').replace(/^agent spend: /, ''));
  return flat;
}

function describeStep(s: StepStatus): string {
  if (s.state === 'skipped') return s.skippedReason?.startsWith('skipped') ? s.skippedReason : `skipped: ${s.skippedReason ?? ''}`;
  if (s.state === 'failed') return `failed: ${(s.lastError ?? '').split('\n')[0]}${stepStory(s) ? ` (${stepStory(s)})` : ''}${s.spend ? `; spent ${spendText(s.spend)}` : ''}`;
  const story = stepStory(s);
  if (s.state === 'succeeded') return `succeeded${s.durationMs !== undefined ? ` (${(s.durationMs / 1000).toFixed(1)}s${s.taskQueue ? ` on ${s.taskQueue}` : ''})` : ''}${story ? `; ${story}` : ''}${s.spend ? `; spent ${spendText(s.spend)}` : ''}`;
  if (s.state === 'cached') return `cached: from run ${s.cache?.hit?.run ?? '?'} (${s.cache?.hit?.workstream}/${s.cache?.hit?.step}, made ${s.cache?.hit?.at ?? '?'})${s.taskQueue ? ` on ${s.taskQueue}` : ''}`;
  return `${s.state}${story && s.state !== 'pending' ? `; ${story}` : ''}`;
}

/** Prints progress as the status changes: a redrawn tree on a terminal, change lines otherwise. */
export class ProgressPrinter {
  private last: Flat = new Map();
  private lastGateHelp = '';
  constructor(private readonly tty = Boolean(process.stdout.isTTY) && !process.env.CI) {}

  update(status: RunStatus, live?: Map<string, AgentLive>): void {
    if (this.tty) { logUpdate(renderStatus(status, live)); return; }
    const now = flatten(status);
    const time = new Date().toISOString().slice(11, 19);
    for (const [key, value] of now) {
      if (this.last.get(key) !== value && !(this.last.size === 0 && value === 'pending')) console.log(`${time} ${key}: ${value}`);
    }
    this.last = now;
    const gate = waitingGate(status);
    const help = [gate ? approvalHelp(status.runWorkflowId, gate) : '', status.state === 'attention' ? attentionHelp(status) : ''].filter(Boolean).join('\n');
    if (help && help !== this.lastGateHelp) console.log(help);
    this.lastGateHelp = help;
  }

  /** Leave the last frame on screen (terminal) before printing anything else. */
  done(): void {
    if (this.tty) logUpdate.done();
  }
}
