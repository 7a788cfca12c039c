// Options every Sparky worker shares. The interceptor stamps each runStep result with the attempt
// that produced it, and each runStep failure with the attempt that failed (a detail
// `{sparkyAttempt}`), so the run's status can say "succeeded on attempt 2" or "failed after 3"
// whatever stopped the retries (workflows cannot see activity attempts themselves).
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import type { FailedAttemptDetail } from '../common/activity-types.ts';

export const stampAttempt: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const step = ctx.info.activityType === 'runStep';
      let result: unknown;
      try {
        result = await next(input);
      } catch (err) {
        if (step && err instanceof ApplicationFailure) {
          const detail: FailedAttemptDetail = { sparkyAttempt: ctx.info.attempt };
          (err as { details?: unknown[] | null }).details = [...(err.details ?? []), detail];
        }
        throw err;
      }
      if (step && result !== null && typeof result === 'object' && !Array.isArray(result)) {
        return { ...(result as object), attempt: ctx.info.attempt };
      }
      return result;
    },
  },
});

/**
 * Shared defaults: a grace period so a SIGTERM lets running steps finish or notice cancellation, and
 * heartbeats sent within a second or two even for steps without a heartbeatTimeout (Temporal would
 * otherwise throttle them to 30s, and a cancelled run would wait that long for its steps to stop).
 */
export function sparkyWorkerOptions(): Pick<WorkerOptions, 'interceptors' | 'shutdownGraceTime' | 'maxConcurrentActivityTaskExecutions'
  | 'defaultHeartbeatThrottleInterval' | 'maxHeartbeatThrottleInterval'> {
  return {
    defaultHeartbeatThrottleInterval: '1s',
    maxHeartbeatThrottleInterval: '5s',
    interceptors: { activity: [stampAttempt] },
    shutdownGraceTime: process.env.SPARKY_SHUTDOWN_GRACE ?? '10s',
    maxConcurrentActivityTaskExecutions: Number(process.env.SPARKY_MAX_ACTIVITIES ?? 32),
  };
}
