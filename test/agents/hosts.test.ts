// One host per workstream (issue 24): two real worker processes (workers/cpu.ts) on one task queue, as
// two hosts (SPARKY_HOST alpha / beta) with different run roots, so each holds its own agent sessions and
// run files. Every step of a workstream — agent, shell, commit — runs on the host that made its worktree
// (its host queue), and when that host's worker dies mid-turn the step waits for it (the other host
// never takes it) and resumes the same session there. The real dev server, git, Claude Code; the model a
// scripted endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { validatePlan } from '../../plan/validate.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { hostTaskQueue } from '../../common/task-queues.ts';
import { startModelEndpoint, type ModelEndpoint } from '../helpers/model-endpoint.ts';
import { startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { eventually, waitFor } from '../helpers/wait.ts';
import { serverAddress, status, tempDir, workstreamOf } from '../workflows/helpers.ts';

const KEY_VAR = 'SPARKY_TEST_AGENT_KEY';
let env: TestWorkflowEnvironment;
let ep: ModelEndpoint;
const workers: ChildProcess[] = [];

before(async () => {
  env = await startDevServer();
  ep = await startModelEndpoint();
  process.env[KEY_VAR] = 'sk-test-hosts';
});
after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await ep?.close();
  await env?.teardown();
});

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
  cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@x' },
}).trim();

