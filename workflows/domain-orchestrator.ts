// domainOrchestrator: one child workflow per domain per phase. Runs the domain's workstreams in
// dependency order, at most `maxParallel` at once, each workstream's steps in order as activities.
// Dependencies on workstreams of other domains in the same phase are satisfied by the parent's
// `dependencyFinished` signal (see docs/orchestration.md). Every transition is reported to the parent.
// Big domains continue-as-new after `continueAsNewAfter` workstreams, carrying what is done.
// With `onFailure: ask` a step that fails for good puts its workstream in attention: the domain goes
// on with what does not depend on it and waits for the parent's `stepDecision` (retry or skip).
// A child started early (parked: the next phase's children start while the gate before it waits, so
// an approval does not wait for new workflows to start) runs nothing until `startDomain` brings its input.
// Agent steps are supervised here (workflows/supervision.ts): their spend, the budgets they run under,
// the attention causes `stalled`, `budget` and `question`, a person's answer. A workstream's steps stay on
// the host that holds its worktree (its host task queue, chosen at its first step and kept).
// Cached steps (plan/cache-key.ts) carry a cache request and report fingerprints (workflows/cache.ts).
import {
  allHandlersFinished, ApplicationFailure, CancellationScope, condition, continueAsNew, isCancellation, setHandler,
} from '@temporalio/workflow';
import type { AgentAnswer, StepRetry } from '../common/activity-types.ts';
import type { Spend } from '../common/agent-spend.ts';
import type { Domain, Step } from '../plan/schema.ts';
import {
  budgetSpendSignal, dependencyFinishedSignal, domainStatusQuery, haltDomainSignal, pauseSignal, resumeSignal, reviseDomainSignal, startDomainSignal,
  stepDecisionSignal,
} from './messages.ts';
import { gpuOfPinnedQueue, resolvePool, type QueueTarget } from './pools.ts';
import { Reporter } from './reporter.ts';
import type { RunContext } from './run-context.ts';
import { now, summariseOutputs, type Attention, type StepStatus } from './status.ts';
import { errorMessage } from './errors.ts';
import { commitStep, prepareWorktree } from './git-flow.ts';
import { stepInWorktree, type WorktreePlace } from '../common/git-flow.ts';
import { activityOptions, failedAttempts, runStepActivity, stepContext, substituteStep } from './steps.ts';
import { agentAttention, agentSupervision, claimHost, needsHost, spendOfFailure, spendOfResult } from './supervision.ts';
import { DomainCache, type DomainCacheInput } from './cache.ts';
import { workstreamKey } from '../plan/cache-key.ts';

export interface DomainCarry {
  /** Workstreams that finished (succeeded) in earlier runs of this child. */
  done: string[];
  externalDone: string[];
  /** stickyGpu: workstream → the pinned queue its first GPU step landed on. */
  pinned: Record<string, string>;
  runs: number;
  /** Workstreams waiting for a person, with the index of the step a retry runs again. */
  attention?: Record<string, { stepIndex: number; attention: Attention }>;
  /** Workstreams a person's decision released, with the index of the step they go on from. */
  resume?: Record<string, number>;
  /** `<workstream>.<step>` skipped by a person → who and why (for the error of a step that needs its outputs). */
  skipped?: Record<string, string>;
  /** `<workstream>/<step>` → attempts of a failed step so far and people's retries of it (attempt numbers continue). */
  tries?: Record<string, StepTries>;
  /** Workstreams a gate's rejection sent back: the reviewer's words, for their agent steps. */
  rework?: Record<string, { reason: string; since: string }>;
  /** `<workstream>/<step>` → what an agent step's session spent so far. */
  spend?: Record<string, Spend>;
  /** Workstream → a person's answer its agent step is told when it resumes. */
  answers?: Record<string, AgentAnswer>;
  /** Workstream → its host task queue. */
  hosts?: Record<string, string>;
}

/** A failed step's story so far: its attempts in all, and the retries people asked for. */
export interface StepTries {
  attempts: number;
  retries: StepRetry[];
  /** A retry came in and its execution has not started yet (the log marks that execution's first attempt). */
  retried?: boolean;
}

