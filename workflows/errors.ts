// Error text for the status and failure summaries: the message of the failure that really ended
// something (an activity's own error, a child's own failure), not Temporal's wrappers around it.
import { ActivityFailure, ChildWorkflowFailure } from '@temporalio/workflow';

export function errorMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while ((e instanceof ActivityFailure || e instanceof ChildWorkflowFailure) && e.cause) e = e.cause as typeof e;
  return (e?.message ?? String(err)).slice(0, 2000);
}
