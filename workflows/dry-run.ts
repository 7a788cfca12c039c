// A dry run (`sparky run PLAN --dry-run`, or options.dryRun through `temporal workflow start`): what
// each step of the run would do — run, come from the cache (from which run), or be skipped (its
// `when`, or left out of a subset run) — and the critical path of what would run, without starting a
// step, a child workflow, a worktree or a gate. The questions go to the workers that would run each
// step (inspectStep on its task queue: `when` is about that worker, the key needs its files and tool),
// in dependency order, with the same keys a real run computes (workflows/cache.ts): fingerprints and
// outputs of predicted hits flow to the steps after them. A step whose key needs what only running an
// earlier step tells (the outputs of an uncached step, a base commit an earlier phase's merge moves)
// is reported as running, with that reason.
import { proxyActivities } from '@temporalio/workflow';
import type { SparkyActivities } from '../common/activity-types.ts';
import type { CacheRequest, CacheSource } from '../common/cache-types.ts';
import type { GitActivities } from '../common/git-types.ts';
import { analyzePlan } from '../plan/analyze.ts';
import {
  cacheSettings, chainOf, fingerprintOf, keyParts, runDirProducers, ttlMs, workstreamKey,
} from '../plan/cache-key.ts';
import { formatMs } from '../plan/durations.ts';
import { gitSettings } from '../plan/git.ts';
import { substituteOutputs } from '../plan/outputs.ts';
import type { Plan, StepBody, Workstream } from '../plan/schema.ts';
import { entersPhase, gateSubset, type Selection } from '../plan/subset.ts';
import { gitWorkstreams } from './git-flow.ts';
import { resolvePool } from './pools.ts';
import type { RunContext } from './run-context.ts';
import { stepContext } from './steps.ts';

export interface DryRunStep {
  workstream: string;
  step: string;
  action: 'run' | 'cached' | 'skipped';
  reason: string;
  /** A hit: the run and step the entry came from. */
  from?: CacheSource;
  key?: string;
}

export interface DryRunReport {
  plan: string;
  subset?: string;
  steps: DryRunStep[];
  counts: { run: number; cached: number; skipped: number };
  /** Gates the run would ask, and the checks a subset run skips. */
  gates: { id: string; phase: string; asked: boolean; skippedChecks?: string[] }[];
  /** The longest chain of workstreams that would run something, by their estimates. */
  criticalPath: { path: string[]; estimate: string };
}

export interface DryRunDeps {
  plan: Plan;
  run: Omit<RunContext, 'phaseId'>;
  selection?: Selection;
  noCache?: true | string[];
}

