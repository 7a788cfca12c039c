// Agent spend across the run (docs/agents.md "Budgets"): totals per workstream, phase and run from the
// steps' session spend in the status (what `sparky status`, `sparky watch` and the Web UI's details
// show, against the plan's budgets), and what a domain child is told when it starts: the plan's phase
// and run budgets, what its steps spent before, and what the phase and run spent outside it. A plan
// without budgets or prices gives its children exactly the input it gave before. Pure.
import { addSpend, hasSpend, limitText, NO_SPEND, spendText, type BudgetLimits, type Spend } from '../common/agent-spend.ts';
import type { Phase, Plan } from '../plan/schema.ts';
import type { RunContext } from './run-context.ts';
import type { StatusIndex } from './status-index.ts';
import type { PhaseStatus, RunStatus } from './status.ts';

export interface SpendTotals { run: Spend; phases: Record<string, Spend>; workstreams: Record<string, Spend> }

/** Spend per workstream, phase and run (steps without spend count nothing). */
export function spendTotals(status: RunStatus): SpendTotals {
  const totals: SpendTotals = { run: NO_SPEND, phases: {}, workstreams: {} };
  for (const phase of status.phases) {
    for (const d of phase.domains) {
      for (const ws of d.workstreams) {
        for (const s of ws.steps) {
          if (!hasSpend(s.spend)) continue;
          totals.workstreams[ws.id] = addSpend(totals.workstreams[ws.id] ?? NO_SPEND, s.spend);
          totals.phases[phase.id] = addSpend(totals.phases[phase.id] ?? NO_SPEND, s.spend);
          totals.run = addSpend(totals.run, s.spend);
        }
      }
    }
  }
  return totals;
}

/** The plan's budgets of this phase and the run, and its prices, for the run context (nothing when it has none). */
export function runBudgets(plan: Plan, phase: Phase): Pick<RunContext, 'budgets' | 'prices'> {
  const budgets = phase.budget || plan.budget ? { ...(phase.budget ? { phase: phase.budget } : {}), ...(plan.budget ? { run: plan.budget } : {}) } : undefined;
  return { ...(budgets ? { budgets } : {}), ...(plan.prices ? { prices: plan.prices } : {}) };
}

/** What a domain child starts with: its steps' spend so far, and the phase's and run's outside it (none before any agent spent). */
export function domainSpendInput(index: StatusIndex, phaseId: string, domainId: string): { steps: Record<string, Spend>; phase: Spend; run: Spend } | undefined {
  const steps: Record<string, Spend> = {};
  let phase = NO_SPEND;
  let run = NO_SPEND;
  for (const p of index.run.phases) {
    for (const d of p.domains) {
      for (const ws of d.workstreams) {
        for (const s of ws.steps) {
          if (!hasSpend(s.spend)) continue;
          if (p.id === phaseId && d.id === domainId) { steps[`${ws.id}/${s.id}`] = s.spend; continue; }
          run = addSpend(run, s.spend);
          if (p.id === phaseId) phase = addSpend(phase, s.spend);
        }
      }
    }
  }
  return Object.keys(steps).length > 0 || hasSpend(phase) || hasSpend(run) ? { steps, phase, run } : undefined;
}

/** Host queues of a domain's workstreams that have one (a rerun keeps them where their worktrees are). */
export function hostsOf(phase: PhaseStatus, domainId: string): Record<string, string> | undefined {
  const d = phase.domains.find((x) => x.id === domainId);
  const hosts = Object.fromEntries((d?.workstreams ?? []).filter((w) => w.host).map((w) => [w.id, w.host as string]));
  return Object.keys(hosts).length ? hosts : undefined;
}

/**
 * Agent spend in words, with the budgets it counts against: one line for the run, then one per phase
 * and per workstream that spent anything (empty when no agent spent). `sparky status`, `sparky watch`
 * and the Web UI's current details show it.
 */
export function spendLines(status: RunStatus): string[] {
  const t = spendTotals(status);
  if (!hasSpend(t.run)) return [];
  const b = status.budgets;
  const of = (limit: BudgetLimits | undefined) => (limit ? ` of budget ${limitText(limit)}` : '');
  const lines = [`agent spend: run ${spendText(t.run)}${of(b?.run)}`];
  for (const [id, s] of Object.entries(t.phases)) lines.push(`  phase ${id}: ${spendText(s)}${of(b?.phases?.[id])}`);
  for (const [id, s] of Object.entries(t.workstreams)) lines.push(`  ${id}: ${spendText(s)}${of(b?.workstreams?.[id])}`);
  return lines;
}
