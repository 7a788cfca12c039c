// `sparky schedule create|list|pause|unpause|trigger|backfill|delete`: runs of a plan on Temporal
// Schedules (visible on the Web UI's Schedules page), by cron expression or interval, with an overlap
// policy (what happens when a run is due while the last one still runs), a catch-up window (how late a
// missed run may still start after an outage), pause on failure, and the re-run options of `sparky
// run` (--only, --from, --no-cache). The plan is either copied into the schedule when it is created (a
// plan file) or read from a repository as committed when each run starts (`--committed`: the plan
// file's path and a ref; common/plan-ref.ts). A backfill starts, now, the runs the schedule would have
// started over a past time range (one after another unless --overlap says otherwise).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import { slug } from '../common/ids.ts';
import type { PlanRef } from '../common/plan-ref.ts';
import { SparkyGate, SparkyPhase, SparkyPlan, SparkyState } from '../common/search-attributes.ts';
import { starterRefusal } from '../common/signed-decision.ts';
import { CPU_TASK_QUEUE } from '../common/task-queues.ts';
import { parseDuration } from '../plan/durations.ts';
import { formatErrors, loadPlanFile, loadPlanText } from '../plan/load.ts';
import type { Plan } from '../plan/schema.ts';
import { CliError, connectClient } from './connection.ts';
import { planMemo, rerunOptions, starterName } from './run.ts';

export const OVERLAP: Record<string, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP, 'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE, 'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER, 'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER, 'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

/** The Temporal schedule id of a Sparky schedule name. */
export const scheduleId = (name: string) => `sparky-schedule-${slug(name)}`;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface CreateOptions {
  cron?: string[];
  every?: string;
  offset?: string;
  overlap?: string;
  catchupWindow?: string;
  pauseOnFailure?: boolean;
  paused?: boolean;
  note?: string;
  /** Read the plan from its repository as committed at `ref` when each run starts. */
  committed?: boolean;
  ref?: string;
  as?: string;
  only?: string[];
  from?: string[];
  cache?: boolean | string;
  client?: Client;
}

function overlapOf(value: string | undefined, fallback: ScheduleOverlapPolicy): ScheduleOverlapPolicy {
  if (value === undefined) return fallback;
  const policy = OVERLAP[value];
  if (!policy) throw new CliError(`--overlap ${value}: one of ${Object.keys(OVERLAP).join(', ')}`, 2);
  return policy;
}

function durationOf(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new CliError(`${flag} ${value}: a duration like 30s, 20m, 4h or 1d`, 2);
  return ms;
}