async function repository(): Promise<string> {
  const repo = path.join(await tempDir('sparky-hosts-repo-'), 'repo');
  git(path.dirname(repo), 'init', '--quiet', '--initial-branch=main', repo);
  writeFileSync(path.join(repo, 'README.md'), '# hosts\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  return repo;
}

/** A worker process as host `host`: its own run root and log dir. */
async function hostWorker(host: string, taskQueue: string, root: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('../../workers/cpu.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, TEMPORAL_ADDRESS: serverAddress(env), TEMPORAL_NAMESPACE: env.namespace ?? 'default', SPARKY_TASK_QUEUE: taskQueue,
      SPARKY_HOST: host, SPARKY_RUN_ROOT: root, SPARKY_LOG_DIR: path.join(root, 'logs'),
    },
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  await waitFor(`the worker of host ${host}`, () => {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${out}`);
    return out.includes(`host queue ${hostTaskQueue(taskQueue, host)}`);
  }, 60_000);
  workers.push(child);
  return child;
}

/** A shell step that appends `<ws> <step>` to `$SPARKY_RUN_DIR/<ws>.steps` (the run directory of the host it ran on). */
const mark = (ws: string, id: string, repo: string, extra: Record<string, unknown> = {}) =>
  ({ id, kind: 'shell' as const, cwd: repo, run: ['sh', '-c', `echo "${ws} ${id}" >> "$SPARKY_RUN_DIR/${ws}.steps"; sleep 0.3`], ...extra });

const agentStep = (marker: string, repo: string, extra: Record<string, unknown> = {}) => ({
  id: 'agent', kind: 'agent' as const, agent: 'claude-code' as const, cwd: repo, prompt: `Do the task ${marker}.`, endpoint: ep.anthropicBaseUrl,
  apiKey: { fromEnv: KEY_VAR }, ...extra,
});

test('two worker processes with different run roots: every step of a workstream (agent, shell, commit) runs on the host that holds its worktree', async () => {
  const taskQueue = uniqueTaskQueue('hosts');
  const roots = { alpha: await tempDir('sparky-host-alpha-'), beta: await tempDir('sparky-host-beta-') };
  await hostWorker('alpha', taskQueue, roots.alpha);
  await hostWorker('beta', taskQueue, roots.beta);
  const repo = await repository();
  ep.script('HOSTS-AGENT', [{ bash: 'echo "ws-a agent" >> "$SPARKY_RUN_DIR/ws-a.steps"' }, { write: { path: 'a.txt', content: 'a\n' } }, { text: 'Wrote a.txt.' }]);
  const ids = ['ws-a', 'ws-b', 'ws-c', 'ws-d', 'ws-e', 'ws-f'];
  const plan = {
    name: 'hosts', git: { repo },
    phases: [{ id: 'build', domains: [{ id: 'd', maxParallel: 6, workstreams: ids.map((ws) => ({
      id: ws,
      steps: ws === 'ws-a'
        ? [mark(ws, 'one', repo), agentStep('HOSTS-AGENT', repo, { commit: 'ws-a: agent' }), mark(ws, 'three', repo)]
        : [mark(ws, 'one', repo), { ...mark(ws, 'two', repo), run: ['sh', '-c', `echo "${ws} two" >> "$SPARKY_RUN_DIR/${ws}.steps" && echo ${ws} > ${ws}.txt`], commit: `${ws}: two` }, mark(ws, 'three', repo)],
    })) }] }],
  };
  const v = validatePlan(plan);
  assert.ok(v.ok, JSON.stringify(v.errors));
  const id = 'sparky-hosts-affinity';
  const handle = await env.client.workflow.start('metaOrchestrator', { taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: taskQueue } }] });
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  const s = await status(env, id);
  const used = new Set<string>();
  for (const wsId of ids) {
    const ws = workstreamOf(s, wsId);
    const host = ws.host ?? '';
    assert.match(host, new RegExp(`^${taskQueue}-host-(alpha|beta)$`), `${wsId} has a host queue: ${host}`);
    used.add(host);
    for (const st of ws.steps) assert.equal(st.taskQueue, host, `${wsId}/${st.id} ran on ${st.taskQueue}, its workstream's host is ${host}`);
    // Its run files are on that host only: every step wrote into the same run root.
    const name = host.endsWith('alpha') ? 'alpha' : 'beta';
    const other = name === 'alpha' ? 'beta' : 'alpha';
    const file = (root: string) => path.join(root, id, `${wsId}.steps`);
    assert.ok(!existsSync(file(roots[other])), `${wsId} wrote on ${other} too`);
    const lines = readFileSync(file(roots[name]), 'utf8').trim().split('\n');
    assert.deepEqual(lines, wsId === 'ws-a' ? ['ws-a one', 'ws-a agent', 'ws-a three'] : [`${wsId} one`, `${wsId} two`, `${wsId} three`]);
    if (wsId === 'ws-a') assert.ok(existsSync(path.join(roots[name], id, 'agents', 'ws-a', 'agent', 'session.json')), 'the agent\'s session is on its host');
  }
  console.log(`hosts used: ${[...used].join(', ')}`);
  // The commits made on each host are on each workstream's branch, merged into main.
  assert.equal(readFileSync(path.join(repo, 'a.txt'), 'utf8'), 'a\n');
  for (const wsId of ids.slice(1)) assert.equal(readFileSync(path.join(repo, `${wsId}.txt`), 'utf8'), `${wsId}\n`);
  for (const w of workers.splice(0)) { w.kill('SIGTERM'); if (w.exitCode === null && w.signalCode === null) await new Promise((r) => w.once('exit', r)); }
});

test('a worker killed mid-turn: the heartbeat timeout ends the attempt, the other host never takes it, and the session resumes on the host that holds the worktree', async () => {
  const taskQueue = uniqueTaskQueue('hosts-kill');
  const roots = { alpha: await tempDir('sparky-host-alpha-'), beta: await tempDir('sparky-host-beta-') };
  const running = { alpha: await hostWorker('alpha', taskQueue, roots.alpha), beta: await hostWorker('beta', taskQueue, roots.beta) };
  const repo = await repository();
  const marker = 'HOSTS-KILL';
  ep.script(marker, [{ write: { path: 'one.txt', content: 'one\n' } }, { write: { path: 'two.txt', content: 'two\n' }, hold: true }, { text: 'Both written.' }]);
  const plan = {
    name: 'hosts-kill', git: { repo },
    phases: [{ id: 'build', domains: [{ id: 'd', workstreams: [{ id: 'feature', steps: [
      agentStep(marker, repo, { commit: 'feature: two files', heartbeatTimeout: '3s', retry: { maximumAttempts: 4, initialInterval: '1s' } }),
    ] }] }] }],
  };
  const id = 'sparky-hosts-kill';
  const handle = await env.client.workflow.start('metaOrchestrator', { taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: taskQueue } }] });
  await ep.reached(marker, 1, 90_000); // its second turn is held: the worker dies mid-turn
  const host = workstreamOf(await status(env, id), 'feature').host ?? '';
  const name = host.endsWith('alpha') ? 'alpha' : 'beta';
  const other = name === 'alpha' ? 'beta' : 'alpha';
  running[name].kill('SIGKILL');
  await new Promise((r) => running[name].once('exit', r));
  // Past the heartbeat timeout and the retry's backoff, the other host (alive, polling) has not taken the attempt.
  await new Promise((r) => setTimeout(r, 8_000));
  assert.equal(ep.requests.filter((r) => r.script === marker && r.turn === 1).length, 1, 'no second attempt ran anywhere while the host was down');
  assert.ok(!existsSync(path.join(roots[other], id, 'agents')), `the ${other} host never started the step`);
  await hostWorker(name, taskQueue, roots[name]);
  const result = await handle.result();
  assert.equal(result.state, 'completed');
  const st = workstreamOf(await status(env, id), 'feature').steps[0];
  assert.equal(st.taskQueue, host);
  assert.equal(st.attempts, 2);
  const resumed = ep.requests.filter((r) => r.script === marker && r.turn === 1);
  assert.equal(resumed.length, 2, 'the held request, then the resumed session\'s');
  assert.match(resumed[1].text, /resumed this session after an interruption/);
  assert.equal(ep.requests.filter((r) => r.script === marker && r.turn === 0).length, 1, 'the first turn was never asked again');
  assert.equal(readFileSync(path.join(repo, 'two.txt'), 'utf8'), 'two\n');
  for (const w of workers.splice(0)) { w.kill('SIGTERM'); if (w.exitCode === null && w.signalCode === null) await new Promise((r) => w.once('exit', r)); }
});

