// metaOrchestrator: one per run. Validates its own input, runs the phases in order (each phase: one
// domainOrchestrator child per domain in parallel, then the phase gate), keeps the whole run's
// status, outputs and saga. A run lives through real life: a step that fails for good waits in
// attention for retryStep/skipStep, failed gate checks wait for recheckGate, a rejection reworks the
// named workstreams (undoing only theirs), revisePlan corrects the plan of a waiting run, and only
// abort (or cancellation) ends it early, undoing everything as onAbort says.
// Design and the reasons behind it: docs/orchestration.md.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, setHandler, upsertMemo, workflowInfo,
} from '@temporalio/workflow';
import { domainWorkflowId } from '../common/ids.ts';
import { CPU_TASK_QUEUE } from '../common/task-queues.ts';
import type { Plan } from '../plan/schema.ts';
import { Decisions } from './decisions.ts';
import { errorMessage } from './errors.ts';
import { GateKeeper, resetGate, runGate, type GateOutcome } from './gate.ts';
import { mergePhase, publishPhase, removeRunGit, startPhaseGit } from './git-flow.ts';
import {
  abortSignal, approveGateSignal, decideGateUpdate, dependencyFinishedSignal, domainProgressSignal, pauseSignal, recheckGateSignal,
  rejectGateSignal, resolveUpdate, resumeSignal, retryStepSignal, reviseDomainSignal, revisePlanUpdate, skipStepSignal, statusQuery,
  stepDecisionSignal, type DecideGateInput, type ResolveInput, type ResolveResult, type RevisePlanInput, type RevisePlanResult,
} from './messages.ts';
import { ParkedChildren } from './parked.ts';
import { runPhase, type PhaseDeps, type Rerun } from './phase.ts';
import { Notifier } from './notifier.ts';
import { Relay } from './relay.ts';
import { RunSigning, signersRefusal } from './signing.ts';
import { approverNames } from '../common/approvers.ts';
import { checkRevision, revisedDomain } from './revise.ts';
import { runState, runText, TERMINAL } from './run-text.ts';
import { Saga, type CompensationReport } from './saga.ts';
import { StatusIndex } from './status-index.ts';
import { initialStatus, now, phaseStatus, recount, type RunState } from './status.ts';
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
  /** The plan revision the run finished under (0: as started). */
  revision: number;
}

/** A refusal: the caller's input can never succeed as it is (the `temporal` CLI shows it as not retryable). */
function refuse(why: string): never {
  throw ApplicationFailure.nonRetryable(why, 'SparkyRefused');
}

