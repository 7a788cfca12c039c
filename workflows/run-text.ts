// What a run shows people: its state (the `SparkyState` search attribute) and, in words, what it waits
// for (the Web UI's current details and `sparky status`), with the exact commands that move it on.
// The Web UI renders current details as markdown: commands sit in backticks.
import { waitText } from './gate.ts';
import { worktreeHelp } from '../common/git-flow.ts';
import type { GateStatus, RunState, RunStatus, WorkstreamStatus } from './status.ts';
import { count } from '../common/plural.ts';
import { spendLines } from './spend.ts';

export const TERMINAL: RunState[] = ['completed', 'failed', 'cancelled', 'aborted'];

/** `base` is where the run's own code is (running, compensating, or how it ended); pause and attention lie on top. */
export function runState(status: RunStatus, base: RunState, paused: boolean): RunState {
  if (TERMINAL.includes(base) || base === 'compensating') return base;
  if (paused) return 'paused';
  if (needingAttention(status).length > 0 || failedGate(status)) return 'attention';
  return waitingGate(status) ? 'waiting' : base;
}

export function waitingGate(status: RunStatus): GateStatus | undefined {
  return status.phases.find((p) => p.gate?.state === 'waiting')?.gate;
}

export function failedGate(status: RunStatus): GateStatus | undefined {
  return status.phases.find((p) => p.gate?.state === 'checks-failed' || p.gate?.state === 'merge-conflict')?.gate;
}

export function needingAttention(status: RunStatus): WorkstreamStatus[] {
  const phase = status.phases.find((p) => p.id === status.currentPhase);
  return phase ? phase.domains.flatMap((d) => d.workstreams.filter((w) => w.state === 'attention')) : [];
}

export interface TextContext { runWorkflowId: string; sagaSize: number }

/**
 * Steps taken from the cache (they did not run in this run), in words: how many, and from which runs.
 * `phaseId` limits it to one phase (what a gate's approvers approve). Empty when there are none.
 */
export function cachedText(status: RunStatus, phaseId?: string): string {
  const steps = status.phases.filter((p) => phaseId === undefined || p.id === phaseId)
    .flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps.map((s) => ({ ws: w.id, s })))));
  const hits = steps.filter(({ s }) => s.state === 'cached');
  if (hits.length === 0) return '';
  const runs = [...new Set(hits.map(({ s }) => s.cache?.hit?.run).filter(Boolean))];
  const total = steps.filter(({ s }) => s.state !== 'skipped').length;
  return `${hits.length} of ${total} step(s) taken from the cache, not run in this run (from ${runs.slice(0, 3).join(', ')}${runs.length > 3 ? `, … (${runs.length} runs)` : ''}; \`sparky status\` lists them)`;
}

export function runText(status: RunStatus, ctx: TextContext): string {
  const spend = spendLines(status);
  const text = stateText(status, ctx);
  return spend.length ? `${text}\n${spend.join('\n')}` : text;
}

function stateText(status: RunStatus, ctx: TextContext): string {
  const id = ctx.runWorkflowId;
  switch (status.state) {
    case 'completed': {
      const cached = cachedText(status);
      return `completed${cached ? `; ${cached}` : ''}${status.subset ? `; subset run ${status.subset}` : ''}`;
    }
    case 'failed': case 'cancelled': case 'aborted':
      return `${status.state}${status.error ? `: ${status.error.split('\n')[0]}` : ''}`;
    case 'compensating': return compensatingText(status, ctx.sagaSize);
    case 'paused': return `paused: no new steps start; resume with: \`sparky resume ${id}\` or \`temporal workflow signal --workflow-id ${id} --name resume\``;
    case 'attention': return attentionText(status, id);
    case 'waiting': {
      const gate = waitingGate(status) as GateStatus;
      const cached = cachedText(status, gate.phaseId);
      return `${waitText(gate, id)}${cached ? `\n  in this phase: ${cached}` : ''}`;
    }
    default: return runningText(status);
  }
}

function compensatingText(status: RunStatus, total: number): string {
  const rows = status.compensations;
  const done = rows.filter((c) => c.state !== 'pending' && c.state !== 'running').length;
  const current = rows.find((c) => c.state === 'running');
  return `compensating: undoing finished steps newest first (${done} of ${Math.max(total, rows.length)} done${current ? `; now undoing ${current.of}` : ''})`;
}

