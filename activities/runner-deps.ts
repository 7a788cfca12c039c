// What the step runners need from the worker that hosts them (a subset of ActivityDeps in index.ts).
export interface RunnerDeps {
  /** Root of the per-step logs (`<logDir>/<run>/<workstream>/<step>.log`). */
  logDir: string;
  /** Base for relative `cwd`, `context`, `file` and output paths; defaults to the worker's cwd. */
  workdir?: string;
  /** SIGTERM → SIGKILL grace when a step's process tree is ended. */
  killGraceMs?: number;
  /**
   * How much of a step's output its result keeps (default 64 KiB). Results enter workflow history:
   * a plan with thousands of chatty steps may want less.
   */
  tailBytes?: number;
  /** The worker's pinned GPU queue, reported in results. */
  pinnedTaskQueue?: string;
  /** The `just` program for `just` steps (workers pass host/paths.ts JUST_BIN; default: `just` on PATH). */
  justBin?: string;
}
