// "Did you mean …?" for unknown ids and field names: the closest candidate within a few edits. Pure.

/**
 * ` (did you mean "WS-09"?)` when a known name is close: one edit for words up to 5 characters, two
 * for longer ones (so "zz" suggests nothing rather than "w").
 */
export function suggest(word: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDist = word.length > 5 ? 3 : 2;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) >= bestDist) continue;
    const d = editDistance(word, c, bestDist);
    if (d < bestDist) { best = c; bestDist = d; }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string, cap: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      rowMin = Math.min(rowMin, cur[j]);
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return prev[b.length];
}
