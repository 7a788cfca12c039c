// Following a run until it ends: live progress, and at each waiting gate either automatic approval
// (--auto-approve NAME…), a prompt in a terminal (npm start), or the printed ways to approve it.
import { statusQuery } from '../workflows/messages.ts';
import readline from 'node:readline';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { RunStatus } from '../workflows/status.ts';
import { ProgressPrinter, waitingGate } from './progress.ts';

export interface WatchOptions {
  /** Approve each waiting gate as these people, in order, until its quorum is met. */
  autoApprove?: string[];
  /** Ask for approvals on the terminal (only when stdin is a TTY). */
  interactive?: boolean;
  pollMs?: number;
}

export interface WatchResult { state: string; status?: RunStatus; error?: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function watchRun(handle: WorkflowHandle, options: WatchOptions = {}): Promise<WatchResult> {
  const printer = new ProgressPrinter();
  const tried = new Set<string>();
  let status: RunStatus | undefined;
  for (;;) {
    const { status: wfStatus } = await handle.describe();
    try { status = await handle.query(statusQuery); } catch { /* not started yet / closed without a worker */ }
    if (status) printer.update(status);
    if (wfStatus.name !== 'RUNNING') break;

    const gate = status && waitingGate(status);
    if (gate && options.autoApprove?.length) {
      for (const name of options.autoApprove) {
        const key = `${gate.id}/${name}`;
        if (tried.has(key) || gate.approvals.includes(name)) continue;
        tried.add(key);
        await decide(handle, gate.id, name, 'approve', 'auto-approved (sparky --auto-approve)');
        break; // re-read the status before the next vote
      }
    } else if (gate && options.interactive && process.stdin.isTTY) {
      printer.done();
      await promptForDecision(handle, gate.id, gate.approvers);
    }
    await sleep(options.pollMs ?? 1000);
  }
  printer.done();
  try {
    await handle.result();
    return { state: 'completed', status };
  } catch (err) {
    const error = err instanceof WorkflowFailedError ? `${err.message}: ${(err.cause as Error | undefined)?.message ?? ''}` : (err as Error).message;
    return { state: status?.state ?? 'failed', status, error };
  }
}

async function decide(handle: WorkflowHandle, gate: string, approver: string, decision: 'approve' | 'reject', comment: string): Promise<boolean> {
  try {
    await handle.executeUpdate('decideGate', { args: [{ gate, approver, decision, comment }] });
    console.log(`${decision === 'approve' ? 'approved' : 'rejected'} ${gate} as ${approver}`);
    return true;
  } catch (err) {
    const reason = err instanceof WorkflowUpdateFailedError ? (err.cause as Error | undefined)?.message ?? err.message : (err as Error).message;
    console.log(`refused: ${decision} ${gate} as ${approver}: ${reason}`);
    return false;
  }
}

/**
 * Asks on the terminal: a name approves as that person, `reject NAME reason…` rejects, Enter waits.
 * If someone decides from another surface meanwhile, the prompt gives way.
 */
async function promptForDecision(handle: WorkflowHandle, gate: string, approvers: string[]): Promise<void> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  // In raw mode Ctrl-C reaches readline, not the process: pass it on so the stack stops as usual.
  rl.on('SIGINT', () => { rl.close(); process.emit('SIGINT'); });
  const answer = await new Promise<string | undefined>((resolve) => {
    rl.question(`\nApprove ${gate}? Type your name (${approvers.join('/')}) to approve, "reject NAME reason" to reject, Enter to keep waiting: `, resolve);
    const poll = setInterval(async () => {
      try {
        const s = await handle.query(statusQuery);
        const g = s.phases.map((p) => p.gate).find((x) => x?.id === gate);
        if (g?.state !== 'waiting') { clearInterval(poll); console.log('\n(decided elsewhere)'); resolve(undefined); }
      } catch { clearInterval(poll); resolve(undefined); }
    }, 1500);
    rl.once('close', () => clearInterval(poll));
  });
  rl.close();
  const text = answer?.trim();
  if (!text) return;
  const reject = text.match(/^reject\s+(\S+)\s*(.*)$/i);
  if (reject) await decide(handle, gate, reject[1], 'reject', reject[2] || 'rejected at the terminal');
  else await decide(handle, gate, text, 'approve', 'approved at the terminal');
}