export interface DomainInput {
  run: RunContext;
  domain: Domain;
  /** Workstreams of other domains in this phase that this domain's workstreams depend on. */
  externalDeps: string[];
  /** Outputs this domain's steps may reference, keyed `<workstream>.<step>`. */
  outputs: Record<string, Record<string, unknown>>;
  maxParallel: number;
  continueAsNewAfter: number;
  paused?: boolean;
  carry?: DomainCarry;
  /** What a step that fails for good does: `ask` → attention; otherwise the domain fails. Default `compensate` (older runs). */
  onFailure?: 'ask' | 'compensate' | 'halt';
  /** The plan revision this domain's definition comes from (stamped on every step it runs). */
  revision?: number;
  /** Workstreams that start in attention (a gate's rejection sent them back for rework). */
  held?: Record<string, Attention>;
  /** Steps of the run a person skipped (`<workstream>.<step>` → who and why). */
  skipped?: Record<string, string>;
  /** Agent spend recorded before this child started: its own steps' (`<ws>/<step>`), and the phase's and run's outside this domain. */
  spend?: { steps: Record<string, Spend>; phase: Spend; run: Spend };
  /** Host task queues of workstreams that ran before (a rework keeps them where their worktrees are). */
  hosts?: Record<string, string>;
  /** Plans with cached steps: the fingerprints this domain's keys follow, --no-cache, rework's rejected keys. */
  cache?: DomainCacheInput;
}

export interface DomainResult {
  domainId: string;
  state: 'succeeded' | 'halted';
  haltReason?: string;
  runs: number;
  succeeded: number;
}

/** A child started before its phase: it only knows where it belongs until `startDomain` arrives. */
export interface ParkedDomainInput { parked: { phaseId: string; domainId: string } }

/** What a parked child's query answers while it waits for its phase. */
export interface ParkedDomainStatus { parked: true; phaseId: string; domainId: string }

async function parkedUntilStarted(input: ParkedDomainInput): Promise<DomainInput> {
  let started: DomainInput | undefined;
  setHandler(startDomainSignal, (msg) => { started ??= msg; });
  setHandler(domainStatusQuery, (): ParkedDomainStatus => ({ parked: true, ...input.parked }));
  await condition(() => started !== undefined);
  return started as DomainInput;
}

