// Plan durations as milliseconds for Temporal's options: Temporal's own duration strings do not
// accept combined units (`1h30m`), so the workflows always pass numbers. One parser, in plan/ (pure).
export { durationMs, formatMs } from '../plan/durations.ts';
