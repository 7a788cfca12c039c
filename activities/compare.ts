// Threshold comparisons shared by `file` and `metric` gate checks, with a sentence for the status.
import { isDeepStrictEqual } from 'node:util';

export interface Thresholds { equals?: unknown; atLeast?: number; atMost?: number }

/** Reads `a.b.0.c` (or `a.b[0].c`) from a JSON value; `found: false` when any step is missing. */
export function dig(value: unknown, dotted: string): { found: boolean; value?: unknown } {
  let current = value;
  for (const key of dotted.replace(/\[(\d+)\]/g, '.$1').split('.').filter((k) => k !== '')) {
    if (current === null || typeof current !== 'object' || !(key in (current as object))) return { found: false };
    current = (current as Record<string, unknown>)[key];
  }
  return { found: true, value: current };
}

export function compare(value: unknown, t: Thresholds): { passed: boolean; why: string } {
  const shown = JSON.stringify(value);
  const failures: string[] = [];
  const held: string[] = [];
  if (t.equals !== undefined) {
    (isDeepStrictEqual(value, t.equals) ? held : failures).push(`${isDeepStrictEqual(value, t.equals) ? '=' : '≠'} ${JSON.stringify(t.equals)}`);
  }
  for (const [bound, limit, ok] of [
    ['≥', t.atLeast, (v: number, l: number) => v >= l],
    ['≤', t.atMost, (v: number, l: number) => v <= l],
  ] as const) {
    if (limit === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value)) failures.push(`is not a number, so not ${bound} ${limit}`);
    else (ok(value, limit) ? held : failures).push(`${ok(value, limit) ? bound : bound === '≥' ? '<' : '>'} ${limit}`);
  }
  if (failures.length > 0) return { passed: false, why: `${shown} ${failures.join(', ')}` };
  return { passed: true, why: held.length > 0 ? `${shown} ${held.join(', ')}` : shown };
}
