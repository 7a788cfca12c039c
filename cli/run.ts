// `sparky run <plan> [--wait] [--auto-approve NAME…]`: validate the plan here (errors with file:line:col),
// then start a metaOrchestrator run with its id, memo and search attributes, and optionally follow it.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { runWorkflowId } from '../common/ids.ts';
import { SparkyPlan, SparkyState, SparkyGate, SparkyPhase } from '../common/search-attributes.ts';
import { CPU_TASK_QUEUE } from '../common/task-queues.ts';
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import type { Plan } from '../plan/schema.ts';
import { buildStartStatement, planDigest } from '../common/gate-statement.ts';
import { starterRefusal, verifyStarter, type StartedBy } from '../common/signed-decision.ts';
import { sshSign } from './ssh-sign.ts';
import { CliError, connectClient, findWebUi, webUiText } from './connection.ts';
import { rememberLastRun } from './runs.ts';
import { watchRun } from './watch.ts';
import { count } from '../common/plural.ts';

export interface RunCommandOptions {
  wait?: boolean;
  /** Follow a run of the same plan that is still running instead of starting another (`sparky dev`). */
  resume?: boolean;
  autoApprove?: string[];
  id?: string;
  interactive?: boolean;
  /** Who starts the run (recorded as options.startedBy; preventSelfApproval keeps them from approving). */
  as?: string;
  /** Sign the start statement with this key (or its .pub through ssh-agent), so the starter is known by key too. */
  key?: string;
  client?: Client;
}

/** A short run id people can type: time of day + 4 random hex digits, e.g. 20261124-1107-3fa2. */
export function newRunId(date = new Date()): string {
  const stamp = date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 13);
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export function planMemo(plan: Plan): Record<string, unknown> {
  const workstreams = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams));
  return {
    plan: plan.name,
    version: plan.version ?? null,
    description: plan.description ?? null,
    phases: plan.phases.map((p) => `${p.id}${p.gate ? ` → ${p.gate.id}` : ''}`).join(' | '),
    domains: plan.phases.flatMap((p) => p.domains.map((d) => d.id)).join(', '),
    workstreams: workstreams.length,
    steps: workstreams.reduce((n, w) => n + w.steps.length, 0),
  };
}

/** Who starts a run: --as, else SPARKY_USER, else the login name. */
export function starterName(as?: string): string {
  return as || process.env.SPARKY_USER || os.userInfo().username;
}

/**
 * options.startedBy, signed when a key is given: the statement names the plan digest and the run.
 * Checked here as the workflow will check it, so a start the run would refuse (a plan whose keyed
 * gates have preventSelfApproval, started without a key the plan lists for that name) starts nothing.
 */
export async function startedBy(plan: Plan, workflowId: string, name: string, key?: string): Promise<StartedBy> {
  let by: StartedBy = { name };
  if (key) {
    const signedAt = new Date().toISOString();
    const digest = planDigest(plan);
    const statement = buildStartStatement({ plan: plan.name, planDigest: digest, run: workflowId, by: name, time: signedAt });
    by = { name, signature: await sshSign(statement, key), signedAt };
  }
  const verified = verifyStarter(by, { plan: plan.name, planDigest: planDigest(plan), run: workflowId });
  if (!verified.ok) throw new CliError(`the start signature does not verify: ${verified.reason}`, 2);
  const why = starterRefusal(plan, verified.starter);
  if (why) throw new CliError(`${why}; nothing was started`, 2);
  return by;
}

export async function startRun(client: Client, plan: Plan, workflowId: string, starter?: StartedBy) {
  return client.workflow.start('metaOrchestrator', {
    taskQueue: CPU_TASK_QUEUE,
    workflowId,
    args: [{ plan, options: starter ? { startedBy: starter } : {} }],
    memo: planMemo(plan),
    typedSearchAttributes: [
      { key: SparkyPlan, value: plan.name },
      { key: SparkyState, value: 'running' },
      { key: SparkyPhase, value: plan.phases[0]?.id ?? '' },
      { key: SparkyGate, value: '' },
    ],
  });
}

/**
 * The newest run of this plan that is still running, if any: `npm start` after a Ctrl-C follows the
 * unfinished run rather than starting a second one beside it (each run has its own files, under
 * SPARKY_RUN_DIR, so a second one would be correct, just unexpected).
 */
async function runningRunOf(client: Client, planName: string): Promise<string | undefined> {
  const query = `WorkflowType = 'metaOrchestrator' AND SparkyPlan = '${planName}' AND ExecutionStatus = 'Running'`;
  let newest: { id: string; start: number } | undefined;
  for await (const wf of client.workflow.list({ query, pageSize: 100 })) {
    const start = wf.startTime.getTime();
    if (!newest || start > newest.start) newest = { id: wf.workflowId, start };
  }
  return newest?.id;
}

export async function runCommand(file: string, opts: RunCommandOptions): Promise<number> {
  const loaded = await loadPlanFile(file);
  if (!loaded.ok || !loaded.plan) {
    console.error(formatErrors(loaded.errors));
    throw new CliError(`${file}: the plan is invalid (${count(loaded.errors.length, 'problem')}); nothing was started`, 2);
  }
  const plan = loaded.plan;
  const client = opts.client ?? await connectClient();
  const earlier = opts.resume ? await runningRunOf(client, plan.name) : undefined;
  const workflowId = earlier ?? opts.id ?? runWorkflowId(plan.name, newRunId());
  const handle = earlier ? client.workflow.getHandle(earlier)
    : await startRun(client, plan, workflowId, await startedBy(plan, workflowId, starterName(opts.as), opts.key));
  rememberLastRun(workflowId);
  console.log(earlier
    ? `following ${workflowId}: a run of plan ${plan.name} started earlier and is still running (start another with \`npx sparky run ${file}\`)`
    : `started ${workflowId}`);
  console.log(`  status:  npx sparky status ${workflowId}`);
  await findWebUi();
  console.log(`  Web UI:  ${webUiText(workflowId)}`);
  if (!opts.wait) return 0;
  const result = await watchRun(handle, { autoApprove: opts.autoApprove, interactive: opts.interactive });
  if (result.state === 'completed') { console.log(`\n${workflowId} completed`); return 0; }
  console.log(`\n${workflowId} ${result.state}${result.error ? `: ${result.error}` : ''}`);
  return result.state === 'cancelled' ? 130 : 1;
}
