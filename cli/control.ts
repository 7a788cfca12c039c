// `sparky pause | resume | cancel <run>`: signals (pause/resume) and workflow cancellation.
import { connectClient } from './connection.ts';
import { resolveRun } from './runs.ts';

export async function controlCommand(run: string, action: 'pause' | 'resume' | 'cancel'): Promise<number> {
  const client = await connectClient();
  const handle = await resolveRun(client, run);
  if (action === 'cancel') {
    await handle.cancel();
    console.log(`cancellation requested for ${handle.workflowId}: running steps are cancelled, then compensations run`);
  } else {
    await handle.signal(action, {});
    console.log(action === 'pause'
      ? `paused ${handle.workflowId}: no new step starts; running steps finish`
      : `resumed ${handle.workflowId}`);
  }
  return 0;
}