test('a workstream without a worktree whose agent keeps a session claims a host before its first step, and stays there', async () => {
  const taskQueue = uniqueTaskQueue('hosts-nogit');
  const roots = { alpha: await tempDir('sparky-host-alpha-'), beta: await tempDir('sparky-host-beta-') };
  await hostWorker('alpha', taskQueue, roots.alpha);
  await hostWorker('beta', taskQueue, roots.beta);
  const dir = await tempDir('sparky-hosts-nogit-');
  ep.script('HOSTS-NOGIT', [{ bash: 'echo "solo agent" >> "$SPARKY_RUN_DIR/solo.steps"' }, { text: 'Done.' }]);
  const plan = {
    name: 'hosts-nogit',
    phases: [{ id: 'build', domains: [{ id: 'd', workstreams: [{ id: 'solo', steps: [
      { ...mark('solo', 'before', dir) }, agentStep('HOSTS-NOGIT', dir), { ...mark('solo', 'after', dir) },
    ] }] }] }],
  };
  const id = 'sparky-hosts-nogit';
  const handle = await env.client.workflow.start('metaOrchestrator', { taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: taskQueue } }] });
  assert.equal((await handle.result()).state, 'completed');
  const ws = workstreamOf(await status(env, id), 'solo');
  assert.match(ws.host ?? '', new RegExp(`^${taskQueue}-host-(alpha|beta)$`));
  for (const st of ws.steps) assert.equal(st.taskQueue, ws.host, `solo/${st.id} ran on ${st.taskQueue}`);
  const name = ws.host!.endsWith('alpha') ? 'alpha' : 'beta';
  assert.deepEqual(readFileSync(path.join(roots[name], id, 'solo.steps'), 'utf8').trim().split('\n'), ['solo before', 'solo agent', 'solo after']);
  for (const w of workers.splice(0)) { w.kill('SIGTERM'); if (w.exitCode === null && w.signalCode === null) await new Promise((r) => w.once('exit', r)); }
});
