// metaOrchestrator: one per run. Validates its own input, runs the phases in order (each phase: one
// domainOrchestrator child per domain in parallel, then the phase gate), keeps the whole run's
// status, outputs and saga, and on failure, rejection or cancellation compensates newest first.
// Design and the reasons behind it: docs/orchestration.md.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, setHandler, upsertMemo, workflowInfo,
} from '@temporalio/workflow';
import { domainWorkflowId } from '../common/ids.ts';
import { CPU_TASK_QUEUE } from '../common/task-queues.ts';
import { GateKeeper, runGate, waitText } from './gate.ts';
import {
  approveGateSignal, decideGateUpdate, dependencyFinishedSignal, domainProgressSignal, pauseSignal, rejectGateSignal,
  resumeSignal, statusQuery, type DecideGateInput,
} from './messages.ts';
import { runPhase, type PhaseDeps } from './phase.ts';
import { Relay } from './relay.ts';
import { Saga, type CompensationReport } from './saga.ts';
import { StatusIndex } from './status-index.ts';
import { initialStatus, now, type RunState } from './status.ts';
import { errorMessage } from './steps.ts';
import { validateRunInput, type MetaInput } from './validate-input.ts';
import { Visibility } from './visibility.ts';

export type { MetaInput } from './validate-input.ts';

export interface MetaResult {
  runWorkflowId: string;
  plan: string;
  state: 'completed';
  phases: string[];
  gates: { id: string; state: string; approvals: string[] }[];
  workstreams: number;
  skippedSteps: string[];
}

const TERMINAL: RunState[] = ['completed', 'failed', 'cancelled'];

