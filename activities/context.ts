// The Temporal activity context, when there is one. Runners also work outside an activity (a direct
// call from a script or test), where there is nothing to heartbeat to and nothing to cancel them.
import { Context } from '@temporalio/activity';

export function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Where this attempt runs: the task queue it was taken from and its attempt number. */
export function attemptInfo(): { taskQueue: string; attempt: number; deadlineMs?: number } {
  const info = currentActivity()?.info;
  if (!info) return { taskQueue: 'local', attempt: 1 };
  // startToClose bounds one attempt; the worker kills the process tree itself when it is reached,
  // because the server only learns of the timeout and cannot reach into this machine.
  const deadlineMs = info.startToCloseTimeoutMs > 0 ? info.startToCloseTimeoutMs : undefined;
  return { taskQueue: info.taskQueue, attempt: info.attempt, deadlineMs };
}
