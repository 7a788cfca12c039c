// The statement fields of a decision on a live run, from the run itself: plan name, run id and the
// gate's check results from the status query, the plan digest from the status (or, for a run that
// does not report it, from the plan in the run's start event, validated as the workflow does).
// One definition for `sparky statement`, `sparky approve|reject --key` and `sparky run --key`.
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { checksDigest, planDigest, type StatementFields } from '../common/gate-statement.ts';
import { resolvePlanPaths } from '../plan/paths.ts';
import { validatePlan } from '../plan/validate.ts';
import { statusQuery } from '../workflows/messages.ts';
import type { GateStatus, RunStatus } from '../workflows/status.ts';
import { CliError } from './connection.ts';
import { attributes, parseHistoryText, payloadsOf } from './history-json.ts';

/** Status fields a run with signed gates reports (older runs: computed here). */
type SignedStatus = RunStatus & { planDigest?: string };
type SignedGate = GateStatus & { checksDigest?: string };

/** The digest of the plan a run was started with (its start event's input, validated and resolved). */
export async function startPlanDigest(handle: WorkflowHandle): Promise<string> {
  const history = parseHistoryText(historyToJSON(await handle.fetchHistory()), handle.workflowId);
  const [input] = payloadsOf(attributes(history.events[0]).input) as [{ plan?: unknown } | undefined];
  const result = validatePlan(input?.plan);
  if (!result.ok) throw new CliError(`${handle.workflowId}: the plan in its start event is not valid`, 2);
  return planDigest(resolvePlanPaths(result.plan));
}

/**
 * The statement fields of a decision on this run now. A run of release 0.2 reports its gates' rounds:
 * the statement then names the round and (for a rejection) the rework list (version 2); an older run
 * gets the statement its rules check (version 1).
 */
export async function statementFieldsOf(handle: WorkflowHandle, gateId: string, decision: 'approve' | 'reject', comment: string, time: string, rework: string[] = []): Promise<StatementFields> {
  const status = await handle.query(statusQuery) as SignedStatus;
  const gate = status.phases.find((p) => p.gate?.id === gateId)?.gate as SignedGate | undefined;
  if (!gate) {
    const known = status.phases.flatMap((p) => (p.gate ? [p.gate.id] : []));
    throw new CliError(`unknown gate "${gateId}" (gates of ${handle.workflowId}: ${known.join(', ') || 'none'})`, 2);
  }
  if (gate.state !== 'waiting') console.error(`note: gate ${gateId} is ${gate.state}, not waiting: a decision now would be refused`);
  return {
    plan: status.plan, planDigest: status.planDigest ?? await startPlanDigest(handle), run: status.runWorkflowId,
    gate: gateId, decision, comment, checksDigest: gate.checksDigest ?? checksDigest(gate.checks), time,
    ...(gate.round !== undefined ? { round: gate.round, rework } : {}),
  };
}
