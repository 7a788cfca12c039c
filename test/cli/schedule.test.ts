// `sparky schedule` on the real stack (a dev server, a real worker on queue `sparky`, the real CLI): a
// schedule is created (visible to `temporal schedule list`, the Web UI's source), triggered (a run
// starts, with Sparky's search attributes and the schedule's id), paused, backfilled over three
// intervals (three more runs, one per interval), listed and deleted; bad input is refused with what
// to do. A committed plan is read from its repository as committed when each run starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT, TEMPORAL_BIN } from '../../host/paths.ts';
import { CPU_TASK_QUEUE } from '../../common/task-queues.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { lines, useStack } from '../workflows/helpers.ts';
import { eventually } from '../helpers/wait.ts';

const stack = useStack({ taskQueue: CPU_TASK_QUEUE });
const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-schedule-'));

const sparky = (...args: string[]) => execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), ...args], {
  cwd: PROJECT_ROOT, reject: false, all: true, stdin: 'ignore', timeout: 60_000,
  env: { TEMPORAL_ADDRESS: stack.env.address, TEMPORAL_NAMESPACE: 'default', SPARKY_DATA_DIR: dir, SPARKY_USER: 'nightly-bot' },
});
const temporal = (...args: string[]) => execa(TEMPORAL_BIN, [...args, '--address', stack.env.address], { reject: false, all: true, stdin: 'ignore' });

function planFile(name: string, text: string): string {
  const file = path.join(dir, `${name}.plan.yaml`);
  writeFileSync(file, [
    `name: ${name}`, 'phases:', '  - id: p', '    domains:', '      - id: d', '        workstreams:', '          - id: W', '            steps:',
    `              - { id: s, kind: shell, run: [sh, -c, "echo ${text} >> ${path.join(dir, `${name}.log`)}"] }`, '',
  ].join('\n'));
  return file;
}

async function runsOf(scheduleId: string): Promise<{ id: string; status: string }[]> {
  const out: { id: string; status: string }[] = [];
  for await (const wf of stack.env.client.workflow.list({ query: `TemporalScheduledById = '${scheduleId}'` })) out.push({ id: wf.workflowId, status: wf.status.name });
  return out;
}

