// Small statistics helpers for the benchmarks.
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface BenchRow {
  name: string;
  /** What the baseline is (measured in the same run, on the same server). */
  baseline: string;
  value: string;
  ratio?: number;
  details?: Record<string, unknown>;
}