export async function metaOrchestrator(input: MetaInput): Promise<MetaResult> {
  const validated = validateRunInput(input);
  let plan: Plan = validated.plan;
  const { options } = validated;
  const runWorkflowId = workflowInfo().workflowId; // `sparky-<plan>-<run>` from Sparky; anything when started by hand
  const cpuTaskQueue = options.cpuTaskQueue ?? CPU_TASK_QUEUE;
  const childId = (p: string, d: string) => domainWorkflowId(runWorkflowId, p, d);
  const status = initialStatus(plan, runWorkflowId, childId);
  const signing = new RunSigning(plan, runWorkflowId, options.startedBy);
  status.planDigest = signing.planDigest;
  if (signing.starter) status.startedBy = signing.starter;
  const notifier = new Notifier(() => plan, status, cpuTaskQueue, () => refresh());
  let lastState = status.state;
  const saga = new Saga();
  const index = new StatusIndex(status, saga);
  const relay = new Relay();
  const visibility = new Visibility(options.searchAttributes !== false);
  const active = new Set<string>();
  const dependents = new Map<string, string[]>();
  const skipped: Record<string, string> = {};
  const work = new CancellationScope(); // abort cancels it: running steps stop, then onAbort applies
  let paused = false;
  let base: RunState = 'running';

  const refresh = () => {
    status.paused = paused;
    status.state = runState(status, base, paused);
    status.waitingFor = runText(status, { runWorkflowId, sagaSize: saga.size });
    const gate = status.phases.find((p) => p.gate?.state === 'waiting' || p.gate?.state === 'checks-failed' || p.gate?.state === 'merge-conflict')?.gate;
    visibility.update({ plan: plan.name, phase: status.currentPhase ?? '', gate: gate && !TERMINAL.includes(status.state) ? gate.id : '', state: status.state,
      gatesPassed: status.phases.flatMap((p) => (p.gate?.state === 'approved' || p.gate?.state === 'merge-conflict' ? [p.gate.id] : [])) });
    visibility.setDetails(status.waitingFor);
    if (status.state === 'attention' && lastState !== 'attention') void notifier.run('attention');
    lastState = status.state;
  };

  const runCtx: PhaseDeps['run'] = {
    runWorkflowId, parentWorkflowId: runWorkflowId, planName: plan.name, defaults: plan.defaults ?? {}, pools: plan.pools ?? {},
    env: plan.env ?? {}, baseDir: plan.baseDir, cpuTaskQueue,
  };
  const phaseDeps: PhaseDeps = {
    plan, options, run: runCtx, index, relay, active, dependents, paused: () => paused, onChange: refresh,
    onFailure: status.onFailure, revision: 0, skipped, parked: new ParkedChildren(childId),
  };

  const gates = new GateKeeper(status, refresh, signing, notifier);
  const decisions = new Decisions(status, index, gates);

  // ── gates ──
  const gateSignal = (decision: Partial<DecideGateInput>) => {
    const why = gates.refusal(decision);
    if (why) gates.ignore(decision, 'signal', why);
    else gates.decide(decision as DecideGateInput, 'signal');
  };
  setHandler(statusQuery, () => status, { description: 'phases, domains, workstreams, steps, gates (checks, votes, audit), attention, decisions, revisions, compensations' });
  const signedFields = (msg: { signature?: string; signedAt?: string } | undefined) =>
    (msg?.signature !== undefined || msg?.signedAt !== undefined ? { signature: msg?.signature, signedAt: msg?.signedAt } : {});
  setHandler(approveGateSignal, (msg) => gateSignal({ gate: msg?.gate, approver: msg?.approver, comment: msg?.comment, decision: 'approve', ...signedFields(msg) }),
    { description: '{gate, approver, comment?}: one approval (refusals are kept in the audit as ignored)' });
  setHandler(rejectGateSignal, (msg) => gateSignal({ gate: msg?.gate, approver: msg?.approver, comment: msg?.reason, decision: 'reject', rework: msg?.rework, ...signedFields(msg) }),
    { description: '{gate, approver, reason, rework?: [workstream…]}: reject; the named workstreams (default: the whole phase) are undone and redone' });
  setHandler(decideGateUpdate, (msg) => gates.decide(msg as DecideGateInput, 'update'), {
    description: '{gate, approver, decision: approve|reject, comment?, rework?}: answers with the gate; refuses what cannot count',
    validator: (msg) => {
      const why = gates.refusal(msg);
      if (why) refuse(why);
    },
  });

  // ── fix and continue ──
  const apply = (msg: ResolveInput, surface: 'signal' | 'update'): ResolveResult => {
    const by = msg.by.trim();
    switch (msg.action) {
      case 'abort': {
        status.aborted = { by, reason: msg.comment ?? '', at: now() };
        decisions.record({ surface, action: 'abort', by, comment: msg.comment });
        work.cancel();
        refresh();
        return { action: msg.action, accepted: `aborting ${runWorkflowId} (onAbort ${status.onAbort})` };
      }
      case 'recheckGate': {
        decisions.record({ surface, action: 'recheckGate', by, gate: msg.gate, comment: msg.comment });
        gates.recheck(msg.gate as string, by, msg.comment);
        return { action: msg.action, accepted: `the checks of ${msg.gate} run again` };
      }
      default: {
        const t = decisions.target(msg.step as string);
        const step = `${t.ws.id}/${t.stepId}`;
        const retry = msg.action === 'retryStep';
        decisions.record({ surface, action: msg.action, by, step, comment: msg.comment });
        relay.send(t.phaseId, [t.childId], stepDecisionSignal,
          { workstream: t.ws.id, step: t.stepId, action: retry ? 'retry' : 'skip', by, reason: msg.comment });
        if (!retry) {
          skipped[`${t.ws.id}.${t.stepId}`] = `skipped by ${by}: ${msg.comment}`;
          const s = t.ws.steps.find((x) => x.id === t.stepId);
          if (s) Object.assign(s, { state: 'skipped', skippedReason: `skipped by ${by}: ${msg.comment}`, finishedAt: now() });
        }
        // Until the child reports it running again, the workstream is no longer in attention: a second retry is refused.
        t.ws.state = 'pending';
        t.ws.attention = undefined;
        refresh();
        return { action: msg.action, accepted: `${retry ? 'retrying' : 'skipping'} ${step}` };
      }
    }
  };
  const decisionSignal = (action: ResolveInput['action'], msg: Record<string, unknown> | undefined, comment?: unknown) => {
    const decision = { action, step: msg?.step, gate: msg?.gate, by: msg?.by, comment: comment ?? msg?.comment } as Partial<ResolveInput>;
    const why = decisions.refusal(decision);
    if (why) { decisions.ignore(action, msg, why); refresh(); return; }
    apply(decision as ResolveInput, 'signal');
  };
  setHandler(retryStepSignal, (msg) => decisionSignal('retryStep', msg as Record<string, unknown> | undefined),
    { description: '{step: "<workstream>/<step>", by, comment?}: run a step in attention again (outputs of finished steps are kept)' });
  setHandler(skipStepSignal, (msg) => decisionSignal('skipStep', msg as Record<string, unknown> | undefined, msg?.reason),
    { description: '{step, by, reason}: skip a step in attention; its workstream goes on with the next step' });
  setHandler(recheckGateSignal, (msg) => decisionSignal('recheckGate', msg as Record<string, unknown> | undefined),
    { description: '{gate, by}: run a gate\'s failed checks again after a fix' });
  setHandler(abortSignal, (msg) => decisionSignal('abort', msg as Record<string, unknown> | undefined, msg?.reason),
    { description: '{by, reason}: end the run; onAbort says whether finished steps are undone' });
  setHandler(resolveUpdate, (msg) => apply(msg, 'update'), {
    description: '{action: retryStep|skipStep|recheckGate|abort, step?, gate?, by, comment?}: answers at once; refuses what cannot apply',
    validator: (msg) => {
      const why = decisions.refusal(msg);
      if (why) refuse(why);
    },
  });

  // ── plan revisions ──
  let pendingRevision: { plan: Plan; changes: string[] } | undefined;
  const revisionRefusal = (msg: RevisePlanInput | undefined): string | undefined => {
    pendingRevision = undefined;
    if (msg === null || typeof msg !== 'object') return 'no input: expected {"plan": {...}, "by": "..."}';
    if (typeof msg.by !== 'string' || msg.by.trim() === '') return 'missing "by": who revises the plan (kept in the audit)';
    if (TERMINAL.includes(status.state) || status.state === 'compensating') return `the run is ${status.state}: it takes no revision`;
    if (!['attention', 'waiting', 'paused'].includes(status.state)) {
      return `the run is ${status.state}: a revision is taken while the run waits (attention, at a gate, or paused); pause it first`;
    }
    let next: Plan;
    try {
      next = validateRunInput({ plan: msg.plan }).plan;
    } catch (err) {
      return `the revised plan is not valid: ${(err as Error).message}`;
    }
    const unsigned = signersRefusal(next);
    if (unsigned) return `the revised plan is not valid: ${unsigned}`;
    const check = checkRevision(plan, next, status);
    if (check.problems.length) return `revision refused (${check.problems.length} reason${check.problems.length === 1 ? '' : 's'}):\n  ${check.problems.join('\n  ')}`;
    if (check.changes.length === 0) return 'the revised plan is the same as the plan in force: nothing to change';
    pendingRevision = { plan: next, changes: check.changes };
    return undefined;
  };
  setHandler(revisePlanUpdate, (msg): RevisePlanResult => {
    // The validator ran in this same workflow task (or, on replay, the update was accepted): recompute if needed.
    if (!pendingRevision) revisionRefusal(msg);
    const { plan: next, changes } = pendingRevision as { plan: Plan; changes: string[] };
    pendingRevision = undefined;
    applyRevision(next, changes, msg.by.trim(), msg.comment);
    return { revision: status.revision, changes };
  }, {
    description: '{plan, by, comment?}: take a corrected plan; refuses changes to what already ran, with every reason',
    validator: (msg) => {
      const why = revisionRefusal(msg);
      if (why) refuse(why);
    },
  });

  const applyRevision = (next: Plan, changes: string[], by: string, comment?: string) => {
    const before = plan;
    plan = next;
    signing.revised(next);
    status.planDigest = signing.planDigest;
    status.revision += 1;
    status.revisions.push({ revision: status.revision, at: now(), by, ...(comment ? { comment } : {}), changes });
    decisions.record({ surface: 'update', action: 'revisePlan', by, comment, revision: status.revision });
    status.onFailure = next.onFailure ?? 'ask';
    status.onAbort = next.onAbort ?? 'compensate';
    Object.assign(runCtx, { defaults: next.defaults ?? {}, pools: next.pools ?? {}, env: next.env ?? {} });
    next.phases.forEach((phase, i) => {
      const ps = status.phases[i];
      if (ps.state === 'pending') { status.phases[i] = phaseStatus(phase, childId); return; }
      if (ps.state === 'succeeded') return;
      // The running phase: step lists of unfinished workstreams follow the revision.
      phase.domains.forEach((domain, d) => domain.workstreams.forEach((ws, w) => {
        const st = ps.domains[d].workstreams[w];
        st.steps = ws.steps.map((step, k) => {
          const old = st.steps[k];
          return old && old.id === before.phases[i].domains[d].workstreams[w].steps[k]?.id && old.state !== 'pending' && old.id === step.id
            ? old : { id: step.id, kind: step.kind, state: 'pending' as const };
        });
        if (st.attention) {
          const at = before.phases[i].domains[d].workstreams[w].steps.findIndex((s) => s.id === st.attention?.step);
          const id = ws.steps[at]?.id;
          if (id) st.attention = { ...st.attention, step: id };
        }
      }));
      if (phase.gate && ps.gate && !['approved', 'rejected'].includes(ps.gate.state) && !ps.gate.escalated) {
        ps.gate.approvers = approverNames(phase.gate.approval?.approvers);
        ps.gate.signedApprovers = ps.gate.state === 'waiting' ? signing.signedApprovers(ps.gate) : ps.gate.signedApprovers;
        ps.gate.required = phase.gate.approval?.required ?? 1;
        ps.gate.approvals = ps.gate.approvals.filter((a) => ps.gate?.approvers.includes(a));
      }
      for (const domain of phase.domains) {
        const id = childId(phase.id, domain.id);
        if (active.has(id)) {
          relay.send(phase.id, [id], reviseDomainSignal,
            { domain: revisedDomain(next, phase.id, domain.id) ?? domain, revision: status.revision, run: { defaults: runCtx.defaults, pools: runCtx.pools, env: runCtx.env } });
        }
      }
    });
    index.rebuild();
    recount(status);
    phaseDeps.plan = next;
    phaseDeps.onFailure = status.onFailure;
    phaseDeps.revision = status.revision;
    refresh();
  };

  // ── pause, progress ──
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

  /** A rejection: undo and reopen the named workstreams and their same-phase dependents; the gate starts over. */
  const rework = async (i: number, outcome: Extract<GateOutcome, { approved: false }>): Promise<Rerun> => {
    const ps = status.phases[i];
    const def = plan.phases[i];
    const all = def.domains.flatMap((d) => d.workstreams);
    const named = new Set(outcome.rework?.length ? outcome.rework : all.map((w) => w.id));
    const reopened = new Set(named);
    for (let grew = true; grew;) { // same-phase dependents, transitively
      grew = false;
      for (const ws of all) {
        if (!reopened.has(ws.id) && (ws.dependsOn ?? []).some((d) => reopened.has(d))) { reopened.add(ws.id); grew = true; }
      }
    }
    // Only the roots of the reopened work wait for a person: a workstream that depends on another reopened
    // one reruns by itself once that one is done (rejecting a whole phase needs one retry per root).
    const waits = new Set([...named].filter((id) => !(all.find((w) => w.id === id)?.dependsOn ?? []).some((d) => reopened.has(d))));
    const reason = `rework requested by ${outcome.by}${outcome.reason ? `: ${outcome.reason}` : ''}`;
    await saga.compensate(runCtx, index.outputs, status.compensations, refresh, (e) => e.phaseId === def.id && reopened.has(e.workstreamId));
    const held: Rerun['held'] = {};
    for (const ws of all) {
      if (!reopened.has(ws.id)) continue;
      const st = index.workstream(ws.id);
      if (!st) continue;
      index.forgetOutputs(ws.id);
      for (const s of ws.steps) delete skipped[`${ws.id}.${s.id}`];
      Object.assign(st, {
        state: waits.has(ws.id) ? 'attention' : 'pending', reworks: (st.reworks ?? 0) + 1,
        startedAt: undefined, finishedAt: undefined, error: undefined, attention: undefined,
        steps: ws.steps.map((s) => ({ id: s.id, kind: s.kind, state: 'pending' as const })),
      });
      if (waits.has(ws.id)) held[ws.id] = st.attention = { step: ws.steps[0].id, cause: 'rework', reason, since: now() };
    }
    if (ps.gate && def.gate) resetGate(ps.gate, def.gate);
    ps.state = 'running';
    recount(status);
    refresh();
    return { done: new Set(all.filter((w) => !reopened.has(w.id)).map((w) => w.id)), held };
  };

  try {
    await work.run(async () => {
      for (let i = 0; i < plan.phases.length; i += 1) {
        await condition(() => !paused); // a paused run starts no new phase
        status.currentPhase = plan.phases[i].id;
        await startPhaseGit(plan, plan.phases[i], status.phases[i], runCtx, refresh);
        let rerun: Rerun | undefined;
        for (;;) {
          await runPhase(plan.phases[i], status.phases[i], phaseDeps, rerun);
          await publishPhase(plan, plan.phases[i], status.phases[i], runCtx, refresh);
          const phaseStatus = status.phases[i];
          if (!plan.phases[i].gate || !phaseStatus.gate) break;
          if (i + 1 < plan.phases.length) phaseDeps.parked.park(plan.phases[i + 1]); // the approval then starts no workflow
          phaseStatus.state = 'gate';
          await condition(() => !paused);
          const outcome = await runGate(phaseStatus.gate, {
            cpuTaskQueue, outputs: index.outputs, onChange: refresh, def: () => plan.phases[i].gate!,
            ask: status.onFailure === 'ask', rechecked: () => gates.rechecked(phaseStatus.gate!.id), signing, notifier,
            checkCtx: { runWorkflowId, planName: plan.name, phaseId: plan.phases[i].id },
          });
          if (outcome.approved) break;
          rerun = await rework(i, outcome);
        }
        await mergePhase(plan, plan.phases[i], status.phases[i], runCtx,
          { ask: status.onFailure === 'ask', rechecked: (gateId) => gates.rechecked(gateId), onChange: refresh });
        status.phases[i].state = 'succeeded';
        status.phases[i].finishedAt = now();
        refresh();
      }
    });
  } catch (err) {
    phaseDeps.parked.standDown();
    const cancelled = isCancellation(err);
    const aborted = cancelled && status.aborted !== undefined;
    status.error = aborted ? `aborted by ${status.aborted?.by}: ${status.aborted?.reason}` : cancelled ? 'cancelled' : errorMessage(err);
    for (const p of status.phases) if (p.state === 'running' || p.state === 'gate') p.state = cancelled ? 'cancelled' : 'failed';
    const policy = cancelled ? `onAbort ${status.onAbort}` : `onFailure ${status.onFailure}`;
    const undo = cancelled ? status.onAbort === 'compensate' : status.onFailure === 'compensate';
    let report: CompensationReport | undefined;
    if (undo && saga.size > 0) {
      base = 'compensating';
      refresh();
      report = await CancellationScope.nonCancellable(() => saga.compensate(runCtx, index.outputs, status.compensations, refresh));
    }
    // The git flow's worktrees and branches of an undone run go too (merges into the base stay).
    const gitCleanup = undo ? await CancellationScope.nonCancellable(() => removeRunGit(plan, status, runCtx)) : undefined;
    await CancellationScope.nonCancellable(() => phaseDeps.parked.ended());
    base = aborted ? 'aborted' : cancelled ? 'cancelled' : 'failed';
    status.finishedAt = now();
    const summary = endSummary(base, status.error, undo ? report : undefined, policy, saga.size, runWorkflowId)
      + (gitCleanup ? `\n${gitCleanup}` : '');
    status.error = summary;
    refresh();
    await CancellationScope.nonCancellable(() => notifier.run('finished'));
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
    if (aborted) throw ApplicationFailure.nonRetryable(summary, 'SparkyRunAborted', { aborted: status.aborted, compensation: report ?? null });
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(summary, 'SparkyRunFailed', { error: errorMessage(err), compensation: report ?? null });
  }
  base = 'completed';
  status.finishedAt = now();
  refresh();
  await notifier.run('finished');
  await condition(allHandlersFinished);
  return {
    runWorkflowId, plan: plan.name, state: 'completed', phases: plan.phases.map((p) => p.id), revision: status.revision,
    gates: status.phases.flatMap((p) => (p.gate ? [{ id: p.gate.id, state: p.gate.state, approvals: p.gate.approvals }] : [])),
    workstreams: status.counts.finishedWorkstreams,
    skippedSteps: status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) =>
      w.steps.filter((s) => s.state === 'skipped').map((s) => `${w.id}.${s.id}: ${s.skippedReason ?? ''}`)))),
  };
}

/** First line: how the run ended and why; then what was undone; then the original error in full (step output tails). */
function endSummary(end: RunState, error: string, report: CompensationReport | undefined, policy: string, sagaSize: number, id: string): string {
  const [headline, ...rest] = error.split('\n');
  const parts = [end === 'aborted' ? `run ${id} ${headline}` : end === 'cancelled' ? `run ${id} cancelled` : `run ${id} failed: ${headline}`];
  if (!report) {
    parts.push(sagaSize === 0 ? 'nothing to compensate' : `${policy}: no compensation ran (${sagaSize} finished step(s) with a compensation left as they are)`);
  } else {
    parts.push(`compensated (newest first): ${report.compensated.join(', ') || 'none'}`);
    if (report.skipped.length) parts.push(`compensations skipped: ${report.skipped.join(', ')}`);
    if (report.failed.length) parts.push(`compensations FAILED: ${report.failed.map((f) => `${f.of} (${f.error.split('\n')[0]})`).join('; ')}`);
  }
  if (rest.length) parts.push(`\n${error}`);
  return parts.join('\n');
}
