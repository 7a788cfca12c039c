// Small statistics helpers for the benchmarks: percentiles, the median and interquartile range of
// repeated measurements, and the row every benchmark reports.
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Linear-interpolated quantile (q in 0..1): the median and quartiles of a handful of repetitions. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Median and spread of repeated measurements. */
export interface Summary { n: number; median: number; q1: number; q3: number; iqr: number; min: number; max: number }

export function summarize(values: number[], digits = 2): Summary {
  const q1 = quantile(values, 0.25);
  const q3 = quantile(values, 0.75);
  return {
    n: values.length, median: round(quantile(values, 0.5), digits), q1: round(q1, digits), q3: round(q3, digits),
    iqr: round(q3 - q1, digits), min: round(Math.min(...values), digits), max: round(Math.max(...values), digits),
  };
}

/** "1.23 (IQR 1.20–1.31)" */
export function fmtSummary(s: Summary, unit = '', digits = 2): string {
  return `${round(s.median, digits)}${unit} (IQR ${round(s.q1, digits)}–${round(s.q3, digits)}${unit}, n=${s.n})`;
}

export interface BenchRow {
  name: string;
  /** What the baseline is (measured in the same run, on the same server). */
  baseline: string;
  value: string;
  ratio?: number;
  details?: Record<string, unknown>;
}
