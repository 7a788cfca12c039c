// The run's own directory on this worker, `<logDir>/<run workflow id>/` (beside the run's step logs),
// so that two runs of one plan never write into each other's files or into the checkout. Steps learn
// it as SPARKY_RUN_DIR in their environment, and a string of a step or gate check that starts with
// `$SPARKY_RUN_DIR` or `${SPARKY_RUN_DIR}` (argv, cwd, paths, outputs.file, outputDir, a file check's
// path) gets the directory in its place before the runner sees it, so plans can name files there
// without a shell. The loader leaves such paths alone (plan/paths.ts: `$…` is not resolved).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { safeSegment } from './logs.ts';

export const RUN_DIR_VAR = 'SPARKY_RUN_DIR';

export function runDir(logDir: string, runWorkflowId: string): string {
  return path.join(logDir, safeSegment(runWorkflowId));
}

/** Creates the run's directory (steps write into it without a `mkdir` of their own) and returns it. */
export function ensureRunDir(logDir: string, runWorkflowId: string): string {
  const dir = runDir(logDir, runWorkflowId);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const PREFIX = /^(\$SPARKY_RUN_DIR|\$\{SPARKY_RUN_DIR\})(?=$|\/)/;

/** A copy of `value` with every string that starts with `$SPARKY_RUN_DIR` pointing into `dir`. */
export function expandRunDir<T>(value: T, dir: string): T {
  if (typeof value === 'string') return (PREFIX.test(value) ? value.replace(PREFIX, () => dir) : value) as T;
  if (Array.isArray(value)) return value.map((item) => expandRunDir(item, dir)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandRunDir(v, dir)])) as T;
  }
  return value;
}