function runningText(status: RunStatus): string {
  const phase = status.phases.find((p) => p.id === status.currentPhase);
  if (!phase) return 'starting';
  if (phase.gate?.state === 'checking') return `running the checks of gate ${phase.gate.id}`;
  const undoing = status.compensations.find((c) => c.state === 'running');
  if (undoing) return `rework: undoing ${undoing.of}`;
  const runningWs = phase.domains.flatMap((d) => d.workstreams.filter((w) => w.state === 'running').map((w) => w.id));
  const shown = runningWs.slice(0, 8).join(', ') + (runningWs.length > 8 ? `, … (${runningWs.length})` : '');
  const cached = cachedText(status, phase.id);
  return `running phase ${phase.id}${runningWs.length ? `: ${shown}` : ''}${cached ? `; ${cached}` : ''}`;
}

/** One block per thing that needs a person: what happened, and the commands for each way on. */
export function attentionText(status: RunStatus, id: string): string {
  const lines: string[] = [];
  for (const ws of needingAttention(status).slice(0, 5)) {
    const a = ws.attention;
    const step = `${ws.id}/${a?.step ?? ws.steps.find((s) => s.state === 'failed')?.id ?? '?'}`;
    const what = a?.cause === 'rework' ? `${ws.id} waits for rework (${a.reason.split('\n')[0]})`
      : a?.cause === 'question' || a?.cause === 'stalled' || a?.cause === 'budget' ? `${a.reason.split('\n')[0]}${a.question?.escalated ? ` [escalated${a.question.escalated.to.length ? ` to ${a.question.escalated.to.join(', ')}` : ''}]` : ''}`
        : `${step} failed: ${(a?.reason ?? ws.error ?? '').split('\n')[0]}`;
    if (a?.cause === 'question') {
      lines.push(`needs attention: ${what}`,
        `  answer: \`sparky answer ${id} ${step} "…" --as NAME\` or \`temporal workflow signal --workflow-id ${id} --name answerQuestion --input '{"step":"${step}","by":"NAME","answer":"…"}'\``,
        `  skip: \`sparky skip ${id} ${step} --as NAME --reason WHY\``);
      continue;
    }
    lines.push(`needs attention: ${what}`,
      ...(a?.git ? worktreeHelp(a.git, (c) => `\`${c}\``).map((l) => `  ${l}`) : []),
      `  retry: \`sparky retry ${id} ${step} --as NAME\` or \`temporal workflow signal --workflow-id ${id} --name retryStep --input '{"step":"${step}","by":"NAME"}'\``,
      `  skip: \`sparky skip ${id} ${step} --as NAME --reason WHY\``,
      ...(a?.cause === 'rework' ? [] : [`  log: \`sparky logs ${id} ${step}\``]));
  }
  const more = needingAttention(status).length - 5;
  if (more > 0) lines.push(`… and ${count(more, 'more workstream')} in attention (sparky status ${id})`);
  const gate = failedGate(status);
  if (gate?.state === 'merge-conflict') {
    const c = gate.mergeConflict;
    const why = c?.files.length
      ? `merging ${c.branch} (workstream ${c.workstreamId}) into ${c.base} conflicts in ${c.files.join(', ')}`
      : (status.phases.find((p) => p.gate === gate)?.git?.merge?.reason ?? 'the merge failed').split('\n')[0];
    lines.push(`needs attention: gate ${gate.id} approved, but ${why}`,
      `  resolve it (merge ${c?.base || 'the base'} into the branch in its worktree and commit, or merge by hand), then: \`sparky recheck ${id} ${gate.id} --as NAME\` or \`temporal workflow signal --workflow-id ${id} --name recheckGate --input '{"gate":"${gate.id}","by":"NAME"}'\``);
  } else if (gate) {
    const failed = gate.checks.filter((c) => !c.passed).map((c) => `${c.id} (${c.message.split('\n')[0]})`).join('; ');
    lines.push(`needs attention: gate ${gate.id} checks failed: ${failed}`,
      `  recheck after the fix: \`sparky recheck ${id} ${gate.id} --as NAME\` or \`temporal workflow signal --workflow-id ${id} --name recheckGate --input '{"gate":"${gate.id}","by":"NAME"}'\``);
  }
  lines.push(`  abort the run: \`sparky abort ${id} --as NAME --reason WHY\`; fix the plan: \`sparky revise ${id} PLAN --as NAME\``);
  return lines.join('\n');
}
