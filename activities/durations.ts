// Plan durations for the activities' own deadlines (the parsing lives with the plan language).
import { parseDuration } from '../plan/durations.ts';

export { formatMs } from '../plan/durations.ts';

export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)} (expected e.g. 30s, 20m, 1h30m)`);
  return ms;
}