const git = (cwd: string, args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** The plan a schedule starts: loaded (and checked) now, and either copied in or named by its repository, path and ref. */
async function schedulePlan(file: string, opts: CreateOptions): Promise<{ plan: Plan; ref?: PlanRef }> {
  if (!opts.committed) {
    const loaded = await loadPlanFile(file);
    if (!loaded.ok || !loaded.plan) {
      console.error(formatErrors(loaded.errors));
      throw new CliError(`${file}: the plan is invalid (${loaded.errors.length} problem(s)); no schedule was created`, 2);
    }
    return { plan: loaded.plan };
  }
  const abs = path.resolve(file);
  let repo: string;
  try { repo = git(path.dirname(abs), ['rev-parse', '--show-toplevel']); } catch {
    throw new CliError(`--committed: ${file} is not in a git repository (a committed plan is read from its repository when each run starts)`, 2);
  }
  const rel = path.relative(repo, abs).split(path.sep).join('/');
  let ref = opts.ref;
  if (!ref) { try { ref = git(repo, ['symbolic-ref', '--short', 'HEAD']); } catch { ref = 'HEAD'; } } // the branch checked out (or HEAD, detached)
  let text: string;
  try { text = git(repo, ['show', `${ref}:${rel}`]); } catch {
    throw new CliError(`--committed: ${rel} is not committed at ${ref} in ${repo}: commit it first (each run reads it from there)`, 2);
  }
  const loaded = loadPlanText(text, abs, { baseDir: path.dirname(abs) });
  if (!loaded.ok || !loaded.plan) {
    console.error(formatErrors(loaded.errors));
    throw new CliError(`${rel} at ${ref} is not a valid plan (${loaded.errors.length} problem(s)); no schedule was created`, 2);
  }
  return { plan: loaded.plan, ref: { repo, path: rel, ref } };
}

export async function scheduleCreate(name: string, file: string, opts: CreateOptions): Promise<number> {
  if (!NAME_RE.test(name)) throw new CliError(`schedule name "${name}": letters, digits, ".", "_" or "-", starting with a letter or digit`, 2);
  if (!opts.cron?.length && !opts.every) throw new CliError('a schedule needs --cron "MIN HOUR DOM MON DOW" or --every DURATION (e.g. --every 1d)', 2);
  const every = durationOf('--every', opts.every);
  const offset = durationOf('--offset', opts.offset);
  const catchupWindow = durationOf('--catchup-window', opts.catchupWindow);
  const overlap = overlapOf(opts.overlap, ScheduleOverlapPolicy.SKIP);
  const { plan, ref } = await schedulePlan(file, opts);
  const rerun = rerunOptions(plan, opts);
  const by = `${starterName(opts.as)} (schedule ${name})`;
  const refusal = starterRefusal(plan, { name: by });
  if (refusal) throw new CliError(`${refusal}: a scheduled run cannot be started with a key, so this plan cannot be scheduled; no schedule was created`, 2);
  const client = opts.client ?? await connectClient();
  const id = scheduleId(name);
  const options: ScheduleOptions = {
    scheduleId: id,
    spec: {
      ...(opts.cron?.length && { cronExpressions: opts.cron }),
      ...(every !== undefined && { intervals: [{ every, ...(offset !== undefined && { offset }) }] }),
    },
    action: {
      type: 'startWorkflow', workflowType: 'metaOrchestrator', taskQueue: CPU_TASK_QUEUE,
      // Temporal adds the scheduled time to it: sparky-<plan>-<schedule>-2026-12-03T02:00:00Z.
      workflowId: `sparky-${slug(plan.name)}-${slug(name)}`,
      args: [{ ...(ref ? { planRef: ref } : { plan }), options: { startedBy: { name: by }, ...rerun } }],
      memo: { ...planMemo(plan), schedule: name, ...(ref && { planRef: `${ref.repo}:${ref.path}@${ref.ref}` }) },
      typedSearchAttributes: [
        { key: SparkyPlan, value: plan.name }, { key: SparkyState, value: 'running' },
        { key: SparkyPhase, value: plan.phases[0]?.id ?? '' }, { key: SparkyGate, value: '' },
      ],
    },
    policies: { overlap, ...(catchupWindow !== undefined && { catchupWindow }), pauseOnFailure: opts.pauseOnFailure === true },
    state: { paused: opts.paused === true, note: opts.note ?? `sparky schedule create by ${starterName(opts.as)}` },
    memo: { plan: plan.name, ...(ref && { planRef: `${ref.repo}:${ref.path}@${ref.ref}` }) },
    typedSearchAttributes: [{ key: SparkyPlan, value: plan.name }],
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if ((err as Error).name === 'ScheduleAlreadyRunning') throw new CliError(`a schedule named ${name} exists (${id}): delete it first, or choose another name`, 2);
    throw err;
  }
  const described = await client.schedule.getHandle(id).describe();
  console.log(`created schedule ${name} (${id}): plan ${plan.name}${ref ? ` as committed at ${ref.ref} in ${ref.repo} (${ref.path})` : ` (copied from ${file})`}`);
  console.log(`  next runs: ${described.info.nextActionTimes.slice(0, 3).map((d) => d.toISOString()).join(', ') || 'none'}${opts.paused ? ' (paused)' : ''}`);
  console.log('  Web UI: Schedules page; runs: temporal workflow list --query "TemporalScheduledById=\'' + id + '\'"');
  return 0;
}

async function handleOf(client: Client, name: string) {
  const handle = client.schedule.getHandle(scheduleId(name));
  try {
    return { handle, described: await handle.describe() };
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new CliError(`no schedule named ${name} (${scheduleId(name)}): \`sparky schedule list\` shows them`, 2);
    throw err;
  }
}

function specText(d: ScheduleDescription): string {
  const parts = [
    ...(d.spec.calendars ?? []).map((c) => `calendar ${JSON.stringify(c)}`),
    ...(d.spec.intervals ?? []).map((i) => `every ${Math.round(Number(i.every) / 1000)}s`),
  ];
  return parts.join('; ') || 'no spec';
}

/** One line per Sparky schedule: name, plan, when, policies, paused, next and last runs. */
export async function scheduleList(opts: { json?: boolean; client?: Client }): Promise<number> {
  const client = opts.client ?? await connectClient();
  const rows: Record<string, unknown>[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith('sparky-schedule-')) continue;
    const d = await client.schedule.getHandle(s.scheduleId).describe();
    rows.push({
      name: s.scheduleId.replace(/^sparky-schedule-/, ''), id: s.scheduleId, plan: d.memo?.plan, planRef: d.memo?.planRef, spec: specText(d),
      overlap: d.policies.overlap, catchupWindowMs: d.policies.catchupWindow, pauseOnFailure: d.policies.pauseOnFailure,
      paused: d.state.paused, note: d.state.note, runs: d.info.numActionsTaken,
      next: d.info.nextActionTimes.slice(0, 2).map((t) => t.toISOString()),
      recent: d.info.recentActions.slice(-3).map((a) => ('workflowId' in a.action ? a.action.workflowId : '')),
    });
  }
  if (opts.json) { console.log(JSON.stringify(rows, null, 2)); return 0; }
  if (rows.length === 0) { console.log('no Sparky schedules (create one with `sparky schedule create NAME PLAN --every 1d`)'); return 0; }
  for (const r of rows) {
    console.log(`${r.name}  plan ${r.plan}${r.planRef ? ` (committed: ${r.planRef})` : ''}  ${r.spec}  overlap ${r.overlap}${r.pauseOnFailure ? '  pause-on-failure' : ''}`
      + `  ${r.paused ? `PAUSED${r.note ? ` (${r.note})` : ''}` : 'active'}  runs ${r.runs}${(r.next as string[]).length ? `  next ${(r.next as string[])[0]}` : ''}`);
  }
  return 0;
}

