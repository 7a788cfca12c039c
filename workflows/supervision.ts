// Agent steps under supervision, as the domain child sees them (docs/agents.md): what each step's
// session spent (from its result or its failure), the budgets it runs under (its workstream's, phase's
// and run's, with what they spent elsewhere), the attention a stopped agent puts its workstream in
// (`stalled` with the last event, `budget` with the figures, `question` with the question and whom it
// is for), and the host a workstream without a worktree is placed on. Deterministic: workflow code.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { AgentAnswer, AgentFailureDetails, AgentSupervision, SparkyActivities } from '../common/activity-types.ts';
import { addSpend, limitText, NO_SPEND, spendText, subtractSpend, type ScopeBudget, type Spend } from '../common/agent-spend.ts';
import type { AgentStep, Step, Workstream } from '../plan/schema.ts';
import { durationMs } from './durations.ts';
import type { RunContext } from './run-context.ts';
import type { Attention } from './status.ts';

/** The spend an agent step's outputs report (its session's, all attempts). */
export function spendOfResult(outputs: Record<string, unknown> | undefined): Spend | undefined {
  if (!outputs || typeof outputs.tokens !== 'number') return undefined;
  return { usd: typeof outputs.costUsd === 'number' ? outputs.costUsd : 0, tokens: outputs.tokens, turns: typeof outputs.turns === 'number' ? outputs.turns : 0 };
}

/** What an agent step's failure says about why it stopped (activities/agent.ts puts it in the details). */
export function agentFailure(err: unknown): AgentFailureDetails | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  return (cause.details ?? []).find((d): d is AgentFailureDetails => typeof (d as AgentFailureDetails | null)?.cause === 'string' && typeof (d as AgentFailureDetails).tokens === 'number');
}

export function spendOfFailure(err: unknown): Spend | undefined {
  const d = agentFailure(err);
  return d ? { usd: d.costUsd ?? 0, tokens: d.tokens, turns: d.turns } : undefined;
}

const sum = (spends: Spend[]) => spends.reduce((a, b) => addSpend(a, b), NO_SPEND);

/**
 * The supervision an agent step gets: its workstream's, phase's and run's budgets, each with what its
 * scope spent outside this step's session (`spend` holds this child's steps; `before` what was spent
 * outside this domain when the child started), the plan's price for a Codex model, and an answer.
 */
export function agentSupervision(a: {
  run: RunContext; ws: Workstream; step: AgentStep; spend: Record<string, Spend>;
  before?: { phase: Spend; run: Spend }; answer?: AgentAnswer;
}): AgentSupervision | undefined {
  const key = `${a.ws.id}/${a.step.id}`;
  const mine = a.spend[key] ?? NO_SPEND;
  const domain = subtractSpend(sum(Object.values(a.spend)), mine);
  const workstream = subtractSpend(sum(Object.entries(a.spend).filter(([k]) => k.startsWith(`${a.ws.id}/`)).map(([, s]) => s)), mine);
  const budgets: ScopeBudget[] = [];
  if (a.ws.budget) budgets.push({ scope: `workstream ${a.ws.id}`, limit: a.ws.budget, elsewhere: workstream });
  if (a.run.budgets?.phase) budgets.push({ scope: `phase ${a.run.phaseId}`, limit: a.run.budgets.phase, elsewhere: addSpend(domain, a.before?.phase) });
  if (a.run.budgets?.run) budgets.push({ scope: 'run', limit: a.run.budgets.run, elsewhere: addSpend(domain, a.before?.run) });
  const price = a.step.agent === 'codex' ? a.run.prices?.[a.step.model ?? 'default'] : undefined;
  if (budgets.length === 0 && !price && !a.answer) return undefined;
  return { ...(budgets.length ? { budgets } : {}), ...(price ? { price } : {}), ...(a.answer ? { answer: a.answer } : {}) };
}

/** The attention of an agent step that stopped: `stalled`, `budget` or `question` with their facts, else as given. */
export function agentAttention(base: Attention, err: unknown, step: Step, workstreamId: string): Attention {
  const d = agentFailure(err);
  if (!d || step.kind !== 'agent') return base;
  if (d.cause === 'stalled') {
    const last = d.lastEvent ? `${d.lastEvent.event}${d.lastEvent.at ? ` at ${d.lastEvent.at}` : ''}` : 'none';
    return { ...base, cause: 'stalled', reason: `${workstreamId}/${step.id} stalled: no event from the agent for ${step.stallAfter ?? 'stallAfter'} (its last: ${last}); its process tree was ended`,
      ...(d.lastEvent ? { lastEvent: d.lastEvent } : {}) };
  }
  if (d.cause === 'budget' && d.budget) {
    const whose = d.budget.scope === 'step' ? `the step's budget` : `the ${d.budget.scope} budget`;
    return { ...base, cause: 'budget', budget: d.budget,
      reason: `${workstreamId}/${step.id}: ${whose} (${limitText(d.budget.limit)}) is reached: spent ${spendText(d.budget.spent)}` };
  }
  if (d.cause === 'question' && d.question !== undefined) {
    const to = step.ask?.to ?? [];
    const timeout = step.ask?.timeout;
    return { ...base, cause: 'question',
      reason: `${workstreamId}/${step.id} asks${to.length ? ` ${to.join(', ')}` : ''}: ${d.question}`,
      question: {
        text: d.question, to, askedAt: base.since,
        ...(timeout ? { timeout, deadline: new Date(Date.parse(base.since) + durationMs(timeout)).toISOString() } : {}),
        ...(step.ask?.escalate ? { escalate: step.ask.escalate } : {}),
      } };
  }
  return base;
}

/** Whether a workstream needs a host claimed before its first step: no worktree, but agent sessions kept on a host. */
export function needsHost(ws: Workstream, hasWorktree: boolean): boolean {
  return !hasWorktree && ws.steps.some((s) => s.kind === 'agent');
}

/** Asks any CPU worker of the run's queue for its host queue (none: the worker serves no host queue). */
export async function claimHost(cpuTaskQueue: string): Promise<string | undefined> {
  const { claimHost: claim } = proxyActivities<SparkyActivities>({ taskQueue: cpuTaskQueue, startToCloseTimeout: '1m', retry: { maximumAttempts: 5 }, summary: 'host' });
  return (await claim({})).hostTaskQueue;
}