export async function metaOrchestrator(input: MetaInput): Promise<MetaResult> {
  const { plan, options } = validateRunInput(input);
  const runWorkflowId = workflowInfo().workflowId; // `sparky-<plan>-<run>` from Sparky; anything when started by hand
  const cpuTaskQueue = options.cpuTaskQueue ?? CPU_TASK_QUEUE;
  const status = initialStatus(plan, runWorkflowId, (p, d) => domainWorkflowId(runWorkflowId, p, d));
  const saga = new Saga();
  const index = new StatusIndex(status, saga);
  const relay = new Relay();
  const visibility = new Visibility(options.searchAttributes !== false);
  const active = new Set<string>();
  const dependents = new Map<string, string[]>();
  let paused = false;
  let base: RunState = 'running';

  const refresh = () => {
    const terminal = TERMINAL.includes(base);
    const gate = status.phases.find((p) => p.gate?.state === 'waiting')?.gate;
    status.paused = paused;
    status.state = paused && !terminal && base !== 'compensating' ? 'paused' : base === 'running' && gate ? 'waiting' : base;
    status.waitingFor = terminal ? `${base}${status.error ? `: ${status.error.split('\n')[0]}` : ''}`
      : base === 'compensating' ? compensatingText()
        : paused ? `paused: no new steps start; resume with: temporal workflow signal --workflow-id ${runWorkflowId} --name resume`
          : gate ? waitText(gate, runWorkflowId)
            : runningText();
    visibility.update({ plan: plan.name, phase: status.currentPhase ?? '', gate: gate && !terminal ? gate.id : '', state: status.state });
    visibility.setDetails(status.waitingFor);
  };
  const compensatingText = () => {
    const done = status.compensations.filter((c) => c.state !== 'pending' && c.state !== 'running').length;
    const current = status.compensations.find((c) => c.state === 'running');
    return `compensating: undoing finished steps newest first (${done} of ${saga.size} done${current ? `; now undoing ${current.of}` : ''})`;
  };
  const runningText = () => {
    const phase = status.phases.find((p) => p.id === status.currentPhase);
    if (!phase) return 'starting';
    if (phase.gate?.state === 'checking') return `running the checks of gate ${phase.gate.id}`;
    const runningWs = phase.domains.flatMap((d) => d.workstreams.filter((w) => w.state === 'running').map((w) => w.id));
    const shown = runningWs.slice(0, 8).join(', ') + (runningWs.length > 8 ? `, … (${runningWs.length})` : '');
    return `running phase ${phase.id}${runningWs.length ? `: ${shown}` : ''}`;
  };

  const gates = new GateKeeper(status, refresh);
  const gateSignal = (decision: Partial<DecideGateInput>) => {
    const why = gates.refusal(decision);
    if (why) gates.ignore(decision, 'signal', why);
    else gates.decide(decision as DecideGateInput, 'signal');
  };
  setHandler(statusQuery, () => status, { description: 'phases, domains, workstreams, steps, gates (checks, votes, audit), compensations' });
  setHandler(approveGateSignal, (msg) => gateSignal({ gate: msg?.gate, approver: msg?.approver, comment: msg?.comment, decision: 'approve' }),
    { description: '{gate, approver, comment?}: one approval (refusals are kept in the audit as ignored)' });
  setHandler(rejectGateSignal, (msg) => gateSignal({ gate: msg?.gate, approver: msg?.approver, comment: msg?.reason, decision: 'reject' }),
    { description: '{gate, approver, reason}: reject the gate (the run compensates)' });
  setHandler(decideGateUpdate, (msg) => gates.decide(msg as DecideGateInput, 'update'), {
    description: '{gate, approver, decision: approve|reject, comment?}: answers with the gate; refuses unauthorised votes',
    validator: (msg) => {
      const why = gates.refusal(msg);
      if (why) throw new Error(why);
    },
  });
  const relayToChildren = (signal: typeof pauseSignal) => {
    if (status.currentPhase) relay.send(status.currentPhase, [...active], signal, {});
  };
  setHandler(pauseSignal, () => { if (!paused) { paused = true; relayToChildren(pauseSignal); refresh(); } },
    { description: '{}: no new steps start; running ones finish' });
  setHandler(resumeSignal, () => { if (paused) { paused = false; relayToChildren(resumeSignal); refresh(); } },
    { description: '{}: continue after pause' });
  setHandler(domainProgressSignal, (msg) => {
    index.apply(msg, (workstreamId) => {
      const waiting = dependents.get(workstreamId);
      if (waiting) {
        relay.send(msg.phaseId, waiting.filter((id) => active.has(id)), dependencyFinishedSignal,
          { workstreams: [{ id: workstreamId, outputs: index.byWorkstream.get(workstreamId) ?? {} }] });
      }
    });
    refresh();
  });

  upsertMemo({ sparky: { plan: plan.name, version: plan.version, phases: plan.phases.map((p) => p.id), counts: status.counts } });
  refresh();

  const runCtx = {
    runWorkflowId, parentWorkflowId: runWorkflowId, planName: plan.name, defaults: plan.defaults ?? {}, pools: plan.pools ?? {},
    env: plan.env ?? {}, baseDir: plan.baseDir, cpuTaskQueue,
  };
  const phaseDeps: PhaseDeps = {
    plan, options, run: runCtx, index, relay, active, dependents, paused: () => paused, onChange: refresh,
  };

  try {
    for (const [i, phase] of plan.phases.entries()) {
      await condition(() => !paused); // a paused run starts no new phase
      status.currentPhase = phase.id;
      await runPhase(phase, status.phases[i], phaseDeps);
      const phaseStatus = status.phases[i];
      if (phase.gate && phaseStatus.gate) {
        phaseStatus.state = 'gate';
        await condition(() => !paused);
        await runGate(phase.gate, phaseStatus.gate, {
          cpuTaskQueue, outputs: index.outputs, onChange: refresh,
          checkCtx: { runWorkflowId, planName: plan.name, phaseId: phase.id },
        });
      }
      phaseStatus.state = 'succeeded';
      phaseStatus.finishedAt = now();
      refresh();
    }
  } catch (err) {
    const cancelled = isCancellation(err);
    status.error = cancelled ? 'cancelled' : errorMessage(err);
    for (const p of status.phases) if (p.state === 'running' || p.state === 'gate') p.state = cancelled ? 'cancelled' : 'failed';
    let report: CompensationReport | undefined;
    if (status.onFailure === 'compensate' && saga.size > 0) {
      base = 'compensating';
      refresh();
      report = await CancellationScope.nonCancellable(() => saga.compensate(runCtx, index.outputs, status.compensations, refresh));
    }
    base = cancelled ? 'cancelled' : 'failed';
    status.finishedAt = now();
    const summary = failureSummary(status.error, report, status.onFailure, saga.size, runWorkflowId);
    status.error = summary;
    refresh();
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(summary, 'SparkyRunFailed', { error: errorMessage(err), compensation: report ?? null });
  }
  base = 'completed';
  status.finishedAt = now();
  refresh();
  await condition(allHandlersFinished);
  return {
    runWorkflowId, plan: plan.name, state: 'completed', phases: plan.phases.map((p) => p.id),
    gates: status.phases.flatMap((p) => (p.gate ? [{ id: p.gate.id, state: p.gate.state, approvals: p.gate.approvals }] : [])),
    workstreams: status.counts.finishedWorkstreams,
    skippedSteps: status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
      w.steps.filter((s) => s.state === 'skipped').map((s) => `${w.id}.${s.id}: ${s.skippedReason ?? ''}`)))),
  };
}

/** First line: what failed; then what was undone; then the original error in full (step output tails). */
function failureSummary(error: string, report: CompensationReport | undefined, onFailure: string, sagaSize: number, id: string): string {
  const [headline, ...rest] = error.split('\n');
  const parts = [`run ${id} failed: ${headline}`];
  if (onFailure === 'halt') parts.push(`onFailure halt: no compensation ran (${sagaSize} finished step(s) with a compensation left as they are)`);
  else if (!report) parts.push('nothing to compensate');
  else {
    parts.push(`compensated (newest first): ${report.compensated.join(', ') || 'none'}`);
    if (report.skipped.length) parts.push(`compensations skipped: ${report.skipped.join(', ')}`);
    if (report.failed.length) parts.push(`compensations FAILED: ${report.failed.map((f) => `${f.of} (${f.error.split('\n')[0]})`).join('; ')}`);
  }
  if (rest.length) parts.push(`\n${error}`);
  return parts.join('\n');
}