export async function schedulePause(name: string, pause: boolean, opts: { note?: string; client?: Client }): Promise<number> {
  const client = opts.client ?? await connectClient();
  const { handle } = await handleOf(client, name);
  if (pause) await handle.pause(opts.note ?? `paused by ${starterName()}`);
  else await handle.unpause(opts.note ?? `unpaused by ${starterName()}`);
  console.log(`schedule ${name} ${pause ? 'paused: no run starts until `sparky schedule unpause`' : 'unpaused'}`);
  return 0;
}

export async function scheduleTrigger(name: string, opts: { overlap?: string; client?: Client }): Promise<number> {
  const client = opts.client ?? await connectClient();
  const { handle, described } = await handleOf(client, name);
  await handle.trigger(overlapOf(opts.overlap, described.policies.overlap));
  console.log(`schedule ${name}: a run starts now${described.state.paused ? ' (the schedule itself stays paused)' : ''}`);
  return 0;
}

export async function scheduleBackfill(name: string, opts: { start: string; end: string; overlap?: string; client?: Client }): Promise<number> {
  const start = new Date(opts.start);
  const end = new Date(opts.end);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) throw new CliError('--start and --end: times like 2026-12-01T00:00:00Z', 2);
  if (end <= start) throw new CliError('--end must be after --start', 2);
  const client = opts.client ?? await connectClient();
  const { handle } = await handleOf(client, name);
  // The runs it would have started, now: one after another by default (a backfill does not skip a run because the one before still runs).
  await handle.backfill({ start, end, overlap: overlapOf(opts.overlap, ScheduleOverlapPolicy.BUFFER_ALL) });
  console.log(`schedule ${name}: backfilling ${start.toISOString()} → ${end.toISOString()} (runs start as the schedule would have started them)`);
  return 0;
}

export async function scheduleDelete(name: string, opts: { client?: Client }): Promise<number> {
  const client = opts.client ?? await connectClient();
  const { handle } = await handleOf(client, name);
  await handle.delete();
  console.log(`schedule ${name} deleted (runs it started are not touched)`);
  return 0;
}
