// Options every Sparky worker shares. The interceptor stamps each runStep result with the attempt
// that produced it, so the run's status can say "succeeded on attempt 2" (workflows cannot see
// activity attempts themselves).
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';

export const stampAttempt: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const result = await next(input);
      if (ctx.info.activityType === 'runStep' && result !== null && typeof result === 'object' && !Array.isArray(result)) {
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
