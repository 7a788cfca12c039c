// Following a run until it ends: live progress, and at each waiting gate either automatic approval
// (--auto-approve NAME…), a prompt in a terminal (npm start), or the printed ways to approve it; when a
// step needs attention, a prompt offering retry / skip / recheck / abort.
import { statusQuery } from '../workflows/messages.ts';
import readline from 'node:readline';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { RunStatus } from '../workflows/status.ts';
import { findWebUi } from './connection.ts';
import { liveAgents } from './agent-live.ts';
import { signDecision } from './decide.ts';
import { ProgressPrinter, waitingGate } from './progress.ts';
import { failedGate, needingAttention } from '../workflows/run-text.ts';

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
  await findWebUi();
  const printer = new ProgressPrinter();
  const tried = new Set<string>();
  let status: RunStatus | undefined;
  for (;;) {
    const { status: wfStatus } = await handle.describe();
    try { status = await handle.query(statusQuery); } catch { /* not started yet / closed without a worker */ }
    if (status) printer.update(status, await liveAgents(handle.client, status));
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
      await promptForDecision(handle, gate.id, gate.approvers, gate.signedApprovers ?? []);
    } else if (status?.state === 'attention' && options.interactive && process.stdin.isTTY) {
      printer.done();
      await promptForAttention(handle, status);
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

async function decide(handle: WorkflowHandle, gate: string, approver: string, decision: 'approve' | 'reject', comment: string,
  rework?: string[], key?: string): Promise<boolean> {
  try {
    const signed = key ? await signDecision(handle, gate, decision, comment, key) : undefined;
    await handle.executeUpdate('decideGate', { args: [{
      gate, approver, decision, comment, ...(rework?.length ? { rework } : {}),
      ...(signed ? { signature: signed.signature, signedAt: signed.signedAt } : {}),
    }] });
    console.log(`${decision === 'approve' ? 'approved' : 'rejected'} ${gate} as ${approver}${signed?.fingerprint ? ` (signed, key ${signed.fingerprint})` : ''}`);
    return true;
  } catch (err) {
    const reason = err instanceof WorkflowUpdateFailedError ? (err.cause as Error | undefined)?.message ?? err.message : (err as Error).message;
    console.log(`refused: ${decision} ${gate} as ${approver}: ${reason}`);
    return false;
  }
}

/**
 * Asks on the terminal: a name approves as that person (`NAME --key FILE` signs, as approvers with keys
 * must), `reject NAME [--key FILE] [--rework WS,…] reason…` rejects, Enter waits. Only what the gate
 * would accept is offered. If someone decides from another surface meanwhile, the prompt gives way.
 */
async function promptForDecision(handle: WorkflowHandle, gate: string, approvers: string[], signers: string[]): Promise<void> {
  const unsigned = approvers.filter((a) => !signers.includes(a));
  const ways = [
    ...(unsigned.length ? [`your name (${unsigned.join('/')}) to approve`] : []),
    ...(signers.length ? [`"NAME --key ~/.ssh/id_ed25519" to approve signed (${signers.join('/')} must sign)`] : []),
  ];
  const text = await ask(`\nApprove ${gate}? Type ${ways.join(', or ')}; "reject NAME${signers.length ? ' [--key FILE]' : ''} [--rework WS-06,…] reason" to reject; Enter to keep waiting: `,
    async () => {
      const s = await handle.query(statusQuery);
      return s.phases.map((p) => p.gate).find((x) => x?.id === gate)?.state !== 'waiting';
    });
  if (!text) return;
  const m = text.match(/^(reject\s+)?(\S+)((?:\s+--(?:key|rework)\s+\S+)*)\s*(.*)$/i);
  if (!m) { console.log(`not understood: ${text}`); return; }
  const key = /--key\s+(\S+)/.exec(m[3])?.[1];
  const rework = /--rework\s+(\S+)/.exec(m[3])?.[1]?.split(',');
  if (m[1]) await decide(handle, gate, m[2], 'reject', m[4] || 'rejected at the terminal', rework, key);
  else await decide(handle, gate, m[2], 'approve', m[4] || 'approved at the terminal', undefined, key);
}

/** Reads one line, giving way (undefined) when `moved` says the run no longer waits for it. */
async function ask(question: string, moved: () => Promise<boolean>): Promise<string | undefined> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  rl.on('SIGINT', () => { rl.close(); process.emit('SIGINT'); });
  const answer = await new Promise<string | undefined>((resolve) => {
    rl.question(question, resolve);
    const poll = setInterval(async () => {
      try {
        if (await moved()) { clearInterval(poll); console.log('\n(decided elsewhere)'); resolve(undefined); }
      } catch { clearInterval(poll); resolve(undefined); }
    }, 1500);
    rl.once('close', () => clearInterval(poll));
  });
  rl.close();
  return answer?.trim() || undefined;
}

/**
 * A step (or a gate's checks) needs a person: `retry NAME`, `skip NAME reason…`, `recheck NAME`,
 * `abort NAME reason…`, or Enter to keep waiting. Each goes through the `resolve` update.
 */
async function promptForAttention(handle: WorkflowHandle, status: RunStatus): Promise<void> {
  const ws = needingAttention(status)[0];
  const gate = failedGate(status);
  const step = ws ? `${ws.id}/${ws.attention?.step}` : undefined;
  const what = !step
    ? (gate?.state === 'merge-conflict'
      ? `gate ${gate.id}: the merge conflicts in ${gate.mergeConflict?.files.join(', ') || '(see sparky status)'}; resolve it, then recheck`
      : `gate ${gate?.id}: checks failed`)
    : ws?.attention?.cause === 'rework' ? `${ws.id} waits for rework (${ws.attention.reason.split('\n')[0]}); "retry" runs it again` : `${step} needs attention`;
  const verbs = step ? '"retry NAME", "skip NAME reason"' : '"recheck NAME"';
  const text = await ask(`\n${what}. Type ${verbs}, "abort NAME reason", or Enter to keep waiting: `, async () => {
    const s = await handle.query(statusQuery);
    return s.state !== 'attention';
  });
  const m = text?.match(/^(retry|skip|recheck|abort)\s+(\S+)\s*(.*)$/i);
  if (!text) return;
  if (!m) { console.log(`not understood: ${text}`); return; }
  const action = ({ retry: 'retryStep', skip: 'skipStep', recheck: 'recheckGate', abort: 'abort' } as const)[m[1].toLowerCase() as 'retry'];
  const input = { action, by: m[2], step, gate: gate?.id, comment: m[3] || (action === 'retryStep' ? 'retried at the terminal' : undefined) };
  try {
    const result = await handle.executeUpdate('resolve', { args: [input] }) as { accepted: string };
    console.log(result.accepted);
  } catch (err) {
    console.log(`refused: ${err instanceof WorkflowUpdateFailedError ? (err.cause as Error | undefined)?.message ?? err.message : (err as Error).message}`);
  }
}
