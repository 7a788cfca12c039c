// Counts in words: "1 gate", "3 gates", "1 branch", "2 branches". One helper for every message that
// counts something, so none says "1 gates" or falls back to "gate(s)". Pure (workflow code uses it).
const IRREGULAR: Record<string, string> = { branch: 'branches', entry: 'entries', process: 'processes', GPU: 'GPUs' };

/** The plural of a noun: the irregular ones above, else `noun + s`. */
export function plural(noun: string): string {
  return IRREGULAR[noun] ?? `${noun}s`;
}

/** `n noun`, the noun in the plural unless n is 1. */
export function count(n: number, noun: string, many = plural(noun)): string {
  return `${n} ${n === 1 ? noun : many}`;
}
