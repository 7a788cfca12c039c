// Durations (`30s`, `20m`, `4h`, `3d`, `1h30m`, `250ms`) and estimates (`3d`, `3-4d`) as milliseconds.
// Pure: analysis and validation use them, and the workflows may turn plan timeouts into numbers.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
export const DAY_MS = UNIT_MS.d;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/**
 * Milliseconds of a duration string, rounded (Temporal's options take numbers: its own duration
 * strings do not accept combined units such as `1h30m`). Throws on text that is not a duration, so a
 * bad value is an error, never a silent default. The one wrapper every caller uses.
 */
export function durationMs(text: string): number;
export function durationMs(text: string | undefined): number | undefined;
export function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)} (expected e.g. 30s, 20m, 1h30m)`);
  return Math.round(ms);
}

export interface EstimateRange { low: number; high: number; mid: number }

/** An estimate in milliseconds: `3-4d` → {low: 3d, high: 4d, mid: 3.5d}; undefined when malformed. */
export function parseEstimate(text: string): EstimateRange | undefined {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?(ms|s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  const low = Number(m[1]) * UNIT_MS[m[3]];
  const high = (m[2] === undefined ? Number(m[1]) : Number(m[2])) * UNIT_MS[m[3]];
  return { low, high, mid: (low + high) / 2 };
}

/** Milliseconds as a short human duration, in days when at least a day (estimates are in days). */
export function formatMs(ms: number): string {
  if (ms >= DAY_MS) return `${+(ms / DAY_MS).toFixed(2)}d`;
  if (ms >= UNIT_MS.h) return `${+(ms / UNIT_MS.h).toFixed(2)}h`;
  if (ms >= UNIT_MS.m) return `${+(ms / UNIT_MS.m).toFixed(2)}m`;
  if (ms >= 1000) return `${+(ms / 1000).toFixed(2)}s`;
  return `${ms}ms`;
}
