// Sagas: every finished step with a `compensate` is pushed here (by the metaOrchestrator, from its
// children's progress reports, so one saga covers the whole run across phases and domains). On
// failure, rejection or cancellation the compensations run newest first, each as a `runStep` with
// ctx.compensation = true, inside a scope the run's own cancellation cannot cut short. A rework
// (a gate's rejection naming workstreams) undoes only those workstreams' entries. A step taken from
// the cache did not run in this run: its compensation is skipped, and its row says so.
import { CancellationScope } from '@temporalio/workflow';
import type { SagaEntry } from './progress.ts';
import { resolvePool } from './pools.ts';
import type { RunContext } from './run-context.ts';
import { now, type CompensationStatus } from './status.ts';
import { activityOptions, runStepActivity, stepContext, substituteStep } from './steps.ts';
import { errorMessage } from './errors.ts';

export interface CompensationReport {
  compensated: string[];
  skipped: string[];
  failed: { of: string; error: string }[];
}

export class Saga {
  private readonly entries: SagaEntry[] = [];
  private readonly seen = new Set<string>();

  /** Idempotent per step: a progress report delivered twice pushes once. */
  push(entry: SagaEntry): void {
    if (this.seen.has(entry.of)) return;
    this.seen.add(entry.of);
    this.entries.push(entry);
  }

  get size(): number { return this.entries.length; }

  private forget(of: string): void {
    this.seen.delete(of);
    const i = this.entries.findIndex((e) => e.of === of);
    if (i >= 0) this.entries.splice(i, 1);
  }

  /** Newest first, by the workflow time the steps finished (arrival order breaks ties). */
  newestFirst(): SagaEntry[] {
    return this.entries.map((e, i) => ({ e, i }))
      .sort((a, b) => (a.e.finishedAt === b.e.finishedAt ? b.i - a.i : a.e.finishedAt < b.e.finishedAt ? 1 : -1))
      .map(({ e }) => e);
  }

  /**
   * Runs every compensation, newest first, one at a time (an undo often depends on the later undo
   * having happened). A failing compensation is recorded and the rest still run.
   */
  compensate(run: Omit<RunContext, 'phaseId'>, outputs: Record<string, Record<string, unknown>>,
    statuses: CompensationStatus[], onChange: () => void = () => undefined,
    only: (entry: SagaEntry) => boolean = () => true): Promise<CompensationReport> {
    return CancellationScope.nonCancellable(async () => {
      const report: CompensationReport = { compensated: [], skipped: [], failed: [] };
      const order = this.newestFirst().filter(only);
      // Taken off the stack now: a step undone for rework is pushed again when it runs again.
      for (const e of order) this.forget(e.of);
      const rows = order.map((e): CompensationStatus => ({ of: e.of, stepId: e.compensate.id, state: 'pending', taskQueue: e.taskQueue }));
      statuses.push(...rows);
      for (const [i, entry] of order.entries()) {
        const row = rows[i];
        const ctxRun = { ...run, phaseId: entry.phaseId };
        if (entry.cached) {
          Object.assign(row, {
            state: 'skipped', finishedAt: now(),
            reason: `not undone: ${entry.of} was taken from the cache (run ${entry.cached.run}, made ${entry.cached.at}), so it did not run in this run; `
              + 'the outputs it brought in stay as they are',
          });
          report.skipped.push(entry.of);
          onChange();
          continue;
        }
        try {
          // The undo goes where the step ran (a pinned GPU's work is undone on that GPU) unless it names a pool.
          row.taskQueue = entry.compensate.pool ? resolvePool(entry.compensate.pool, run, run.cpuTaskQueue).taskQueue : entry.taskQueue;
          row.state = 'running';
          row.startedAt = now();
          onChange();
          const result = await runStepActivity({
            step: substituteStep(entry.compensate, outputs),
            ctx: stepContext(ctxRun, entry.domainId, entry.workstreamId, { ...entry.compensate, id: entry.stepId }, { compensation: true }),
          }, activityOptions(entry.compensate, ctxRun, row.taskQueue));
          row.state = result.status === 'skipped' ? 'skipped' : 'succeeded';
          (result.status === 'skipped' ? report.skipped : report.compensated).push(entry.of);
        } catch (err) {
          row.state = 'failed';
          row.error = errorMessage(err);
          report.failed.push({ of: entry.of, error: row.error });
        }
        row.finishedAt = now();
        onChange();
      }
      return report;
    });
  }
}