export async function dryRun(deps: DryRunDeps): Promise<DryRunReport> {
  const { plan, run, selection } = deps;
  const producers = runDirProducers(plan);
  const cached = (k: string) => {
    const [w, s] = [k.slice(0, k.indexOf('.')), k.slice(k.indexOf('.') + 1)];
    const step = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).find((x) => x.id === w)?.steps.find((x) => x.id === s);
    return step !== undefined && cacheSettings(step, plan.defaults) !== undefined;
  };
  const fingerprints: Record<string, string> = {};
  const outputs: Record<string, Record<string, unknown>> = {};
  /** Steps and workstreams whose result is known only once they run (their fingerprint is a guess). */
  const unknown = new Map<string, string>();
  const report: DryRunStep[] = [];
  const gates: DryRunReport['gates'] = [];
  const git = plan.git ? gitSettings(plan.git) : undefined;
  const gitActivities = proxyActivities<GitActivities>({ taskQueue: run.cpuTaskQueue, startToCloseTimeout: '1m', retry: { maximumAttempts: 3 } });
  let baseMoves: string | undefined; // an earlier entered phase merges commits: later bases are unknown

  for (const phase of plan.phases) {
    if (!entersPhase(phase, selection)) {
      for (const ws of phase.domains.flatMap((d) => d.workstreams)) {
        for (const s of ws.steps) report.push({ workstream: ws.id, step: s.id, action: 'skipped', reason: selection?.excluded.get(ws.id) ?? 'not in this run' });
      }
      if (phase.gate) gates.push({ id: phase.gate.id, phase: phase.id, asked: false });
      continue;
    }
    const inGit = new Set(git ? gitWorkstreams(phase).map((w) => w.id) : []);
    let baseCommit: string | undefined;
    if (git && inGit.size > 0 && !baseMoves) baseCommit = (await gitActivities.gitPhaseBase({ repo: git.repo, base: git.base })).commit;
    const all = phase.domains.flatMap((d) => d.workstreams.map((ws) => ({ ws, domainId: d.id })));
    const pending = all.filter(({ ws }) => !selection?.excluded.has(ws.id));
    for (const { ws } of all.filter(({ ws }) => selection?.excluded.has(ws.id))) {
      for (const s of ws.steps) report.push({ workstream: ws.id, step: s.id, action: 'skipped', reason: selection!.excluded.get(ws.id)! });
    }
    const doneHere = new Set<string>();
    while (pending.length > 0) {
      // A wave: every workstream whose same-phase dependencies are done, side by side.
      const wave = pending.filter(({ ws }) => (ws.dependsOn ?? []).every((d) => doneHere.has(d) || !all.some((a) => a.ws.id === d) || selection?.excluded.has(d)));
      if (wave.length === 0) break; // cycles are refused by the validator
      for (const w of wave) pending.splice(pending.indexOf(w), 1);
      const results = await Promise.all(wave.map(({ ws, domainId }) => inspectWorkstream(ws, domainId, phase.id,
        inGit.has(ws.id) ? { base: baseCommit, repo: git!.repo, why: baseMoves } : undefined)));
      for (const [i, steps] of results.entries()) { report.push(...steps); doneHere.add(wave[i].ws.id); }
    }
    if (phase.gate) {
      const { skipped } = gateSubset(phase.gate, plan, selection);
      gates.push({ id: phase.gate.id, phase: phase.id, asked: true, ...(skipped.length && { skippedChecks: skipped.map((c) => `${c.id}: ${c.reason}`) }) });
    }
    const commits = phase.domains.flatMap((d) => d.workstreams).some((ws) => inGit.has(ws.id)
      && ws.steps.some((s) => s.commit && report.some((r) => r.workstream === ws.id && r.step === s.id && r.action !== 'skipped')));
    if (git && commits && git.merge === 'onGate') baseMoves ??= `the base moves when phase ${phase.id} merges, so the base commit of later phases is known only then`;
  }

  async function inspectWorkstream(ws: Workstream, domainId: string, phaseId: string, inGitFlow: { base?: string; repo: string; why?: string } | undefined): Promise<DryRunStep[]> {
    const out: DryRunStep[] = [];
    for (const [index, full] of ws.steps.entries()) {
      const { compensate: _undo, ...step } = full;
      const chain = chainOf(ws, index);
      const settings = cacheSettings(step, plan.defaults);
      let request: CacheRequest | undefined;
      let guess: string | undefined = chain.map((c) => unknown.get(c)).find(Boolean);
      if (settings) {
        const { parts, missing } = keyParts(step, settings, chain, { fingerprints, outputs, isCached: cached, producers }, inGitFlow?.base);
        guess ??= missing.map((m) => unknown.get(m) ?? `its key needs the outputs of ${m}, which is not cached: known once it has run`)[0]
          ?? (inGitFlow && !inGitFlow.base ? inGitFlow.why : undefined);
        const forced = deps.noCache === true || (Array.isArray(deps.noCache) && deps.noCache.includes(ws.id));
        const ttl = ttlMs(settings);
        request = {
          plan: plan.name, workstream: ws.id, step: step.id, parts, inputs: settings.inputs, outputs: settings.outputs, ...(ttl !== undefined && { ttlMs: ttl }),
          mode: forced ? 'refresh' : 'use', ...(forced && { why: `--no-cache${deps.noCache === true ? '' : ` ${ws.id}`}: forced to run` }),
          places: { ...(run.baseDir && { planDir: run.baseDir }), ...(inGitFlow && { repo: inGitFlow.repo, worktree: inGitFlow.repo }) },
        };
      }
      let body: StepBody = step;
      try { body = substituteOutputs(step, outputs); } catch { /* outputs of steps that would run: not known yet */ }
      const target = resolvePool(step.pool ?? run.defaults.pool, run, run.cpuTaskQueue);
      const { inspectStep } = proxyActivities<SparkyActivities>({ taskQueue: target.taskQueue, startToCloseTimeout: '2m', retry: { maximumAttempts: 3 } });
      const answer = await inspectStep({
        step: body, ctx: stepContext({ ...run, phaseId }, domainId, ws.id, step, target.gpu ? { gpu: target.gpu } : {}),
        ...(request && { cache: request }),
      });
      const stepKey = `${ws.id}.${step.id}`;
      let entry: DryRunStep;
      if (answer.action === 'skipped') entry = { workstream: ws.id, step: step.id, action: 'skipped', reason: answer.reason };
      else if (!settings) entry = { workstream: ws.id, step: step.id, action: 'run', reason: answer.reason };
      else if (answer.action === 'cached' && !guess) {
        entry = { workstream: ws.id, step: step.id, action: 'cached', reason: answer.reason, ...(answer.source && { from: answer.source }), ...(answer.key && { key: answer.key }) };
        if (answer.outputs) outputs[stepKey] = answer.outputs;
      } else entry = { workstream: ws.id, step: step.id, action: 'run', reason: guess ?? answer.reason, ...(answer.key && { key: answer.key }) };
      out.push(entry);
      fingerprints[stepKey] = answer.key && settings ? answer.key : fingerprintOf(answer.action === 'skipped' ? 'skipped' : 'ran', step, chain, fingerprints, run.baseDir);
      if (guess) unknown.set(stepKey, guess);
    }
    const last = ws.steps.at(-1)!;
    fingerprints[workstreamKey(ws.id)] = fingerprints[`${ws.id}.${last.id}`];
    const lastGuess = unknown.get(`${ws.id}.${last.id}`);
    if (lastGuess) unknown.set(workstreamKey(ws.id), lastGuess);
    return out;
  }

  // In the plan's order (the questions went out in dependency waves).
  const order = new Map(plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps.map((st) => `${w.id}/${st.id}`)))).map((k, i) => [k, i]));
  report.sort((a, b) => (order.get(`${a.workstream}/${a.step}`) ?? 0) - (order.get(`${b.workstream}/${b.step}`) ?? 0));
  const runs = new Set(report.filter((r) => r.action === 'run').map((r) => r.workstream));
  const trimmed: Plan = {
    ...plan,
    phases: plan.phases.map((p) => ({
      ...p, domains: p.domains.map((d) => ({ ...d, workstreams: d.workstreams.map((w) => (runs.has(w.id) ? w : { ...w, estimate: undefined })) })),
    })),
  };
  const critical = analyzePlan(trimmed).criticalPath;
  const count = (a: DryRunStep['action']) => report.filter((r) => r.action === a).length;
  return {
    plan: plan.name, ...(selection && { subset: selection.summary }), steps: report,
    counts: { run: count('run'), cached: count('cached'), skipped: count('skipped') }, gates,
    criticalPath: { path: critical.span.mid > 0 ? critical.path.filter((id) => runs.has(id)) : [], estimate: formatMs(critical.span.mid) },
  };
}

/** One line for the Web UI's details and the run's result. */
export function dryRunText(r: DryRunReport): string {
  return `dry run: ${r.counts.run} step(s) would run, ${r.counts.cached} would come from the cache, ${r.counts.skipped} would be skipped`
    + `${r.criticalPath.path.length ? `; critical path ${r.criticalPath.path.join(' → ')} (${r.criticalPath.estimate})` : ''}; nothing was started`;
}
