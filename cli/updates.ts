// Every decision the CLI sends goes through an update, so a refusal (the workflow's validator says why)
// comes back at once: printed with its reason and exit code 4, nothing sent to the run's history.
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CliError } from './connection.ts';

/** Exit code of a refused decision (docs/operations.md). */
export const REFUSED_EXIT = 4;

export async function sendUpdate<T>(handle: WorkflowHandle, name: string, input: object): Promise<T> {
  try {
    return await handle.executeUpdate(name, { args: [input] }) as T;
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      throw new CliError(`refused: ${(err.cause as Error | undefined)?.message ?? err.message}`, REFUSED_EXIT);
    }
    throw err;
  }
}
