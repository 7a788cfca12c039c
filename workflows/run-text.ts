// What a run shows people: its state (the `SparkyState` search attribute) and, in words, what it waits
// for (the Web UI's current details and `sparky status`), with the exact commands that move it on.
// The Web UI renders current details as markdown: commands sit in backticks.
import { waitText } from './gate.ts';
import { worktreeHelp } from '../common/git-flow.ts';
import type { GateStatus, RunState, RunStatus, WorkstreamStatus } from './status.ts';
import { count } from '../common/plural.ts';

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

export function runText(status: RunStatus, ctx: TextContext): string {
  const id = ctx.runWorkflowId;
  switch (status.state) {
    case 'completed': case 'failed': case 'cancelled': case 'aborted':
      return `${status.state}${status.error ? `: ${status.error.split('\n')[0]}` : ''}`;
    case 'compensating': return compensatingText(status, ctx.sagaSize);
    case 'paused': return `paused: no new steps start; resume with: \`sparky resume ${id}\` or \`temporal workflow signal --workflow-id ${id} --name resume\``;
    case 'attention': return attentionText(status, id);
    case 'waiting': return waitText(waitingGate(status) as GateStatus, id);
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
  return `running phase ${phase.id}${runningWs.length ? `: ${shown}` : ''}`;
}

/** One block per thing that needs a person: what happened, and the commands for each way on. */
export function attentionText(status: RunStatus, id: string): string {
  const lines: string[] = [];
  for (const ws of needingAttention(status).slice(0, 5)) {
    const a = ws.attention;
    const step = `${ws.id}/${a?.step ?? ws.steps.find((s) => s.state === 'failed')?.id ?? '?'}`;
    const what = a?.cause === 'rework' ? `${ws.id} waits for rework (${a.reason.split('\n')[0]})` : `${step} failed: ${(a?.reason ?? ws.error ?? '').split('\n')[0]}`;
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
