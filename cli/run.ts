// `sparky run <plan> [--wait] [--auto-approve NAME…] [--only WS… | --from WS…] [--no-cache [WS…]] [--dry-run]`:
// validate the plan here (errors with file:line:col), then start a metaOrchestrator run with its id,
// memo and search attributes, and optionally follow it. A dry run waits for its report and prints it.
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
import type { RunOptions } from '../workflows/run-context.ts';
import { rerunOptionErrors } from '../workflows/validate-input.ts';
import { printDryRun } from './dry-run.ts';
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
  /** Re-runs: `--only`, `--from` (workstream ids), `--no-cache` (commander: false for all, or a list), `--dry-run`. */
  only?: string[];
  from?: string[];
  cache?: boolean | string;
  dryRun?: boolean;
  /** With --dry-run: print the report as JSON. */
  json?: boolean;
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

/** The run options `--only`, `--from`, `--no-cache` and `--dry-run` give (checked against the plan here, as the run will). */
export function rerunOptions(plan: Plan, opts: Pick<RunCommandOptions, 'only' | 'from' | 'cache' | 'dryRun'>): RunOptions {
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
  const options: RunOptions = {
    ...(opts.only?.length && { only: opts.only }), ...(opts.from?.length && { from: opts.from }),
    ...(opts.cache === false && { noCache: true }), ...(typeof opts.cache === 'string' && { noCache: list(opts.cache) }),
    ...(opts.dryRun && { dryRun: true }),
  };
  const errors = rerunOptionErrors(plan, options);
  if (errors.length) {
    const hint = typeof opts.cache === 'string' && /\.(ya?ml|json)$/.test(opts.cache) ? ' (--no-cache takes workstreams: put the plan first, `sparky run PLAN --no-cache [WS,…]`)' : '';
    throw new CliError(`${errors.map((e) => `--${e.path.replace('options.', '').replace('noCache', 'no-cache')}: ${e.message}`).join('\n')}${hint}; nothing was started`, 2);
  }
  return options;
}

export async function startRun(client: Client, plan: Plan, workflowId: string, starter?: StartedBy, rerun: RunOptions = {}) {
  return client.workflow.start('metaOrchestrator', {
    taskQueue: CPU_TASK_QUEUE,
    workflowId,
    args: [{ plan, options: { ...(starter && { startedBy: starter }), ...rerun } }],
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
  const rerun = rerunOptions(plan, opts);
  const client = opts.client ?? await connectClient();
  if (rerun.dryRun) {
    // Nothing runs: a short workflow asks each step's worker what it would do, and returns the report.
    const id = opts.id ?? runWorkflowId(plan.name, `dry-${newRunId()}`);
    const handle = await startRun(client, plan, id, undefined, rerun);
    const result = await handle.result() as { dryRun?: import('../workflows/dry-run.ts').DryRunReport };
    if (!result.dryRun) throw new CliError(`${id}: the workers answered without a dry-run report (an older Sparky build?)`, 1);
    if (opts.json) console.log(JSON.stringify(result.dryRun, null, 2));
    else printDryRun(result.dryRun, file);
    return 0;
  }
  const earlier = opts.resume ? await runningRunOf(client, plan.name) : undefined;
  const workflowId = earlier ?? opts.id ?? runWorkflowId(plan.name, newRunId());
  const handle = earlier ? client.workflow.getHandle(earlier)
    : await startRun(client, plan, workflowId, await startedBy(plan, workflowId, starterName(opts.as), opts.key), rerun);
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