export async function domainOrchestrator(start: DomainInput | ParkedDomainInput): Promise<DomainResult> {
  const input = 'parked' in start ? await parkedUntilStarted(start) : start;
  let run = input.run;
  let domain = input.domain;
  let revision = input.revision ?? 0;
  const ask = input.onFailure === 'ask';
  const carry: DomainCarry = input.carry ?? { done: [], externalDone: [], pinned: {}, runs: 0 };
  const runs = carry.runs + 1;
  const reporter = new Reporter(run.parentWorkflowId, run.phaseId, domain.id);
  const done = new Set(carry.done);
  const externalPending = new Set(input.externalDeps.filter((d) => !carry.externalDone.includes(d)));
  const outputs = { ...input.outputs };
  const pinned = { ...carry.pinned };
  const local = new Set(domain.workstreams.map((ws) => ws.id));
  const running = new Map<string, Promise<void>>();
  const attention = new Map(Object.entries(carry.attention ?? {}));
  const resume = new Map(Object.entries(carry.resume ?? {}));
  const skipped: Record<string, string> = { ...input.skipped, ...carry.skipped };
  const tries: Record<string, StepTries> = { ...carry.tries };
  for (const [wsId, held] of Object.entries(input.held ?? {})) {
    if (!attention.has(wsId) && !resume.has(wsId)) attention.set(wsId, { stepIndex: 0, attention: held });
  }
  const stepCache = input.cache ? new DomainCache(input.cache, () => run, () => domain) : undefined;
  // The reviewer's reason goes with the reworked workstream's agent steps (their next attempt is told it).
  const rework = new Map(Object.entries(carry.rework ?? {}));
  const spend: Record<string, Spend> = { ...input.spend?.steps, ...carry.spend };
  const answers = new Map(Object.entries(carry.answers ?? {}));
  const hosts: Record<string, string> = { ...input.hosts, ...carry.hosts };
  // What the phase and the run spent outside this child (at its start, then as the parent relays it).
  let outside = input.spend ? { phase: input.spend.phase, run: input.spend.run } : undefined;
  setHandler(budgetSpendSignal, (msg) => { if (msg?.phase && msg.run) outside = { phase: msg.phase, run: msg.run }; });
  for (const [wsId, entry] of attention) {
    if (entry.attention.cause === 'rework') rework.set(wsId, { reason: entry.attention.reason, since: entry.attention.since });
  }
  let paused = input.paused ?? false;
  let halt: string | undefined;
  let failure: { workstreamId: string; stepId: string; message: string } | undefined;
  let changes = 0; // bumped by every event; the main loop waits for it to move
  const changed = () => { changes += 1; };

  setHandler(pauseSignal, () => { paused = true; changed(); });
  setHandler(resumeSignal, () => { paused = false; changed(); });
  setHandler(haltDomainSignal, (msg) => { halt ??= msg?.reason ?? 'halted by the run'; changed(); });
  setHandler(dependencyFinishedSignal, (msg) => {
    for (const ws of msg?.workstreams ?? []) {
      externalPending.delete(ws.id);
      Object.assign(outputs, ws.outputs);
      stepCache?.received(ws.fingerprints);
    }
    changed();
  });
  setHandler(stepDecisionSignal, (msg) => {
    const entry = msg ? attention.get(msg.workstream) : undefined;
    if (!msg || !entry || entry.attention.step !== msg.step) return; // the parent checked it; a stale copy changes nothing
    attention.delete(msg.workstream);
    if (msg.action === 'retry') {
      resume.set(msg.workstream, entry.stepIndex);
      if (msg.answer !== undefined && entry.attention.question) {
        answers.set(msg.workstream, { by: msg.by, answer: msg.answer, question: entry.attention.question.text, at: now() });
      }
      // Attempt numbers go on from the failed ones; the log and the status say who retried, when and why.
      const t = tries[`${msg.workstream}/${msg.step}`] ??= { attempts: 0, retries: [] };
      t.retries.push({ by: msg.by, at: now(), ...(msg.reason ? { comment: msg.reason } : {}), ...(entry.attention.cause === 'rework' ? { rework: true } : {}) });
      t.retried = true;
    } else {
      const wsDef = workstreamDef(msg.workstream);
      const def = wsDef?.steps[entry.stepIndex];
      const why = `skipped by ${msg.by}${msg.reason ? `: ${msg.reason}` : ''}`;
      skipped[`${msg.workstream}.${msg.step}`] = why;
      const fingerprint = stepCache && wsDef && def ? stepCache.finished(wsDef, entry.stepIndex, def, { skipped: true }) : undefined;
      reporter.push({ type: 'step', workstreamId: msg.workstream,
        step: { id: msg.step, kind: def?.kind ?? 'shell', state: 'skipped', skippedReason: why, finishedAt: now(), revision }, ...(fingerprint && { fingerprint }) });
      resume.set(msg.workstream, entry.stepIndex + 1);
    }
    changed();
  });
  setHandler(reviseDomainSignal, (msg) => {
    if (!msg?.domain || msg.domain.id !== domain.id) return;
    domain = msg.domain;
    revision = msg.revision;
    if (msg.run) run = { ...run, ...msg.run };
    // A step in attention may have been renamed by the revision: the decision names the new id.
    for (const [wsId, entry] of attention) {
      const id = workstreamDef(wsId)?.steps[entry.stepIndex]?.id;
      if (id && id !== entry.attention.step && tries[`${wsId}/${entry.attention.step}`]) {
        tries[`${wsId}/${id}`] = tries[`${wsId}/${entry.attention.step}`];
        delete tries[`${wsId}/${entry.attention.step}`];
      }
      if (id) entry.attention = { ...entry.attention, step: id };
    }
    changed();
  });
  setHandler(domainStatusQuery, () => ({
    domainId: domain.id, runs, paused, halt, failure, done: done.size, total: domain.workstreams.length, revision,
    running: [...running.keys()], waitingForOtherDomains: [...externalPending],
    attention: Object.fromEntries([...attention].map(([id, a]) => [id, a.attention])),
  }));

  reporter.push({ type: 'domain', runs });
  for (const [wsId, entry] of attention) {
    reporter.push({ type: 'workstream', workstreamId: wsId, state: 'attention', at: now(), attention: entry.attention });
  }

  const stopped = () => halt !== undefined || failure !== undefined;
  const ready = (deps: string[] | undefined) =>
    (deps ?? []).every((d) => (local.has(d) ? done.has(d) : !externalPending.has(d)));

  function workstreamDef(id: string) {
    return domain.workstreams.find((w) => w.id === id);
  }

  /** Runs a workstream's steps from `from` on, each from the current (possibly revised) definition. */
  async function runWorkstream(wsId: string, from: number): Promise<void> {
    reporter.push({ type: 'workstream', workstreamId: wsId, state: 'running', at: now(), ...(hosts[wsId] ? { host: hosts[wsId] } : {}) });
    // Git flow: the workstream's worktree, made (or found again) before its first step runs.
    let place: WorktreePlace | undefined;
    for (let stepIndex = from; ; stepIndex += 1) {
      const ws = workstreamDef(wsId);
      if (!ws || stepIndex >= ws.steps.length) break;
      const step = ws.steps[stepIndex];
      if (paused && !stopped()) await condition(() => !paused || stopped()); // (a condition costs a promise and a wake-up: only when paused)
      if (stopped()) {
        reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'halted', at: now(), error: halt ?? 'domain failed' });
        return;
      }
      const tried = tries[`${ws.id}/${step.id}`];
      const before = tried?.attempts ?? 0;
      const retriedBy = tried?.retried ? tried.retries[tried.retries.length - 1] : undefined;
      if (tried) tried.retried = false;
      const spendKey = `${ws.id}/${step.id}`;
      const status: StepStatus = {
        id: step.id, kind: step.kind, state: 'running', startedAt: now(), revision,
        ...(tried?.retries.length ? { retries: [...tried.retries], attempts: before } : {}),
        ...(spend[spendKey] ? { spend: spend[spendKey] } : {}),
      };
      try {
        // One host per workstream: a workstream without a worktree whose agent keeps its session on its host claims one first.
        if (!hosts[ws.id] && needsHost(ws, Boolean(run.git && ws.git !== false))) {
          const host = await claimHost(run.cpuTaskQueue);
          if (host) { hosts[ws.id] = host; reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'running', at: now(), host }); }
        }
        const target = onHost(stepTarget(step, ws.stickyGpu ? pinned[ws.id] : undefined), hosts[ws.id]);
        status.taskQueue = target.taskQueue;
        reporter.push({ type: 'step', workstreamId: ws.id, step: { ...status } });
        const options = activityOptions(step, run, target.taskQueue);
        try {
          if (run.git && ws.git !== false && !place) {
            const made = await prepareWorktree(run, domain.id, ws.id, hosts[ws.id]);
            place = made.place;
            if (made.hostTaskQueue && !hosts[ws.id]) {
              // The worker that made the worktree holds it: this step and every later one go to its host queue.
              hosts[ws.id] = made.hostTaskQueue;
              Object.assign(target, onHost(target, made.hostTaskQueue));
              status.taskQueue = target.taskQueue;
              Object.assign(options, activityOptions(step, run, target.taskQueue));
              reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'running', at: now(), host: made.hostTaskQueue });
            }
          }
          const worktree = place?.worktree;
          const inTree = <T extends Step>(s: T): T => (worktree && run.git ? stepInWorktree(s, run.git.repo, worktree) : s);
          const { compensate, ...body } = inTree(step); // its compensation too: it undoes work in the worktree
          // Only agent steps carry the rework reason: other kinds' inputs stay as recorded histories have them.
          const told = body.kind === 'agent' ? rework.get(ws.id) : undefined;
          const { compensate: _undo, ...defined } = step;
          const cache = stepCache?.request(ws, stepIndex, defined, body, outputs, place);
          const agent = body.kind === 'agent' ? agentSupervision({ run, ws, step: body, spend, before: outside, answer: answers.get(ws.id) }) : undefined;
          let result;
          try {
            result = await runStepActivity({
              step: substituteStep(body, outputs, skipped),
              ctx: stepContext(run, domain.id, ws.id, body, {
                ...(target.gpu ? { gpu: target.gpu } : {}), ...(before ? { attemptsBefore: before } : {}), ...(retriedBy ? { retriedBy } : {}),
                ...(told ? { rework: told } : {}), ...(agent ? { agent } : {}),
              }),
              ...(cache && { cache }),
            }, options);
          } catch (err) {
            if (body.kind === 'agent') {
              const spent = spendOfFailure(err);
              if (spent) { spend[spendKey] = spent; status.spend = spent; }
            }
            throw err;
          } finally {
            if (agent?.answer) answers.delete(ws.id); // told (the session store keeps that it was)
          }
          if (body.kind === 'agent') {
            const spent = spendOfResult(result.outputs);
            if (spent) { spend[spendKey] = spent; status.spend = spent; }
          }
          const done = result.status === 'succeeded' || result.status === 'cached'; // a hit's files are in place: it commits like a run
          if (ws.stickyGpu && target.gpuPool && result.pinnedTaskQueue) pinned[ws.id] ??= result.pinnedTaskQueue;
          if (step.commit && worktree && done) {
            status.commit = await commitStep(run, worktree, step.commit, `${run.runWorkflowId}/${ws.id}/${step.id}`, hosts[ws.id]);
          }
          if (result.outputs) outputs[`${ws.id}.${step.id}`] = result.outputs;
          const fingerprint = stepCache?.finished(ws, stepIndex, defined, { key: result.cache?.key, skipped: result.status === 'skipped' });
          delete tries[`${ws.id}/${step.id}`]; // done: its story is in the status
          Object.assign(status, {
            state: result.status, finishedAt: now(), skippedReason: result.skippedReason, taskQueue: result.taskQueue ?? target.taskQueue,
            attempts: before + (result.attempt ?? 1), outputs: summariseOutputs(result.outputs), viaShell: result.viaShell,
            logPath: result.logPath, durationMs: result.durationMs, ...(result.cache && { cache: result.cache }),
          });
          const hit = result.status === 'cached' ? result.cache?.hit : undefined;
          reporter.push({
            type: 'step', workstreamId: ws.id, step: { ...status }, outputs: result.outputs,
            saga: compensate && done ? {
              of: `${ws.id}.${step.id}`, phaseId: run.phaseId, domainId: domain.id, workstreamId: ws.id, stepId: step.id,
              compensate, taskQueue: status.taskQueue ?? target.taskQueue, finishedAt: status.finishedAt ?? now(),
              ...(hit && { cached: { run: hit.run, at: hit.at } }),
            } : undefined,
            ...(fingerprint && { fingerprint }),
          });
        } catch (err) {
          if (isCancellation(err)) throw err;
          // Kept for a retry: its attempts count on from here (at least the one that failed).
          const attempts = before + (failedAttempts(err, options) ?? 1);
          Object.assign(status, { attempts });
          tries[`${ws.id}/${step.id}`] = { attempts, retries: tried?.retries ?? [] };
          throw err;
        }
      } catch (err) {
        const cancelled = isCancellation(err);
        Object.assign(status, { state: cancelled ? 'cancelled' : 'failed', finishedAt: now(), lastError: errorMessage(err) });
        reporter.push({ type: 'step', workstreamId: ws.id, step: { ...status } });
        reporter.push({ type: 'workstream', workstreamId: ws.id, state: cancelled ? 'cancelled' : 'failed', at: now(), error: status.lastError });
        if (cancelled) throw err;
        if (ask) {
          // Nothing else of this workstream runs until a person decides; the rest of the domain goes on.
          const base = { step: step.id, cause: 'failed' as const, reason: firstLines(status.lastError ?? 'failed'), since: now(), ...(place && { git: place }) };
          const entry = { stepIndex, attention: step.kind === 'agent' ? agentAttention(base, err, step, ws.id) : base };
          attention.set(ws.id, entry);
          reporter.push({ type: 'workstream', workstreamId: ws.id, state: 'attention', at: now(), error: status.lastError, attention: entry.attention });
          return;
        }
        failure ??= { workstreamId: ws.id, stepId: step.id, message: status.lastError ?? 'failed' };
        return;
      }
    }
    done.add(wsId);
    const fingerprint = stepCache?.fingerprints[workstreamKey(wsId)];
    reporter.push({ type: 'workstream', workstreamId: wsId, state: 'succeeded', at: now(), ...(fingerprint && { fingerprint }) });
  }

  /** A step of the run's CPU pool goes to its workstream's host queue, once the workstream has one. */
  function onHost(target: QueueTarget, host: string | undefined): QueueTarget {
    return host && target.taskQueue === run.cpuTaskQueue && !target.gpuPool ? { ...target, taskQueue: host } : target;
  }

  function stepTarget(step: Step, pinnedQueue: string | undefined): QueueTarget {
    let target: QueueTarget;
    try {
      target = resolvePool(step.pool ?? run.defaults.pool, run, run.cpuTaskQueue);
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, 'SparkyUnknownPool');
    }
    // stickyGpu: after the first GPU step, later `gpu` steps go to the GPU it ran on.
    if (target.gpuPool && pinnedQueue) return { taskQueue: pinnedQueue, gpu: gpuOfPinnedQueue(pinnedQueue) };
    return target;
  }

  let started = 0;
  try {
    for (;;) {
      if (stopped() && running.size === 0) break;
      if (done.size === domain.workstreams.length) break;
      if (!stopped() && !paused) {
        for (const ws of domain.workstreams) {
          if (running.size >= input.maxParallel || started >= input.continueAsNewAfter) break;
          if (done.has(ws.id) || running.has(ws.id) || attention.has(ws.id) || !ready(ws.dependsOn)) continue;
          started += 1;
          const from = resume.get(ws.id) ?? 0;
          resume.delete(ws.id);
          const promise = runWorkstream(ws.id, from).finally(() => { running.delete(ws.id); changed(); });
          promise.catch(() => undefined); // a cancelled workstream is handled by the cancellation path below
          running.set(ws.id, promise);
        }
      }
      if (!stopped() && started >= input.continueAsNewAfter && running.size === 0) {
        // History stays small: hand what is done to a fresh run of this child.
        await reporter.flush();
        await condition(allHandlersFinished);
        return await continueAsNew<typeof domainOrchestrator>({
          ...input, run, domain, revision, outputs, paused, held: undefined, ...(stepCache && { cache: stepCache.carry() }),
          ...(outside ? { spend: { steps: {}, ...outside } } : {}),
          carry: {
            done: [...done], externalDone: input.externalDeps.filter((d) => !externalPending.has(d)), pinned, runs,
            attention: Object.fromEntries(attention), resume: Object.fromEntries(resume), skipped, tries,
            ...(rework.size > 0 ? { rework: Object.fromEntries(rework) } : {}),
            ...(Object.keys(spend).length > 0 ? { spend } : {}), ...(answers.size > 0 ? { answers: Object.fromEntries(answers) } : {}),
            ...(Object.keys(hosts).length > 0 ? { hosts } : {}),
          },
        });
      }
      const seen = changes;
      await condition(() => changes !== seen);
    }
  } catch (err) {
    if (isCancellation(err)) {
      // Cancelled run: running steps are cancelled with it; report what they did before going.
      await CancellationScope.nonCancellable(async () => {
        await Promise.allSettled(running.values());
        await reporter.flush();
      });
    }
    throw err;
  }
  await reporter.flush();
  if (failure) {
    throw ApplicationFailure.nonRetryable(
      `domain ${domain.id}: workstream ${failure.workstreamId} step ${failure.stepId} failed: ${failure.message}`,
      'SparkyDomainFailed', failure);
  }
  return { domainId: domain.id, state: halt ? 'halted' : 'succeeded', haltReason: halt, runs, succeeded: done.size };
}

/** The first lines of an error: enough for the status and the Web UI; the full text stays in lastError. */
function firstLines(text: string, lines = 3): string {
  return text.split('\n').slice(0, lines).join('\n');
}
