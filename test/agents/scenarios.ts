// The agent step's cases, run for each CLI by claude-code.test.ts and codex.test.ts: the real CLI, real
// git worktrees, the real dev server and workers; only the model is a double (test/helpers/model-endpoint.ts).
// Each test gets its own marker in the prompt, so one endpoint serves them all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatErrors, loadPlanText } from '../../plan/load.ts';
import { validatePlan } from '../../plan/validate.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { findAgentCli, type AgentName } from '../../host/agents.ts';
import { git, newRepository } from '../helpers/git-repo.ts';
import { startModelEndpoint, type ModelEndpoint, type Turn } from '../helpers/model-endpoint.ts';
import { uniqueTaskQueue } from '../helpers/temporal.ts';
import { startReceiver } from '../helpers/webhook-receiver.ts';
import { eventually } from '../helpers/wait.ts';
import { cpuWorkerProcess } from '../helpers/worker-process.ts';
import { gateOf, serverAddress, status, tempDir, useStack, workstreamOf } from '../workflows/helpers.ts';

const KEY_VAR = 'SPARKY_TEST_AGENT_KEY';
const KEY = 'sk-test-agent-key-0123456789';

export function agentScenarios(agent: AgentName): void {
  const cli = findAgentCli(agent);
  if ('missing' in cli) throw new Error(`${cli.missing} (npm test runs scripts/setup first)`);
  const stack = useStack();
  let ep: ModelEndpoint;
  // What an approver's session on the worker might hold: the agent must see none of it.
  const planted = { SSH_AUTH_SOCK: '/tmp/sparky-test-agent.sock', SPARKY_APPROVER_KEY: '-----BEGIN OPENSSH PRIVATE KEY----- planted', TEMPORAL_API_KEY: 'planted-temporal-cloud-key' };
  before(async () => {
    ep = await startModelEndpoint();
    Object.assign(process.env, planted, { [KEY_VAR]: KEY });
  });
  after(async () => { await ep?.close(); });

  const repository = async () => newRepository(await tempDir('sparky-agent-repo-'));
  const endpointUrl = () => (agent === 'codex' ? ep.openaiBaseUrl : ep.anthropicBaseUrl);
  const step = (marker: string, repo: string, extra: Record<string, unknown> = {}) => ({
    id: 'agent', kind: 'agent' as const, agent, cwd: repo, prompt: `Implement the task ${marker}.`, endpoint: endpointUrl(),
    apiKey: { fromEnv: KEY_VAR }, retry: { maximumAttempts: 1 }, ...extra,
  });
  const onePhase = (name: string, repo: string, steps: object[], gate?: object) => ({
    name, git: { repo }, phases: [{ id: 'build', domains: [{ id: 'd', workstreams: [{ id: 'feature', steps }] }], ...(gate ? { gate } : {}) }],
  });
  async function start(plan: object, id: string, taskQueue = stack.taskQueue) {
    const v = validatePlan(plan);
    assert.ok(v.ok, JSON.stringify(v.errors));
    return stack.env.client.workflow.start('metaOrchestrator', { taskQueue, workflowId: id, args: [{ plan, options: { cpuTaskQueue: taskQueue } }] });
  }
  const attention = (id: string) => eventually('the workstream in attention', () => status(stack.env, id), (s) => workstreamOf(s, 'feature').state === 'attention', 90_000);
  const greet = { write: { path: 'greet.py', content: 'def greet(name):\n    return "hello " + name\n' } };
  const verifyGreet = [['python3', '-c', 'import greet; assert greet.greet("x") == "hello x"']];

  test(`${agent}: success with verify; the change is committed on the workstream branch and merged at the gate; the agent's environment holds no key or agent socket`, async () => {
    const marker = `OK-${agent}`;
    ep.script(marker, [greet, { bash: 'env | sort > "$SPARKY_RUN_DIR/agent-env.txt"' }, { text: 'Added greet.py with greet(name).' }]);
    const repo = await repository();
    const id = `sparky-agent-ok-${agent}`;
    const plan = onePhase(`agent-ok-${agent}`, repo, [step(marker, repo, { verify: verifyGreet, commit: 'feature: greet' })], {
      id: 'review', checks: [{ id: 'changed', kind: 'metric', metric: 'feature.agent.filesChanged', atLeast: 1 }], approval: { approvers: ['alice'] },
    });
    const handle = await start(plan, id);
    const waiting = await eventually('the gate waiting', () => status(stack.env, id), (s) => gateOf(s, 'review').state === 'waiting', 90_000);
    const st = workstreamOf(waiting, 'feature').steps[0];
    assert.equal(st.state, 'succeeded');
    assert.equal(st.outputs?.summary, 'Added greet.py with greet(name).');
    assert.equal(st.outputs?.turns, '3');
    assert.equal(st.outputs?.filesChanged, '1', `greet.py only (the env file went to the run directory): ${st.outputs?.files}`);
    assert.equal(st.outputs?.files, '["greet.py (+2 −0)"]');
    assert.match(st.outputs?.sessionId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(Number(st.outputs?.tokens), 3 * (ep.usage.input + ep.usage.output));
    if (agent === 'claude-code') assert.ok(Number(st.outputs?.costUsd) > 0, 'Claude Code reports a cost');
    assert.match(st.commit ?? '', /^[0-9a-f]{12}$/);
    assert.equal(gateOf(waiting, 'review').checks[0].passed, true, 'a gate check reads the agent step\'s outputs');
    // The agent's environment: the step's and the CLI's, none of the worker's secrets or sockets.
    const envFile = readFileSync(path.join(stack.logDir, id, 'agent-env.txt'), 'utf8');
    for (const [name, value] of Object.entries(planted)) {
      assert.doesNotMatch(envFile, new RegExp(`^${name}=`, 'm'), `${name} reached the agent`);
      assert.ok(!envFile.includes(value), `the value of ${name} reached the agent`);
    }
    assert.doesNotMatch(envFile, /^TEMPORAL_/m);
    assert.match(envFile, /^SPARKY_STEP_ID=feature\/agent$/m);
    await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'alice', decision: 'approve' }] });
    assert.equal((await handle.result()).state, 'completed');
    assert.equal(readFileSync(path.join(repo, 'greet.py'), 'utf8'), 'def greet(name):\n    return "hello " + name\n', 'merged into main');
    assert.match(git(repo, 'log', '--format=%s', 'main'), /^Merge sparky\/agent-ok-[a-z-]+\/[^ ]+\/feature into main[^\n]*\nfeature: greet\ninitial$/);
    // The transcript: turns, tool calls, the result; the raw events beside it.
    const log = readFileSync(st.logPath!, 'utf8');
    assert.match(log, /turn 1\n[\s\S]*greet\.py[\s\S]*turn 3\n {2}agent: Added greet\.py/);
    assert.match(log, /result: (success|completed), 3 turns/);
    assert.ok(!log.includes(KEY), 'the key is redacted');
    assert.ok(existsSync(st.logPath!.replace(/\.log$/, '.events.jsonl')));
    const logs = await sparky(['logs', id, 'feature/agent']);
    assert.equal(logs.code, 0, logs.err);
    assert.match(logs.out, /turn 2\n {2}→ .*env \| sort/);
  });

  test(`${agent}: verify failing puts the workstream in attention; retry resumes the same session with the failure, and it passes`, async () => {
    const marker = `VERIFY-${agent}`;
    ep.script(marker, [{ write: { path: 'greet.py', content: 'def greet(name):\n    return "hi " + name\n' } }, { text: 'Done.' }, greet, { text: 'Fixed greet.' }]);
    const repo = await repository();
    const id = `sparky-agent-verify-${agent}`;
    const handle = await start(onePhase(`agent-verify-${agent}`, repo, [step(marker, repo, { verify: verifyGreet, commit: 'feature: greet' })]), id);
    const s = await attention(id);
    const ws = workstreamOf(s, 'feature');
    assert.equal(ws.attention?.cause, 'failed');
    assert.match(ws.steps[0].lastError ?? '', /verify `python3 -c import greet; assert greet\.greet\("x"\) == "hello x"` exited 1/);
    assert.match(ws.steps[0].lastError ?? '', /AssertionError/);
    const firstSession = sessionOf(ep, marker);
    await handle.signal('retryStep', { step: 'feature/agent', by: 'alice' });
    assert.equal((await handle.result()).state, 'completed');
    const resumed = ep.requests.filter((r) => r.script === marker && r.turn === 2)[0];
    assert.ok(resumed, 'the resumed session asked for its third turn');
    assert.match(resumed.text, /a verify command failed/);
    assert.match(resumed.text, /AssertionError/);
    assert.match(resumed.text, /hi /, 'the earlier turns are in the resumed conversation');
    assert.equal(sessionOf(ep, marker), firstSession);
    assert.equal(readFileSync(path.join(repo, '.sparky-worktrees', id, 'feature', 'greet.py'), 'utf8'), greet.write.content);
  });

  test(`${agent}: a refused tool call is not a success, although the CLI exits 0`, async () => {
    const marker = `DENIED-${agent}`;
    const refused: Turn = agent === 'claude-code'
      ? { tool: { name: 'WebFetch', input: { url: 'http://127.0.0.1:9/x', prompt: 'read it' } } }
      : { tool: { name: 'exec_command', input: { cmd: 'touch /etc/sparky-agent-escalated', sandbox_permissions: 'require_escalated', justification: 'needed' } } };
    ep.script(marker, [greet, refused, { text: 'Done, although one call was refused.' }]);
    const repo = await repository();
    const id = `sparky-agent-denied-${agent}`;
    await start(onePhase(`agent-denied-${agent}`, repo, [step(marker, repo, { verify: verifyGreet })]), id);
    const ws = workstreamOf(await attention(id), 'feature');
    assert.match(ws.steps[0].lastError ?? '', /the agent was refused 1 tool call\(s\) it asked for: /);
    assert.match(ws.steps[0].lastError ?? '', agent === 'claude-code' ? /WebFetch/ : /escalat/);
    assert.equal(ep.requests.filter((r) => r.script === marker).length, 3, 'the CLI went on to its final message (and exited 0)');
  });

  test(`${agent}: max turns puts the workstream in attention`, async () => {
    const marker = `TURNS-${agent}`;
    ep.script(marker, [greet, { bash: 'echo second' }, { bash: 'echo third' }, { text: 'Done.' }]);
    const repo = await repository();
    const id = `sparky-agent-turns-${agent}`;
    await start(onePhase(`agent-turns-${agent}`, repo, [step(marker, repo, { maxTurns: 1 })]), id);
    const ws = workstreamOf(await attention(id), 'feature');
    assert.match(ws.steps[0].lastError ?? '', /max turns/);
    assert.ok(ep.requests.filter((r) => r.script === marker).length < 4, 'the agent did not run to its end');
  });

  test(`${agent}: a rejection with --rework hands the reviewer's reason to the same session`, async () => {
    const marker = `REWORK-${agent}`;
    ep.script(marker, [greet, { text: 'Added greet.' }, { write: { path: 'greet.py', content: '"""Greetings."""\n\ndef greet(name):\n    return "hello " + name\n' } }, { text: 'Added the docstring.' }]);
    const repo = await repository();
    const id = `sparky-agent-rework-${agent}`;
    const handle = await start(onePhase(`agent-rework-${agent}`, repo, [step(marker, repo, { verify: verifyGreet, commit: 'feature: greet' })], { id: 'review', approval: { approvers: ['alice', 'bob'] } }), id);
    const atGate = () => eventually('the gate waiting', () => status(stack.env, id), (s) => gateOf(s, 'review').state === 'waiting', 90_000);
    await atGate();
    await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'bob', decision: 'reject', comment: 'greet.py needs a module docstring', rework: ['feature'] }] });
    const held = await attention(id);
    assert.match(workstreamOf(held, 'feature').attention?.reason ?? '', /rework requested by bob: greet\.py needs a module docstring/);
    await handle.signal('retryStep', { step: 'feature/agent', by: 'alice' });
    await atGate();
    const reworked = ep.requests.find((r) => r.script === marker && r.turn === 2);
    assert.ok(reworked, 'the session went on after the rework');
    assert.match(reworked.text, /rework requested by bob: greet\.py needs a module docstring/);
    assert.match(reworked.text, /Added greet\./, 'the same session: the earlier turns are there');
    await handle.executeUpdate('decideGate', { args: [{ gate: 'review', approver: 'alice', decision: 'approve' }] });
    assert.equal((await handle.result()).state, 'completed');
    assert.match(readFileSync(path.join(repo, 'greet.py'), 'utf8'), /^"""Greetings\."""/);
  });

  test(`${agent}: a missing key or CLI — validation names it, and a run puts the step in attention saying what to set`, async () => {
    const repo = await repository();
    const noKey = validatePlan(onePhase('agent-nokey', repo, [{ id: 'agent', kind: 'agent', agent, prompt: 'x' }]));
    assert.equal(noKey.ok, false);
    assert.match(noKey.errors.map((e) => `${e.path}: ${e.message}`).join('\n'), /steps\[0\]: an agent step needs "apiKey": \{ fromEnv: <the worker's variable holding the key> \} \(for example \{ fromEnv: (ANTHROPIC|OPENAI)_API_KEY \}\)/);
    const binVar = agent === 'claude-code' ? 'SPARKY_CLAUDE_CODE_BIN' : 'SPARKY_CODEX_BIN';
    process.env[binVar] = '/nonexistent/agent-cli';
    try {
      const loaded = loadPlanText(JSON.stringify(onePhase('agent-nocli', repo, [step('x', repo)])), path.join(repo, 'plan.json'));
      assert.equal(loaded.ok, true, formatErrors(loaded.errors)); // the text loader does no machine checks…
      const { loadPlanFile } = await import('../../plan/load.ts');
      const file = path.join(await tempDir('sparky-agent-plan-'), 'plan.json');
      writeFileSync(file, JSON.stringify(onePhase('agent-nocli', repo, [step('x', repo)])));
      const checked = await loadPlanFile(file); // …the file loader (sparky validate) asks this machine
      assert.equal(checked.ok, false);
      assert.match(formatErrors(checked.errors), new RegExp(`steps\\[0\\]\\.agent: ${binVar}=/nonexistent/agent-cli names no file on this worker`));
      const id = `sparky-agent-nocli-${agent}`;
      await start(onePhase(`agent-nocli-${agent}`, repo, [step('NOCLI', repo)]), id);
      assert.match(workstreamOf(await attention(id), 'feature').steps[0].lastError ?? '', new RegExp(`${binVar}=/nonexistent/agent-cli names no file on this worker`));
    } finally {
      delete process.env[binVar];
    }
    const id = `sparky-agent-nokey-${agent}`;
    await start(onePhase(`agent-nokey-${agent}`, repo, [step('NOKEY', repo, { apiKey: { fromEnv: 'SPARKY_TEST_UNSET_KEY' } })]), id);
    const ws = workstreamOf(await attention(id), 'feature');
    assert.match(ws.steps[0].lastError ?? '', /API key comes from the environment variable SPARKY_TEST_UNSET_KEY, which is not set on this worker \(set SPARKY_TEST_UNSET_KEY/);
    assert.equal(ep.requests.filter((r) => r.text.includes('NOKEY') || r.text.includes('NOCLI')).length, 0, 'no agent ran');
  });

  test(`${agent}: kill -9 of the worker mid-turn: the retry resumes the same session (the endpoint gets the earlier turns), the run completes, each commit once`, async () => {
    const marker = `KILL-${agent}`;
    const first = agent === 'claude-code'
      ? { bash: 'printf "one\\n" > one.txt && git add one.txt && git commit -qm "agent: part one"' }
      : { write: { path: 'one.txt', content: 'one\n' } };
    ep.script(marker, [first, { write: { path: 'two.txt', content: 'two\n' }, hold: true }, { text: 'Both parts done.' }]);
    const repo = await repository();
    const id = `sparky-agent-kill-${agent}`;
    const taskQueue = uniqueTaskQueue('agent-kill');
    let worker = await workerProcess(taskQueue);
    try {
      const handle = await start(onePhase(`agent-kill-${agent}`, repo, [step(marker, repo, { commit: 'feature: two parts', heartbeatTimeout: '3s', retry: { maximumAttempts: 3, initialInterval: '1s' } })]), id, taskQueue);
      await ep.reached(marker, 1, 90_000); // the second turn's request is held: the worker dies mid-turn
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      worker = await workerProcess(taskQueue);
      const result = await handle.result();
      assert.equal(result.state, 'completed');
      const after = ep.requests.filter((r) => r.script === marker && r.turn === 1);
      assert.equal(after.length, 2, `the held request, then the resumed session's: ${ep.requests.filter((r) => r.script === marker).map((r) => `#${r.turn} ${r.text.slice(-300)}`).join('\n')}`);
      assert.match(after[1].text, /resumed this session after an interruption/);
      assert.match(after[1].text, agent === 'claude-code' ? /agent: part one/ : /one\.txt/, 'the endpoint got the earlier turns');
      assert.equal(ep.requests.filter((r) => r.script === marker && r.turn === 0).length, 1, 'the first turn was never asked again');
      const branch = git(repo, 'branch', '--list', '--format=%(refname:short)', 'sparky/*');
      const subjects = git(repo, 'log', '--format=%s', branch).split('\n');
      assert.equal(subjects.filter((s) => s === 'feature: two parts').length, 1);
      if (agent === 'claude-code') assert.equal(subjects.filter((s) => s === 'agent: part one').length, 1);
      assert.equal(readFileSync(path.join(repo, 'two.txt'), 'utf8'), 'two\n');
      const st = workstreamOf(await status(stack.env, id), 'feature').steps[0];
      assert.equal(st.attempts, 2);
      const sessions = new Set(readFileSync(st.logPath!.replace(/\.log$/, '.events.jsonl'), 'utf8').split('\n').filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>).map((e) => e.session_id ?? e.thread_id).filter(Boolean));
      assert.equal(sessions.size, 1, `one session across both attempts: ${[...sessions].join(', ')}`);
    } finally {
      worker.kill('SIGKILL');
    }
  });

  // ── supervision (issue 24): stalls, budgets, questions ──

  /** Processes still running with this run's directory in their environment (the agent, its tools, its MCP server). */
  const runProcesses = (runDir: string): number[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`SPARKY_RUN_DIR=${runDir}`); } catch { return false; }
  }).map(Number);

  test(`${agent}: a stall (the endpoint stops answering mid-stream) → attention \`stalled\` within stallAfter, with the last event, the process tree gone`, async () => {
    const marker = `STALL-${agent}`;
    ep.script(marker, [greet, { stall: true }]);
    const repo = await repository();
    const id = `sparky-agent-stall-${agent}`;
    await start(onePhase(`agent-stall-${agent}`, repo, [step(marker, repo, { stallAfter: '4s', timeout: '5m' })]), id);
    await ep.reached(marker, 1, 90_000);
    const stalledAt = Date.now();
    const ws = workstreamOf(await attention(id), 'feature');
    assert.ok(Date.now() - stalledAt < 30_000, `attention came ${Date.now() - stalledAt} ms after the stream stalled (stallAfter 4s)`);
    assert.equal(ws.attention?.cause, 'stalled');
    assert.ok(ws.attention?.lastEvent?.event, 'the last event is named');
    assert.match(ws.attention?.lastEvent?.at ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.match(ws.attention?.reason ?? '', /stalled: no event from the agent for 4s \(its last: .+ at .+\); its process tree was ended/);
    const runDir = path.join(stack.logDir, id);
    await eventually('the agent\'s process tree gone', async () => runProcesses(runDir), (pids) => pids.length === 0, 15_000);
  });

  test(`${agent}: a step budget reached → attention \`budget\` with the figures; raising it with revise, then retry, continues the same session`, async () => {
    const marker = `BUDGET-${agent}`;
    ep.script(marker, [greet, { bash: 'echo two' }, { bash: 'echo three' }, { bash: 'echo four' }, { text: 'Done within budget.' }]);
    const repo = await repository();
    const id = `sparky-agent-budget-${agent}`;
    const plan = onePhase(`agent-budget-${agent}`, repo, [step(marker, repo, { budget: { turns: 2 }, verify: verifyGreet })]);
    const handle = await start(plan, id);
    const ws = workstreamOf(await attention(id), 'feature');
    assert.equal(ws.attention?.cause, 'budget');
    assert.equal(ws.attention?.budget?.scope, 'step');
    assert.deepEqual(ws.attention?.budget?.limit, { turns: 2 });
    assert.ok((ws.attention?.budget?.spent.turns ?? 0) >= 2, `the figures: ${JSON.stringify(ws.attention?.budget)}`);
    assert.match(ws.attention?.reason ?? '', /the step's budget \(2 turns\) is reached: spent .*\d+ turns/);
    assert.ok((ws.steps[0].spend?.turns ?? 0) >= 2, 'the status keeps what the step spent');
    const asked = ep.requests.filter((r) => r.script === marker).length;
    assert.ok(asked < 5, 'the agent was stopped before its end');
    const raised = onePhase(`agent-budget-${agent}`, repo, [step(marker, repo, { budget: { turns: 20 }, verify: verifyGreet })]);
    await handle.executeUpdate('revisePlan', { args: [{ plan: raised, by: 'alice', comment: 'more turns' }] });
    await handle.signal('retryStep', { step: 'feature/agent', by: 'alice' });
    assert.equal((await handle.result()).state, 'completed');
    assert.equal(ep.requests.filter((r) => r.script === marker && r.turn === 0).length, 1, 'the same session went on: its first turn was never asked again');
    const last = ep.requests.filter((r) => r.script === marker).at(-1)!;
    assert.match(last.text, /greet\.py/, 'the resumed session holds the earlier turns');
    const done = workstreamOf(await status(stack.env, id), 'feature').steps[0];
    assert.ok(Number(done.outputs?.turns) >= 5, `turns counted over both attempts: ${done.outputs?.turns}`);
  });

  test(`${agent}: a phase budget reached → attention \`budget\` naming the phase, with the figures; spend per workstream, phase and run in the status`, async () => {
    const marker = `PHASEBUDGET-${agent}`;
    ep.script(marker, [greet, { bash: 'echo two' }, { bash: 'echo three' }, { bash: 'echo four' }, { text: 'Done.' }]);
    const repo = await repository();
    const id = `sparky-agent-phasebudget-${agent}`;
    // Codex reports tokens only when its run ends: its budget is stopped live by the turns Sparky counts.
    const figure = agent === 'codex' ? 'turns' : 'tokens';
    const perTurn = agent === 'codex' ? 1 : ep.usage.input + ep.usage.output;
    const plan = { ...onePhase(`agent-phasebudget-${agent}`, repo, [step(marker, repo)]), budget: { [figure]: 100 * perTurn } };
    plan.phases[0] = { ...plan.phases[0], budget: { [figure]: 2 * perTurn } } as typeof plan.phases[0];
    await start(plan, id);
    const s = await attention(id);
    const ws = workstreamOf(s, 'feature');
    assert.equal(ws.attention?.cause, 'budget');
    assert.equal(ws.attention?.budget?.scope, 'phase build');
    assert.deepEqual(ws.attention?.budget?.limit, { [figure]: 2 * perTurn });
    assert.ok((ws.attention?.budget?.spent[figure] ?? 0) >= 2 * perTurn, JSON.stringify(ws.attention?.budget));
    assert.match(ws.attention?.reason ?? '', new RegExp(`the phase build budget \\(\\d+ ${figure}\\) is reached`));
    assert.deepEqual(s.budgets, { run: { [figure]: 100 * perTurn }, phases: { build: { [figure]: 2 * perTurn } } });
    assert.match(s.waitingFor, new RegExp(`agent spend: run .*\\d+ ${figure}.* of budget \\d+ ${figure}`));
    assert.match(s.waitingFor, new RegExp(`phase build: .* of budget \\d+ ${figure}`));
    const shown = await sparky(['status', id]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /agent spend: run /);
    assert.match(shown.out, /feature: .*tokens/);
    assert.match(shown.out, /agent \(agent\): budget reached \(phase build\); spent /);
  });

  test(`${agent}: a phase budget counts every domain of the phase: an agent of another domain is stopped by what the first one spent`, async () => {
    const first = `SHARED1-${agent}`;
    const second = `SHARED2-${agent}`;
    ep.script(first, [greet, { bash: 'echo two' }, { text: 'First done.' }]);
    ep.script(second, [{ bash: 'echo one' }, { bash: 'echo two' }, { text: 'Second done.' }]);
    const repo = await repository();
    const id = `sparky-agent-sharedbudget-${agent}`;
    const figure = agent === 'codex' ? 'turns' : 'tokens';
    const perTurn = agent === 'codex' ? 1 : ep.usage.input + ep.usage.output;
    const plan = {
      name: `agent-sharedbudget-${agent}`, git: { repo },
      phases: [{ id: 'build', budget: { [figure]: 4 * perTurn }, domains: [
        { id: 'd1', workstreams: [{ id: 'feature', steps: [step(first, repo)] }] },
        { id: 'd2', workstreams: [{ id: 'other', dependsOn: ['feature'], steps: [{ ...step(second, repo), id: 'agent2' }] }] },
      ] }],
    };
    await start(plan, id);
    const s = await eventually('the second domain\'s workstream in attention', () => status(stack.env, id), (x) => workstreamOf(x, 'other').state === 'attention', 90_000);
    assert.equal(workstreamOf(s, 'feature').state, 'succeeded', 'the first agent finished within the budget');
    const other = workstreamOf(s, 'other').attention;
    assert.equal(other?.cause, 'budget');
    assert.equal(other?.budget?.scope, 'phase build');
    assert.ok((other?.budget?.spent[figure] ?? 0) > 4 * perTurn, `the phase's spend includes the first domain's: ${JSON.stringify(other?.budget)}`);
    // Stopped before its end (the CLI may already have asked for its next turn when Sparky ended it: what counts is that it did not finish).
    assert.equal(workstreamOf(s, 'other').steps[0].state, 'failed', 'the second agent did not finish');
  });

  test(`${agent}: a question → attention \`question\` (for whom), a webhook; unanswered it escalates; \`sparky answer\` resumes the same session with the answer`, async () => {
    const marker = `ASK-${agent}`;
    ep.script(marker, [greet, { ask: 'Which greeting word: hello or hi?' }, { write: { path: 'word.txt', content: 'hello\n' } }, { text: 'Used hello, as answered.' }]);
    const receiver = await startReceiver();
    try {
      const repo = await repository();
      const id = `sparky-agent-ask-${agent}`;
      const plan = { ...onePhase(`agent-ask-${agent}`, repo, [step(marker, repo, { ask: { to: ['alice'], timeout: '3s', escalate: ['carol'] }, verify: verifyGreet, commit: 'feature: greet' })]),
        notify: { webhooks: [{ url: receiver.url }] } };
      const handle = await start(plan, id);
      const s = await attention(id);
      const ws = workstreamOf(s, 'feature');
      assert.equal(ws.attention?.cause, 'question');
      assert.equal(ws.attention?.question?.text, 'Which greeting word: hello or hi?');
      assert.deepEqual(ws.attention?.question?.to, ['alice']);
      assert.match(ws.attention?.reason ?? '', /feature\/agent asks alice: Which greeting word/);
      assert.equal(ep.requests.filter((r) => r.script === marker && r.turn === 2).length, 0, 'nothing ran after the question');
      const asked = await eventually('the question\'s webhook', async () => receiver.received.map((r) => r.body), (b) => b.some((x) => x.event === 'attention' && (x.question as { text?: string } | undefined)?.text === 'Which greeting word: hello or hi?'), 30_000);
      const hook = asked.find((x) => x.event === 'attention' && x.question)!;
      assert.match(String(hook.text), /asks alice: Which greeting word/);
      assert.match(String(hook.text), new RegExp(`npx sparky answer ${id} feature/agent "…" --as NAME`));
      // Nobody answers within ask.timeout: escalated to carol, who may answer then.
      const escalated = await eventually('the question escalated', () => status(stack.env, id), (x) => workstreamOf(x, 'feature').attention?.question?.escalated !== undefined, 30_000);
      assert.deepEqual(workstreamOf(escalated, 'feature').attention?.question?.escalated?.to, ['carol']);
      await eventually('the escalation webhook', async () => receiver.received.map((r) => r.body), (b) => b.some((x) => x.event === 'escalated' && (x.question as { escalatedTo?: string[] } | undefined)?.escalatedTo?.[0] === 'carol'), 30_000);
      // The signal (tctl, the Web UI) goes through the same checks: refused, kept in the decisions as ignored.
      await handle.signal('answerQuestion', { step: 'feature/agent', by: 'mallory', answer: 'hi' });
      await eventually('the refused signal in the decisions', () => status(stack.env, id),
        (x) => x.decisions.some((d) => d.action === 'answer' && d.by === 'mallory' && d.ignored && /mallory may not answer/.test(d.ignoredReason ?? '')), 30_000);
      const refused = await sparky(['answer', id, 'feature/agent', 'hi', '--as', 'mallory']);
      assert.notEqual(refused.code, 0);
      assert.match(refused.err, /mallory may not answer: the question of feature\/agent is for alice, carol/);
      const answered = await sparky(['answer', id, 'feature/agent', 'hello, please', '--as', 'carol']);
      assert.equal(answered.code, 0, answered.err);
      assert.match(answered.out, /answered feature\/agent/);
      assert.equal((await handle.result()).state, 'completed');
      const resumed = ep.requests.find((r) => r.script === marker && r.turn === 2);
      assert.ok(resumed, 'the session went on after the answer');
      assert.match(resumed.text, /carol answered your question/);
      assert.match(resumed.text, /hello, please/);
      assert.match(resumed.text, /Which greeting word/, 'the same session: the question is in its conversation');
      assert.equal(ep.requests.filter((r) => r.script === marker && r.turn === 0).length, 1, 'the first turn was never asked again');
      const decisions = (await status(stack.env, id)).decisions;
      assert.ok(decisions.some((d) => d.action === 'answer' && d.by === 'carol' && d.comment === 'hello, please' && !d.ignored));
    } finally {
      await receiver.close();
    }
  });

  const workerProcess = (taskQueue: string) => cpuWorkerProcess(stack.env, taskQueue, stack.logDir);

  async function sparky(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const { execa } = await import('execa');
    const r = await execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), ...args], {
      env: { TEMPORAL_ADDRESS: serverAddress(stack.env), TEMPORAL_NAMESPACE: stack.env.namespace ?? 'default' }, reject: false,
    });
    return { code: r.exitCode ?? -1, out: r.stdout, err: r.stderr };
  }
}

/** The session a script's requests belong to (Claude Code: the session header; Codex: the thread in its metadata). */
function sessionOf(ep: ModelEndpoint, marker: string): string | undefined {
  const ids = new Set(ep.requests.filter((r) => r.script === marker).map((r) => {
    const h = r.headers['x-claude-code-session-id'] ?? r.headers['x-codex-window-id'] ?? String(r.headers['x-codex-turn-metadata'] ?? '').match(/"thread_id":"([^"]+)"/)?.[1];
    return String(h ?? '').split(':')[0];
  }));
  assert.equal(ids.size, 1, `one session: ${[...ids].join(', ')}`);
  return [...ids][0];
}
