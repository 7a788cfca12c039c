// metaOrchestrator: one per run. Validates its own input, runs the phases in order (each phase: one
// domainOrchestrator child per domain in parallel, then the phase gate), keeps the whole run's
// status, outputs and saga. A run lives through real life: a step that fails for good waits in
// attention for retryStep/skipStep, failed gate checks wait for recheckGate, a rejection reworks the
// named workstreams (undoing only theirs), revisePlan corrects the plan of a waiting run, and only
// abort (or cancellation) ends it early, undoing everything as onAbort says. Re-runs: cached steps
// (workflows/cache.ts), a subset of the workstreams (options.only/from, plan/subset.ts) and dry runs
// (options.dryRun, workflows/dry-run.ts). Design and the reasons behind it: docs/orchestration.md.
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, isCancellation, patched, proxyActivities, setHandler, upsertMemo, workflowInfo,
} from '@temporalio/workflow';
import { planRefOf, type PlanActivities } from '../common/plan-ref.ts';
import { domainWorkflowId } from '../common/ids.ts';
import { CPU_TASK_QUEUE } from '../common/task-queues.ts';
import type { Plan } from '../plan/schema.ts';
import { DecisionLog } from './decisions/log.ts';
import { gateVote, voteFromSignal } from './decisions/gate-vote.ts';
import { DecisionPipeline } from './decisions/pipeline.ts';
import { fromSignal, resolveKind } from './decisions/resolve.ts';
import { revisePlan } from './decisions/revision.ts';
import { reworkGate } from './decisions/rework.ts';
import { abortRun, recheckGate } from './decisions/run-actions.ts';
import { answerQuestion } from './decisions/answer.ts';
import { Questions } from './questions.ts';
import { domainSpendInput } from './spend.ts';
import { stepAction } from './decisions/step-actions.ts';
import { errorMessage } from './errors.ts';
import { GateKeeper, runGate } from './gate.ts';
import { mergePhase, publishPhase, removeRunGit, startPhaseGit } from './git-flow.ts';
import {
  abortSignal, answerQuestionSignal, approveGateSignal, budgetSpendSignal, decideGateUpdate, dependencyFinishedSignal, domainProgressSignal, pauseSignal, planQuery, recheckGateSignal,
  rejectGateSignal, resolveUpdate, resumeSignal, retryStepSignal, revisePlanUpdate, reworkGateSignal, skipStepSignal, statusQuery,
  type ResolveAction,
} from './messages.ts';
import { ParkedChildren } from './parked.ts';
import { runPhase, type PhaseDeps, type Rerun } from './phase.ts';
import { Notifier } from './notifier.ts';
import { Relay } from './relay.ts';
import { reworkPhase } from './rework.ts';
import { RunSigning } from './signing.ts';
import { runState, runText, TERMINAL } from './run-text.ts';
import { Saga, type CompensationReport } from './saga.ts';
import { StatusIndex } from './status-index.ts';
import { initialStatus, now, planBudgets, type RunState, type RunStatus } from './status.ts';
import { validateRunInput, type MetaInput } from './validate-input.ts';
import { Visibility } from './visibility.ts';
import { planUsesCache } from '../plan/cache-key.ts';
import { entersPhase, gateSubset, phaseSubset, selectWorkstreams } from '../plan/subset.ts';
import { workstreamFingerprints } from './cache.ts';
import { dryRun, dryRunText, type DryRunReport } from './dry-run.ts';
import { markExcluded } from './subset-status.ts';
import { count } from '../common/plural.ts';

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
  /** options.dryRun: what each step would do; nothing ran. */
  dryRun?: DryRunReport;
}

