// Plan durations as milliseconds for Temporal's options: Temporal's own duration strings do not
// accept combined units (`1h30m`), so the workflows always pass numbers.
import { parseDuration } from '../plan/durations.ts';

export { formatMs } from '../plan/durations.ts';

/** Milliseconds of a plan duration; undefined for undefined. Throws on text that is not a duration. */
export function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: "${text}" (expected e.g. 30s, 20m, 1h30m)`);
  return Math.round(ms);
}
