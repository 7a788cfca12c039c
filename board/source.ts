// Where the board's data comes from: Temporal and nothing else. Runs are listed from visibility
// (WorkflowType metaOrchestrator, with Sparky's search attributes), a run is read with its `status`
// query and the `plan` query (the plan in force after revisions), its signatures are re-verified from
// its event history (cli/verify-history.ts, what `sparky verify` does), and step logs are read where
// the status says the worker wrote them, when that file is on this machine.
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { parseHistoryText } from '../cli/history-json.ts';
import { localStepLogPath } from '../cli/logs.ts';
import { verifyHistory, type HistoryVerification } from '../cli/verify-history.ts';
import type { Plan } from '../plan/schema.ts';
import { planQuery, statusQuery, type PlanInForce } from '../workflows/messages.ts';
import type { RunStatus } from '../workflows/status.ts';

export interface RunSummary {
  id: string;
  runId: string;
  plan: string;
  status: string;
  /** SparkyState (attention, waiting, …) while it runs. */
  state?: string;
  phase?: string;
  gate?: string;
  startTime: string;
  closeTime?: string;
}

const first = (v: unknown): string | undefined => (Array.isArray(v) ? (typeof v[0] === 'string' ? v[0] : undefined) : typeof v === 'string' ? v : undefined);

export class BoardSource {
  constructor(readonly client: Client) {}

  handle(id: string): WorkflowHandle {
    return this.client.workflow.getHandle(id);
  }

  /** Sparky runs, newest first (visibility; at most `limit`). */
  async listRuns(limit = 200): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    for await (const wf of this.client.workflow.list({ query: `WorkflowType = 'metaOrchestrator'`, pageSize: Math.min(limit, 200) })) {
      const sa = (wf.searchAttributes ?? {}) as Record<string, unknown>;
      out.push({
        id: wf.workflowId, runId: wf.runId, plan: first(sa.SparkyPlan) ?? '', status: wf.status.name,
        state: first(sa.SparkyState), phase: first(sa.SparkyPhase) || undefined, gate: first(sa.SparkyGate) || undefined,
        startTime: wf.startTime.toISOString(), ...(wf.closeTime ? { closeTime: wf.closeTime.toISOString() } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The run's status and the plan in force (undefined for a build without the plan query). */
  async run(id: string): Promise<{ status: RunStatus; plan?: Plan; planDigest?: string }> {
    const h = this.handle(id);
    const status = await h.query(statusQuery);
    const inForce = await h.query(planQuery).catch(() => undefined) as PlanInForce | undefined;
    return { status, plan: inForce?.plan as Plan | undefined, planDigest: inForce?.planDigest };
  }

  /** `sparky verify` of the run: every decision's signature checked from the history alone. */
  async verify(id: string): Promise<HistoryVerification> {
    const h = this.handle(id);
    const history = parseHistoryText(historyToJSON(await h.fetchHistory()), `history of ${id}`);
    return verifyHistory(history.events);
  }

  /** The last `maxBytes` of a step's log, when the file is on this machine. */
  stepLog(status: RunStatus, workstream: string, step: string, maxBytes = 256 * 1024): { path: string; text?: string; missing?: string } {
    const ws = status.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams)).find((w) => w.id === workstream);
    const st = ws?.steps.find((s) => s.id === step);
    if (!ws || !st) return { path: '', missing: `no step ${workstream}/${step} in run ${status.runWorkflowId}` };
    const file = st.logPath ?? localStepLogPath(status.runWorkflowId, workstream, step);
    if (!file.endsWith('.log') || !existsSync(file)) return { path: file, missing: `no log at ${file} on this machine (the step has not run, or ran on another host: \`sparky logs\` there)` };
    const size = statSync(file).size;
    const from = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - from);
    const fd = openSync(file, 'r');
    try { readSync(fd, buf, 0, buf.length, from); } finally { closeSync(fd); }
    return { path: file, text: `${from > 0 ? `… (${from} earlier bytes)\n` : ''}${buf.toString('utf8')}` };
  }
}