export async function metaOrchestrator(input: MetaInput): Promise<MetaResult> {
  // A plan committed in a repository (a schedule's `--committed` plan): read as committed now.
  const committed = await committedPlan(input);
  const validated = validateRunInput(committed ? { plan: committed.plan, options: input.options } : input,
    { gitPaths: () => patched('sparky-git-paths') }); // a rule older runs did not have
  let plan: Plan = validated.plan;
  const { options } = validated;
  const runWorkflowId = workflowInfo().workflowId; // `sparky-<plan>-<run>` from Sparky; anything when started by hand
  const cpuTaskQueue = options.cpuTaskQueue ?? CPU_TASK_QUEUE;
  const childId = (p: string, d: string) => domainWorkflowId(runWorkflowId, p, d);
  const status = initialStatus(plan, runWorkflowId, childId);
  if (committed) status.planSource = committed.source;
  const signing = new RunSigning(plan, runWorkflowId, options.startedBy, { dryRun: options.dryRun === true });
  status.planDigest = signing.planDigest;
  if (signing.starter) status.startedBy = signing.starter;
  const notifier = new Notifier(() => plan, status, cpuTaskQueue, () => refresh());
  let lastState = status.state;
  let announced = false; // a question's own notification went out: no second, generic one for the same change
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
  let usesCache = planUsesCache(plan); // only then do fingerprints travel (runs of plans without a cached step stay as they were)
  const selection = selectWorkstreams(plan, options);
  const noCache = options.noCache === true ? true as const
    : [...new Set([...(Array.isArray(options.noCache) ? options.noCache : []), ...(selection?.forced ?? [])])];
  if (selection) { status.subset = selection.summary; markExcluded(status, selection); }
  if (noCache === true || noCache.length > 0) status.noCache = noCache;

  const refresh = () => {
    status.paused = paused;
    status.state = runState(status, base, paused);
    status.waitingFor = runText(status, { runWorkflowId, sagaSize: saga.size });
    const gate = status.phases.find((p) => p.gate?.state === 'waiting' || p.gate?.state === 'checks-failed' || p.gate?.state === 'merge-conflict')?.gate;
    visibility.update({ plan: plan.name, phase: status.currentPhase ?? '', gate: gate && !TERMINAL.includes(status.state) ? gate.id : '', state: status.state,
      gatesPassed: status.phases.flatMap((p) => (p.gate?.state === 'approved' || p.gate?.state === 'merge-conflict' ? [p.gate.id] : [])) });
    visibility.setDetails(status.waitingFor);
    if (status.state === 'attention' && lastState !== 'attention' && !announced) void notifier.run('attention');
    announced = false;
    lastState = status.state;
  };

  const runCtx: PhaseDeps['run'] = {
    runWorkflowId, parentWorkflowId: runWorkflowId, planName: plan.name, defaults: plan.defaults ?? {}, pools: plan.pools ?? {},
    env: plan.env ?? {}, baseDir: plan.baseDir, cpuTaskQueue,
  };
  const phaseDeps: PhaseDeps = {
    plan, options, run: runCtx, index, relay, active, dependents, paused: () => paused, onChange: refresh,
    onFailure: status.onFailure, revision: 0, skipped, parked: new ParkedChildren(childId),
    ...((noCache === true || noCache.length > 0) && { noCache }),
  };

  // ── decisions: every vote, retry, skip, recheck, rework, abort and revision through one pipeline ──
  const gates = new GateKeeper(status, refresh);
  const log = new DecisionLog(status);
  const pipeline = new DecisionPipeline(refresh);
  const vote = gateVote({ status, gates, signing, notifier, onChange: refresh });
  const kinds = {
    retryStep: stepAction({ status, index, relay, log, skipped }, 'retryStep'),
    skipStep: stepAction({ status, index, relay, log, skipped }, 'skipStep'),
    recheckGate: recheckGate({ status, log, gates }),
    abort: abortRun({ status, log, work, onAbort: () => `onAbort ${status.onAbort}` }),
    rework: reworkGate({ status, log, gates, signing }),
    answer: answerQuestion({ status, index, relay, log }),
  };
  const questions = new Questions(index, notifier, () => refresh());
  const runCtxBudgeted = () => plan.budget !== undefined || plan.phases.some((p) => p.budget !== undefined);
  const revision = revisePlan({
    status, plan: () => plan, signing, gates, notifier, log, index, relay, active, childId,
    adopt: (next) => {
      plan = next;
      status.budgets = planBudgets(next);
      Object.assign(runCtx, { defaults: next.defaults ?? {}, pools: next.pools ?? {}, env: next.env ?? {} });
      phaseDeps.plan = next;
      phaseDeps.onFailure = status.onFailure;
      phaseDeps.revision = status.revision;
      usesCache = planUsesCache(next);
    },
  });
  setHandler(statusQuery, () => status, { description: 'phases, domains, workstreams, steps, gates (checks, votes, audit), attention, decisions, revisions, compensations' });
  setHandler(planQuery, () => ({ plan, planDigest: signing.planDigest, revision: status.revision }), { description: 'the plan in force (after revisions), its digest and revision number' });
  pipeline.onSignal(approveGateSignal, vote, '{gate, approver, comment?, signature?, signedAt?}: one approval (refusals are kept in the audit as ignored)',
    (msg) => voteFromSignal('approveGate', msg as Record<string, unknown> | undefined));
  pipeline.onSignal(rejectGateSignal, vote, '{gate, approver, reason, rework?: [workstream…], signature?, signedAt?}: reject; the named workstreams (default: the whole phase) are undone and wait for a retry',
    (msg) => voteFromSignal('rejectGate', msg as Record<string, unknown> | undefined));
  pipeline.onUpdate(decideGateUpdate, vote, '{gate, approver, decision: approve|reject, comment?, rework?, signature?, signedAt?}: answers with the gate; refuses what cannot count');
  const operator = (action: ResolveAction) => (msg: unknown) => fromSignal(action, msg as Record<string, unknown> | undefined);
  pipeline.onSignal(retryStepSignal, kinds.retryStep, '{step: "<workstream>/<step>", by, comment?}: run a step in attention again (outputs of finished steps are kept)', operator('retryStep'));
  pipeline.onSignal(skipStepSignal, kinds.skipStep, '{step, by, reason}: skip a step in attention; its workstream goes on with the next step', operator('skipStep'));
  pipeline.onSignal(recheckGateSignal, kinds.recheckGate, '{gate, by}: run a gate\'s failed checks again after a fix', operator('recheckGate'));
  pipeline.onSignal(abortSignal, kinds.abort, '{by, reason}: end the run; onAbort says whether finished steps are undone', operator('abort'));
  pipeline.onSignal(reworkGateSignal, kinds.rework, '{gate, by, reason, rework: [workstream…]}: send finished workstreams of a gate\'s phase back (checks failed, or the gate waits)', operator('rework'));
  pipeline.onSignal(answerQuestionSignal, kinds.answer, '{step: "<workstream>/<step>", by, answer}: answer the question an agent step stopped at; its session resumes with the answer', operator('answer'));
  pipeline.onUpdate(resolveUpdate, resolveKind(kinds), '{action: retryStep|skipStep|recheckGate|abort|rework|answer, step?, gate?, by, comment?, rework?, answer?}: answers at once; refuses what cannot apply');
  pipeline.onUpdate(revisePlanUpdate, revision, '{plan, by, comment?, signedAt?, signatures?}: take a corrected plan; refuses changes to what already ran, and unsigned changes to approvals, keys, git, notify or baseDir, with every reason');

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
        relay.send(msg.phaseId, waiting.filter((id) => active.has(id)), dependencyFinishedSignal, { workstreams: [{
          id: workstreamId, outputs: index.byWorkstream.get(workstreamId) ?? {},
          ...(usesCache && { fingerprints: workstreamFingerprints(index.fingerprints, workstreamId) }),
        }] });
      }
    }, (ws) => { if (questions.asked(ws)) announced = true; });
    refresh();
    questions.announce();
    // Phase and run budgets: the phase's other children learn what was spent outside them.
    if (runCtxBudgeted() && msg.events.some((e) => e.type === 'step' && e.step.spend)) {
      for (const d of plan.phases.find((p) => p.id === msg.phaseId)?.domains ?? []) {
        const id = childId(msg.phaseId, d.id);
        if (d.id === msg.domainId || !active.has(id)) continue;
        const spent = domainSpendInput(index, msg.phaseId, d.id);
        if (spent) relay.send(msg.phaseId, [id], budgetSpendSignal, { phase: spent.phase, run: spent.run });
      }
    }
  });

  upsertMemo({ sparky: { plan: plan.name, version: plan.version, phases: plan.phases.map((p) => p.id), counts: status.counts } });
  refresh();

  if (options.dryRun) {
    // Nothing starts: each step's worker says what it would do; the result is the report.
    const report = await dryRun({ plan, run: runCtx, selection, ...((noCache === true || noCache.length > 0) && { noCache }) });
    base = 'completed';
    status.finishedAt = now();
    refresh();
    status.waitingFor = dryRunText(report);
    visibility.setDetails(status.waitingFor);
    await condition(allHandlersFinished);
    return { runWorkflowId, plan: plan.name, state: 'completed', phases: [], gates: [], workstreams: 0, skippedSteps: [], revision: 0, dryRun: report };
  }

  try {
    await work.run(async () => {
      for (let i = 0; i < plan.phases.length; i += 1) {
        if (!entersPhase(plan.phases[i], selection)) { skipPhase(status.phases[i], selection?.summary); refresh(); continue; }
        await condition(() => !paused); // a paused run starts no new phase
        status.currentPhase = plan.phases[i].id;
        await startPhaseGit(plan, selection ? phaseSubset(plan.phases[i], selection) : plan.phases[i], status.phases[i], runCtx, refresh);
        // A subset run: the workstreams left out count as done (they are not run, and nothing here needs them).
        const leftOut = () => (selection ? plan.phases[i].domains.flatMap((d) => d.workstreams.filter((w) => selection.excluded.has(w.id)).map((w) => w.id)) : []);
        let rerun: Rerun | undefined = selection ? { done: new Set(leftOut()), held: {} } : undefined;
        for (;;) {
          await runPhase(plan.phases[i], status.phases[i], phaseDeps, rerun);
          await publishPhase(plan, plan.phases[i], status.phases[i], runCtx, refresh);
          const phaseStatus = status.phases[i];
          if (!plan.phases[i].gate || !phaseStatus.gate) break;
          if (i + 1 < plan.phases.length) phaseDeps.parked.park(plan.phases[i + 1]); // the approval then starts no workflow
          phaseStatus.state = 'gate';
          await condition(() => !paused);
          const outcome = await runGate(phaseStatus.gate, {
            cpuTaskQueue, outputs: index.outputs, onChange: refresh,
            def: () => {
              if (!selection) return plan.phases[i].gate!;
              const { gate, skipped: checks } = gateSubset(plan.phases[i].gate!, plan, selection);
              phaseStatus.gate!.skippedChecks = checks.length ? checks : undefined;
              return gate;
            },
            ask: status.onFailure === 'ask', keeper: gates, signing, notifier,
            checkCtx: { runWorkflowId, planName: plan.name, phaseId: plan.phases[i].id },
          });
          if (outcome.approved) break;
          rerun = await reworkPhase({ plan: () => plan, status, index, saga, runCtx, skipped, refresh }, i, outcome);
          for (const id of leftOut()) { rerun.done.add(id); delete rerun.held[id]; }
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

/** `{"planRef": …}` instead of a plan: the CPU worker reads the plan committed at the ref (activities/committed-plan.ts). */
async function committedPlan(input: MetaInput): Promise<{ plan: unknown; source: NonNullable<RunStatus['planSource']> } | undefined> {
  const ref = planRefOf(input);
  if (!ref) return undefined;
  if ('error' in ref) throw ApplicationFailure.nonRetryable(`invalid input: ${ref.error}`, 'SparkyInvalidPlan', { errors: [{ path: 'planRef', message: ref.error }] });
  const options = (input as { options?: { cpuTaskQueue?: unknown } }).options;
  const taskQueue = typeof options?.cpuTaskQueue === 'string' ? options.cpuTaskQueue : CPU_TASK_QUEUE;
  const { loadCommittedPlan } = proxyActivities<PlanActivities>({ taskQueue, startToCloseTimeout: '2m', retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['SparkyInvalidPlan'] } });
  const loaded = await loadCommittedPlan(ref);
  return { plan: loaded.plan, source: { repo: ref.repo, path: ref.path, ref: ref.ref ?? 'HEAD', commit: loaded.commit } };
}

/** A phase a subset run does not enter: its gate is not asked. */
function skipPhase(ps: RunStatus['phases'][number], why: string | undefined): void {
  ps.state = 'skipped';
  for (const d of ps.domains) d.state = 'skipped';
  if (ps.gate) { ps.gate.state = 'skipped'; ps.gate.skippedReason = `not asked: no workstream of phase ${ps.id} is in this run (${why ?? 'subset'})`; }
}

/** First line: how the run ended and why; then what was undone; then the original error in full (step output tails). */
function endSummary(end: RunState, error: string, report: CompensationReport | undefined, policy: string, sagaSize: number, id: string): string {
  const [headline, ...rest] = error.split('\n');
  const parts = [end === 'aborted' ? `run ${id} ${headline}` : end === 'cancelled' ? `run ${id} cancelled` : `run ${id} failed: ${headline}`];
  if (!report) {
    parts.push(sagaSize === 0 ? 'nothing to compensate' : `${policy}: no compensation ran (${count(sagaSize, 'finished step')} with a compensation left as they are)`);
  } else {
    parts.push(`compensated (newest first): ${report.compensated.join(', ') || 'none'}`);
    if (report.skipped.length) parts.push(`compensations skipped: ${report.skipped.join(', ')}`);
    if (report.failed.length) parts.push(`compensations FAILED: ${report.failed.map((f) => `${f.of} (${f.error.split('\n')[0]})`).join('; ')}`);
  }
  if (rest.length) parts.push(`\n${error}`);
  return parts.join('\n');
}