test('sparky schedule: created, triggered, paused, backfilled over three intervals (three runs), listed, deleted', { timeout: 240_000 }, async () => {
  const plan = planFile('nightly', 'ran');
  const id = 'sparky-schedule-nightly';
  // Bad input is refused, saying what to do.
  let r = await sparky('schedule', 'create', 'nightly', plan);
  assert.equal(r.exitCode, 2);
  assert.match(r.all ?? '', /a schedule needs --cron .* or --every DURATION/);
  r = await sparky('schedule', 'create', 'nightly', plan, '--every', '1h', '--only', 'NOPE');
  assert.equal(r.exitCode, 2);
  assert.match(r.all ?? '', /--only: unknown workstream "NOPE"/);

  r = await sparky('schedule', 'create', 'nightly', plan, '--every', '1h', '--overlap', 'buffer-one', '--catchup-window', '10m', '--pause-on-failure');
  assert.equal(r.exitCode, 0, r.all);
  assert.match(r.all ?? '', /created schedule nightly \(sparky-schedule-nightly\): plan nightly \(copied from/);
  // What the Web UI's Schedules page shows comes from here.
  const listed = await temporal('schedule', 'list', '--output', 'json');
  assert.match(listed.all ?? '', /sparky-schedule-nightly/);
  const d = await stack.env.client.schedule.getHandle(id).describe();
  assert.equal(d.policies.overlap, 'BUFFER_ONE');
  assert.equal(d.policies.pauseOnFailure, true);
  assert.equal(d.policies.catchupWindow, 600_000);
  assert.equal(Number(d.spec.intervals?.[0].every), 3_600_000);
  assert.equal(d.action.type, 'startWorkflow');
  r = await sparky('schedule', 'create', 'nightly', plan, '--every', '1h');
  assert.equal(r.exitCode, 2);
  assert.match(r.all ?? '', /a schedule named nightly exists/);

  // Triggered: a run starts now, with Sparky's search attributes.
  r = await sparky('schedule', 'trigger', 'nightly');
  assert.equal(r.exitCode, 0, r.all);
  const [first] = await eventually('the triggered run to complete', () => runsOf(id), (x) => x.length === 1 && x[0].status === 'COMPLETED', 60_000);
  assert.match(first.id, /^sparky-nightly-nightly-/);
  const described = await stack.env.client.workflow.getHandle(first.id).describe();
  assert.deepEqual(described.searchAttributes.SparkyPlan, ['nightly']);
  assert.deepEqual(described.searchAttributes.SparkyState, ['completed']);
  const s = await stack.env.client.workflow.getHandle(first.id).query<RunStatus>('status');
  assert.equal(s.startedBy?.name, 'nightly-bot (schedule nightly)');

  r = await sparky('schedule', 'pause', 'nightly', '--note', 'holiday');
  assert.equal(r.exitCode, 0, r.all);
  assert.equal((await stack.env.client.schedule.getHandle(id).describe()).state.paused, true);
  r = await sparky('schedule', 'list');
  assert.match(r.all ?? '', /^nightly {2}plan nightly {2}every 3600s {2}overlap BUFFER_ONE {2}pause-on-failure {2}PAUSED \(holiday\) {2}runs 1/m);

  // Backfill three past intervals: the three runs the schedule would have started, each ending.
  const hour = 3_600_000;
  const top = Math.floor(Date.now() / hour) * hour;
  r = await sparky('schedule', 'backfill', 'nightly', '--start', new Date(top - 3 * hour + 60_000).toISOString(), '--end', new Date(top + 60_000).toISOString());
  assert.equal(r.exitCode, 0, r.all);
  const all = await eventually('three backfilled runs to complete', () => runsOf(id), (x) => x.length === 4 && x.every((w) => w.status === 'COMPLETED'), 120_000);
  const times = all.map((w) => w.id.slice('sparky-nightly-nightly-'.length)).sort();
  for (const t of [top - 2 * hour, top - hour, top].map((ms) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z'))) {
    assert.ok(times.includes(t), `a run for ${t} (runs: ${times.join(', ')})`);
  }
  assert.equal((await lines(path.join(dir, 'nightly.log'))).length, 4);
  r = await sparky('schedule', 'unpause', 'nightly');
  assert.equal(r.exitCode, 0, r.all);
  assert.equal((await stack.env.client.schedule.getHandle(id).describe()).state.paused, false);

  r = await sparky('schedule', 'delete', 'nightly');
  assert.equal(r.exitCode, 0, r.all);
  r = await sparky('schedule', 'trigger', 'nightly');
  assert.equal(r.exitCode, 2);
  assert.match(r.all ?? '', /no schedule named nightly/);
  assert.equal((await runsOf(id)).length, 4, 'deleting a schedule leaves its runs');
});

test('sparky schedule create --committed: each run reads the plan as committed on the branch when it starts', { timeout: 120_000 }, async () => {
  const repo = path.join(dir, 'repo');
  const git = (...args: string[]) => execa('git', args, { cwd: repo, env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } });
  await execa('mkdir', ['-p', path.join(repo, 'plans')]);
  await git('init', '-q', '-b', 'main');
  const write = (text: string) => writeFileSync(path.join(repo, 'plans', 'p.plan.yaml'), [
    'name: committed', 'phases:', '  - id: p', '    domains:', '      - id: d', '        workstreams:', '          - id: W', '            steps:',
    `              - { id: s, kind: shell, run: [sh, -c, "echo ${text} >> out.log"] }`, ''].join('\n'));
  write('one');
  let r = await sparky('schedule', 'create', 'repo-plan', path.join(repo, 'plans', 'p.plan.yaml'), '--every', '1d', '--committed');
  assert.equal(r.exitCode, 2);
  assert.match(r.all ?? '', /plans\/p\.plan\.yaml is not committed at main .*commit it first/);
  await git('add', '-A');
  await git('commit', '-qm', 'plan one');
  r = await sparky('schedule', 'create', 'repo-plan', path.join(repo, 'plans', 'p.plan.yaml'), '--every', '1d', '--committed');
  assert.equal(r.exitCode, 0, r.all);
  assert.match(r.all ?? '', /plan committed as committed at main in .*repo \(plans\/p\.plan\.yaml\)/);
  const id = 'sparky-schedule-repo-plan';
  const runOne = async (n: number) => {
    assert.equal((await sparky('schedule', 'trigger', 'repo-plan')).exitCode, 0);
    const runs = await eventually(`run ${n}`, () => runsOf(id), (x) => x.length === n && x.every((w) => w.status === 'COMPLETED'), 60_000);
    const newest = runs.map((w) => w.id).sort().at(-1)!;
    return stack.env.client.workflow.getHandle(newest).query<RunStatus>('status');
  };
  const first = await runOne(1);
  const head1 = (await git('rev-parse', 'HEAD')).stdout.trim();
  assert.deepEqual(first.planSource, { repo: (await git('rev-parse', '--show-toplevel')).stdout.trim(), path: 'plans/p.plan.yaml', ref: 'main', commit: head1 });
  write('two');
  await git('commit', '-qam', 'plan two');
  const second = await runOne(2);
  assert.equal(second.planSource?.commit, (await git('rev-parse', 'HEAD')).stdout.trim(), 'the second run read the new commit');
  assert.deepEqual(await lines(path.join(repo, 'plans', 'out.log')), ['one', 'two']);
  assert.equal((await sparky('schedule', 'delete', 'repo-plan')).exitCode, 0);
});
