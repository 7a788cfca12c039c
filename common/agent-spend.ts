// What agent steps spend (USD, tokens, model turns) and the budgets that bound it: per step (its
// session over every attempt), and per workstream, phase and run (the sum of their agent steps'
// sessions, attempts and reworks included). Pure: the domain child computes what is left for a step
// from here, the agent runner enforces it, and the status, `sparky status`/`watch` and the Web UI's
// details show the totals. docs/agents.md "Budgets".

/** Spent so far. `usd` is the CLI's own figure (Claude Code) or tokens × the plan's price (Codex). */
export interface Spend { usd: number; tokens: number; turns: number }

/** A budget's limits (each optional). */
export interface BudgetLimits { usd?: number; tokens?: number; turns?: number }

/**
 * One budget an agent step runs under, as the workflow knows it when the step starts: its `scope`
 * (`step`, `workstream WS-01`, `phase build`, `run`), its limits, and what the scope spent outside
 * this step's own session (so the runner compares `elsewhere + session` with the limits).
 */
export interface ScopeBudget { scope: string; limit: BudgetLimits; elsewhere: Spend }

/** What a budget that was reached says: the scope, its limits and what it had spent. */
export interface BudgetReached { scope: string; limit: BudgetLimits; spent: Spend }

export const NO_SPEND: Spend = { usd: 0, tokens: 0, turns: 0 };

export const addSpend = (a: Spend, b: Partial<Spend> | undefined): Spend => ({
  usd: a.usd + (b?.usd ?? 0), tokens: a.tokens + (b?.tokens ?? 0), turns: a.turns + (b?.turns ?? 0),
});

export const subtractSpend = (a: Spend, b: Spend): Spend => ({
  usd: Math.max(0, a.usd - b.usd), tokens: Math.max(0, a.tokens - b.tokens), turns: Math.max(0, a.turns - b.turns),
});

export const hasSpend = (s: Spend | undefined): s is Spend => s !== undefined && (s.usd > 0 || s.tokens > 0 || s.turns > 0);

export const usdText = (usd: number) => `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;

/** `$0.3100, 48211 tokens, 12 turns` (USD only when there is a figure). */
export function spendText(s: Spend): string {
  return [s.usd > 0 ? usdText(s.usd) : '', `${s.tokens} tokens`, `${s.turns} turn${s.turns === 1 ? '' : 's'}`].filter(Boolean).join(', ');
}

/** `$2, 500000 tokens, 40 turns`. */
export function limitText(l: BudgetLimits): string {
  return [l.usd !== undefined ? `$${l.usd}` : '', l.tokens !== undefined ? `${l.tokens} tokens` : '', l.turns !== undefined ? `${l.turns} turns` : '']
    .filter(Boolean).join(', ');
}

/** `12 tokens of 10` per figure over (or at, with `atOrOver`) its limit; empty when none is. */
export function overLimit(spent: Spend, limit: BudgetLimits, atOrOver: boolean): string[] {
  const over = (v: number, l: number | undefined) => l !== undefined && (atOrOver ? v >= l : v > l);
  return [
    over(spent.usd, limit.usd) ? `${usdText(spent.usd)} of $${limit.usd}` : '',
    over(spent.tokens, limit.tokens) ? `${spent.tokens} tokens of ${limit.tokens}` : '',
    over(spent.turns, limit.turns) ? `${spent.turns} turns of ${limit.turns}` : '',
  ].filter(Boolean);
}

/** The first budget the session's spend reaches (`atOrOver`: before it starts) or passes (while it runs). */
export function budgetReached(budgets: ScopeBudget[], session: Spend, atOrOver: boolean): (BudgetReached & { figures: string[] }) | undefined {
  for (const b of budgets) {
    const spent = addSpend(b.elsewhere, session);
    const figures = overLimit(spent, b.limit, atOrOver);
    if (figures.length) return { scope: b.scope, limit: b.limit, spent, figures };
  }
  return undefined;
}

/** What is left of a figure across the budgets, in session terms (undefined: no budget limits it). */
export function leftFor(budgets: ScopeBudget[], figure: keyof Spend, session: Spend): { left: number; scope: string } | undefined {
  let best: { left: number; scope: string } | undefined;
  for (const b of budgets) {
    const limit = b.limit[figure];
    if (limit === undefined) continue;
    const left = limit - b.elsewhere[figure] - session[figure];
    if (!best || left < best.left) best = { left, scope: b.scope };
  }
  return best;
}

/** USD of a token count at a price per million tokens. */
export function priced(tokens: { input: number; output: number }, price: { input: number; output: number }): number {
  return (tokens.input * price.input + tokens.output * price.output) / 1_000_000;
}
