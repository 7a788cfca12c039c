// `agent` steps: the real Claude Code or Codex CLI does the task in the step's working directory (the
// workstream's worktree in a git plan), headless, stdin closed, its event stream read line by line.
// Durable: the session lives in the run's directory (<run dir>/agents/<workstream>/<step>/), and every
// later attempt — a retry, a restarted worker, `sparky retry`, a rework — resumes THAT session with a
// message saying why, never the first prompt again. Done by evidence: the CLI's own final result must
// be a success, no tool call may have been refused, and every `verify` command must pass afterwards.
// Each event heartbeats (session, turns, tokens, cost, current tool, worktree HEAD). Supervised: no
// event for `stallAfter` ends the process tree (cause `stalled`); the step's, workstream's, phase's and
// run's budgets bound its spend (cause `budget`, with the figures); its `ask` tool (an MCP server)
// ends the session at a question (cause `question`) until `sparky answer` resumes it. See docs/agents.md.
import { ApplicationFailure } from '@temporalio/common';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AgentFailureDetails, StepActivityInput, StepResult } from '../common/activity-types.ts';
import { budgetReached, leftFor, limitText, NO_SPEND, priced, spendText as spentFigures, type ScopeBudget, type Spend } from '../common/agent-spend.ts';
import { findAgentCli, type AgentName } from '../host/agents.ts';
import { agentKeyVar } from '../plan/kinds/agent.ts';
import type { AgentStep } from '../plan/schema.ts';
import { durationMs, formatMs } from '../plan/durations.ts';
import { agentEnv, agentLaunch, askFileOf, claudeSessionId, lastCodexSession, sessionDirOf, sessionStored } from './agent-cli.ts';
import type { AskedQuestion } from './ask-tool.ts';
import { newProgress, readAgentLine, readAgentStderr, type AgentProgress } from './agent-events.ts';
import { attemptInfo, currentActivity } from './context.ts';
import { attemptHeader, safeSegment, shortTail, StepLog, stepLogPath } from './logs.ts';
import { endEarlierAttempts } from './process-tree.ts';
import { DEFAULT_KILL_GRACE_MS, runProcess } from './run-process.ts';
import type { RunnerDeps } from './runner-deps.ts';
import { RUN_DIR_VAR } from './run-dir.ts';
import { redactor, resolveSecrets } from './secrets.ts';
import { stepDeadlineMs } from './shell.ts';
import { stepEnv, stepLabel } from './step-env.ts';

const run = promisify(execFile);

/** Failure types of agent steps (for `retry.nonRetryableErrorTypes` and the docs). */
export const AGENT_FAILURES = {
  unavailable: 'AgentUnavailable', keyMissing: 'SecretMissing', endpointMissing: 'AgentEndpointMissing', specMissing: 'AgentSpecMissing',
  sessionLost: 'AgentSessionLost', failed: 'AgentFailed', maxTurns: 'AgentMaxTurns', budget: 'AgentBudgetExceeded',
  denied: 'AgentToolDenied', stalled: 'AgentStalled', verify: 'AgentVerifyFailed', question: 'AgentQuestion',
} as const;

/** What the step's session directory remembers between attempts (session.json). */
interface SessionState {
  agent: AgentName;
  sessionId?: string;
  /** The worktree's HEAD when the session started: what filesChanged and commits count from. */
  baseHead?: string;
  /** Spent by all attempts before this one. */
  spent: { usd: number; tokens: number; turns: number };
  /** Why the last attempt did not succeed, told to the next one. */
  pending?: { cause: AgentFailureDetails['cause']; message: string };
  /** The question the session stopped at (its `ask` tool), until an answer is told. */
  asked?: AskedQuestion;
  /** The answer last told to the session (`<at> <by>`), so a retried attempt does not tell it twice. */
  answerTold?: string;
  /** The agent finished with a success (verify may still have failed). */
  done?: { summary: string; turns: number; tokens: { input: number; output: number }; costUsd?: number; files: string[] };
  /** The rework request the session was last told about. */
  reworkTold?: string;
}

function readState(file: string, agent: AgentName): SessionState {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as SessionState;
    if (s.agent === agent) return { ...s, spent: s.spent ?? { usd: 0, tokens: 0, turns: 0 } };
  } catch { /* none yet */ }
  return { agent, spent: { usd: 0, tokens: 0, turns: 0 } };
}

function writeState(file: string, state: SessionState): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
}

const git = async (cwd: string, args: string[], env: Record<string, string> = {}) =>
  (await run('git', args, { cwd, env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
const gitOr = async (cwd: string, args: string[], env?: Record<string, string>) => { try { return await git(cwd, args, env); } catch { return undefined; } };

/** Files changed since `base` (the agent's commits and what it left uncommitted, new files too), with +/− lines. */
async function changesSince(cwd: string, base: string, scratch: string): Promise<{ files: { file: string; added: number; removed: number }[]; commits: string[] }> {
  const index = path.join(scratch, 'changes.index');
  rmSync(index, { force: true });
  const env = { GIT_INDEX_FILE: index };
  await gitOr(cwd, ['read-tree', 'HEAD'], env);
  await gitOr(cwd, ['add', '--all'], env); // a scratch index: the worktree's own index is left alone
  const numstat = await gitOr(cwd, ['diff', '--cached', '--numstat', '--no-renames', base], env) ?? '';
  rmSync(index, { force: true });
  const files = numstat.split('\n').filter(Boolean).map((l) => {
    const [a, r, ...f] = l.split('\t');
    return { file: f.join('\t'), added: Number(a) || 0, removed: Number(r) || 0 };
  });
  const log = await gitOr(cwd, ['log', '--reverse', '--format=%h %s', `${base}..HEAD`]) ?? '';
  return { files, commits: log.split('\n').filter(Boolean) };
}

const fail = (type: string, message: string, nonRetryable: boolean, details?: unknown) =>
  ApplicationFailure.create({ type, message, nonRetryable, details: details === undefined ? undefined : [details] });

/** The message a resumed session gets, saying why it runs again. */
function resumePrompt(state: SessionState, rework: string | undefined, attempt: number, answer?: { by: string; answer: string; question: string }): string {
  if (answer) return `${answer.by} answered your question.\nYour question: ${answer.question}\nThe answer: ${answer.answer}\nContinue the task with this answer, where you left off. When you are done, end with a short summary of what you changed.`;
  if (rework) return `A reviewer rejected this work at the gate and sent it back: ${rework}\nRework it accordingly, in this same working directory (the workstream's branch was reset to where the phase started, so look at what is there now). When you are done, end with a short summary of what you changed.`;
  const p = state.pending;
  if (p?.cause === 'verify') return `Sparky checked your work and a verify command failed:\n${p.message}\nFix the cause; the same commands run again when you finish. End with a short summary of what you changed.`;
  if (p) return `Sparky stopped this session earlier (${p.message.split('\n')[0]}); a person has let it go on. Continue the task where you left off; do not redo what is already done.`;
  return `Sparky resumed this session after an interruption (attempt ${attempt}: the previous one ended before the task finished). Continue the task where you left off; do not redo what is already done.`;
}

export function createAgentRunner(deps: RunnerDeps) {
  return async function runAgent(input: StepActivityInput & { step: AgentStep }): Promise<StepResult> {
    const { step, ctx } = input;
    const label = stepLabel(input);
    const { attempt, taskQueue, deadlineMs } = attemptInfo();
    const started = Date.now();

    // What to set, named, before anything starts: never a fake agent.
    const cli = findAgentCli(step.agent);
    if ('missing' in cli) throw fail(AGENT_FAILURES.unavailable, `${label}: ${cli.missing}`, true);
    const keyVar = agentKeyVar(step);
    const apiKey = process.env[keyVar];
    if (!apiKey) {
      throw fail(AGENT_FAILURES.keyMissing, `${label}: the ${step.agent} agent's API key comes from the environment variable ${keyVar}, which is not set on this worker `
        + `(set ${keyVar} in the environment the worker starts in${step.apiKey ? '' : `, or name another variable with apiKey: { fromEnv: … }`})`, true);
    }
    let endpoint: string | undefined;
    if (typeof step.endpoint === 'string') endpoint = step.endpoint;
    else if (step.endpoint) {
      endpoint = process.env[step.endpoint.fromEnv];
      if (!endpoint) {
        throw fail(AGENT_FAILURES.endpointMissing, `${label}: the model endpoint comes from the environment variable ${step.endpoint.fromEnv}, which is not set on this worker `
          + `(set ${step.endpoint.fromEnv} to the URL of an ${step.agent === 'codex' ? 'OpenAI Responses' : 'Anthropic Messages'}-compatible server, e.g. http://dgx:8000${step.agent === 'codex' ? '/v1' : ''})`, true);
      }
    }
    const secrets = resolveSecrets(step.secrets, process.env, label);
    const redact = redactor([...Object.values(secrets.env), apiKey]);
    const cwd = path.resolve(deps.workdir ?? process.cwd(), step.cwd ?? '.');
    if (!existsSync(cwd)) throw fail(AGENT_FAILURES.specMissing, `${label}: the working directory ${cwd} does not exist`, true);

    const sessionDir = sessionDirOf(ctx.env?.[RUN_DIR_VAR] ?? path.join(deps.logDir, safeSegment(ctx.runWorkflowId)), ctx);
    const stateFile = path.join(sessionDir, 'session.json');
    const state = readState(stateFile, step.agent);
    const logPath = stepLogPath(deps.logDir, ctx);
    const eventsPath = logPath.replace(/\.log$/, '.events.jsonl');
    const log = new StepLog(logPath);
    const events = openSync(eventsPath, 'a');
    const say = (text: string) => log.write(`${redact(text)}\n`);

    try {
      log.write(attemptHeader(attempt, `agent ${step.agent}`));
      const leftovers = await endEarlierAttempts(ctx.idempotencyKey, deps.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      if (leftovers > 0) say(`[ended ${leftovers} process(es) left running by an earlier attempt of this step]`);
      state.baseHead ??= await gitOr(cwd, ['rev-parse', 'HEAD']);

      // Which session: the one this step started before (its state, or the last attempt's heartbeat), else a new one.
      const beat = currentActivity()?.info.heartbeatDetails as { sessionId?: string } | undefined;
      const known = state.sessionId ?? beat?.sessionId ?? (step.agent === 'codex' ? lastCodexSession(sessionDir) : undefined);
      const reworkKey = ctx.rework ? `${ctx.rework.since} ${ctx.rework.reason}` : undefined;
      const rework = ctx.rework && reworkKey !== state.reworkTold ? ctx.rework.reason : undefined;
      let resume: string | undefined;
      if (known) {
        if (!sessionStored(step.agent, sessionDir, known)) {
          throw fail(AGENT_FAILURES.sessionLost, `${label}: its ${step.agent} session ${known} is not in ${sessionDir} on this worker (it ran on another host, or the directory was removed); `
            + 'Sparky does not start the task over silently: run the step where its session is, or remove session.json there to start afresh', true);
        }
        state.sessionId = known;
        resume = known;
      }
      if (rework) { state.done = undefined; state.reworkTold = reworkKey; }
      // A person's answer to the question the session stopped at: told once (a retried attempt goes on).
      const answerKey = ctx.agent?.answer ? `${ctx.agent.answer.at} ${ctx.agent.answer.by}` : undefined;
      const answer = ctx.agent?.answer && answerKey !== state.answerTold ? ctx.agent.answer : undefined;
      if (answer) { state.answerTold = answerKey; state.asked = undefined; }

      // The budgets this step runs under: its own (its session, all attempts) and the workflow's.
      const budgets: ScopeBudget[] = [
        ...(step.budget ? [{ scope: 'step', limit: step.budget, elsewhere: NO_SPEND }] : []),
        ...(ctx.agent?.budgets ?? []),
      ];
      const price = step.agent === 'codex' ? ctx.agent?.price : undefined;
      const failDetails = (cause: AgentFailureDetails['cause'], extra: Partial<AgentFailureDetails> = {}): AgentFailureDetails => ({
        sessionId: state.sessionId, turns: state.spent.turns, tokens: state.spent.tokens, ...(state.spent.usd > 0 ? { costUsd: state.spent.usd } : {}), cause, ...extra,
      });

      let progress: AgentProgress = newProgress();
      if (state.done && !state.pending && !rework && !answer) {
        // The agent finished in an earlier attempt (the worker died after it): only the checks remain.
        say(`[the agent finished in an earlier attempt (session ${state.sessionId}); checking its work again]`);
        progress = { ...progress, ...state.done, sessionId: state.sessionId, result: { ok: true, subtype: 'success' } };
      } else {
        const spentBefore = budgetReached(budgets, state.spent, true);
        if (spentBefore) {
          const message = budgetMessage(spentBefore, 'before this attempt started');
          state.pending = { cause: 'budget', message };
          writeState(stateFile, state);
          say(`[${message}]`);
          throw fail(AGENT_FAILURES.budget, `${label}: ${message}`, true, failDetails('budget', { budget: spentBefore }));
        }
        let prompt: string;
        if (resume) prompt = resumePrompt(state, rework, attempt, answer);
        else {
          let spec = '';
          if (step.spec) {
            const file = path.resolve(cwd, step.spec);
            try { spec = readFileSync(file, 'utf8'); } catch { throw fail(AGENT_FAILURES.specMissing, `${label}: its spec ${file} cannot be read`, true); }
          }
          prompt = [spec.trim(), step.prompt ?? '', rework ? `A reviewer sent earlier work on this back: ${rework}` : ''].filter(Boolean).join('\n\n');
        }
        const newSessionId = step.agent === 'claude-code' && !resume ? claudeSessionId(ctx.idempotencyKey) : undefined;
        if (newSessionId) { state.sessionId = newSessionId; }
        state.pending = undefined;
        writeState(stateFile, state);
        progress.sessionId = state.sessionId;

        // What this run of the CLI may spend: Claude Code enforces USD and turns itself; Sparky the rest.
        const usdLeft = step.agent === 'claude-code' ? leftFor(budgets, 'usd', state.spent) : undefined;
        const turnsLeft = leftFor(budgets, 'turns', state.spent);
        const turnsByBudget = turnsLeft !== undefined && (step.maxTurns === undefined || turnsLeft.left < step.maxTurns);
        const runTurns = turnsByBudget ? Math.max(1, turnsLeft!.left) : step.maxTurns;
        const askFile = askFileOf(sessionDir);
        rmSync(askFile, { force: true });
        const launch = agentLaunch(input, attempt, secrets.env, cli, {
          step, prompt, sessionDir, resume, newSessionId, apiKey, endpoint, usdLeft: usdLeft?.left, maxTurns: runTurns, askFile,
        });
        say(`[${resume ? `resuming session ${resume}` : `new session${newSessionId ? ` ${newSessionId}` : ''}`} in ${cwd}; its store: ${path.join(sessionDir, 'config')}]`);
        if (resume) say(`[told: ${resumePrompt(state, rework, attempt, answer).split('\n')[0]}]`);
        if (budgets.length) say(`[budgets: ${budgets.map((b) => `${b.scope} ${limitText(b.limit)}`).join('; ')}; the session spent ${spentFigures(state.spent)} before]`);

        // Sparky's own limits: turns (Codex has no flag for them), budgets, stall; and the ask tool's question.
        const stop = new AbortController();
        const seen = new Set<string>();
        let head = state.baseHead;
        let headAsked = 0;
        let stallTimer: NodeJS.Timeout | undefined;
        const stallMs = step.stallAfter ? durationMs(step.stallAfter) : undefined;
        const armStall = () => {
          if (stallMs === undefined) return;
          clearTimeout(stallTimer);
          stallTimer = setTimeout(() => stop.abort(`stalled: no event from the agent for ${formatMs(stallMs)} (the last: ${progress.lastEvent ?? 'none'} at ${progress.lastEventAt ?? 'its start'}); its process tree was ended`), stallMs);
        };
        armStall();
        const sessionSpend = (): Spend => {
          const tokens = progress.tokens.input + progress.tokens.output;
          const usd = price ? priced(progress.tokens, price) : progress.costUsd ?? 0;
          return { usd: state.spent.usd + usd, tokens: state.spent.tokens + tokens, turns: state.spent.turns + progress.turns };
        };
        let question: AskedQuestion | undefined;
        const lookForQuestion = () => {
          if (question || stop.signal.aborted || !existsSync(askFile)) return;
          try { question = JSON.parse(readFileSync(askFile, 'utf8')) as AskedQuestion; } catch { return; }
          stop.abort(`question: ${question.question}`);
        };
        const asking = setInterval(lookForQuestion, 200);
        let overBudget: ReturnType<typeof budgetReached>;
        const onEvent = () => {
          armStall();
          lookForQuestion();
          currentActivity()?.heartbeat(heartbeat());
          if (step.agent === 'codex' && runTurns && progress.turns > runTurns && !stop.signal.aborted) {
            stop.abort(turnsByBudget ? `budget: ${progress.turns} turns in this run, the ${turnsLeft!.scope} budget leaves ${turnsLeft!.left}` : `max turns: ${progress.turns} turns, the step allows ${runTurns}`);
          }
          const over = budgetReached(budgets, sessionSpend(), false);
          if (over && !stop.signal.aborted && !progress.result) { overBudget = over; stop.abort(`budget: ${budgetMessage(over, 'while it ran')}`); }
          if (Date.now() - headAsked > 2_000) {
            headAsked = Date.now();
            void gitOr(cwd, ['rev-parse', '--short', 'HEAD']).then((h) => { if (h) head = h; });
          }
        };
        const heartbeat = () => {
          const spent = sessionSpend();
          return {
            step: `${ctx.workstreamId}/${ctx.stepId}`, sessionId: progress.sessionId, turns: spent.turns, tokens: spent.tokens,
            ...(spent.usd > 0 ? { costUsd: Number(spent.usd.toFixed(6)) } : {}),
            state: question ? 'asking' : progress.tool ? 'running a tool' : 'thinking',
            tool: progress.tool ?? null, head: head ?? null, lastEvent: progress.lastEvent ?? null, lastEventAt: progress.lastEventAt ?? null,
          };
        };

        let outcome;
        try {
          outcome = await runProcess({
            file: launch.file, args: launch.args, cwd, env: launch.env, replaceEnv: true, quiet: true, log, redact,
            timeoutMs: stepDeadlineMs(step.timeout, deadlineMs), killGraceMs: deps.killGraceMs, tailBytes: deps.tailBytes,
            stop: stop.signal, heartbeat,
            onLine(line, stream) {
              if (stream === 'stdout') {
                if (line.trim()) writeSync(events, `${line}\n`);
                const before = progress.sessionId;
                for (const l of readAgentLine(step.agent, line, progress, seen)) say(l);
                if (progress.sessionId && progress.sessionId !== before && progress.sessionId !== state.sessionId) {
                  state.sessionId = progress.sessionId; // Codex names its thread: remember it at once
                  writeState(stateFile, state);
                }
              } else {
                for (const l of readAgentStderr(step.agent, line, progress)) say(l);
              }
              onEvent();
            },
          });
        } finally {
          clearTimeout(stallTimer);
          clearInterval(asking);
        }
        if (price) progress.costUsd = priced(progress.tokens, price);
        const spentNow = { usd: progress.costUsd ?? 0, tokens: progress.tokens.input + progress.tokens.output, turns: progress.turns };
        state.spent = { usd: state.spent.usd + spentNow.usd, tokens: state.spent.tokens + spentNow.tokens, turns: state.spent.turns + spentNow.turns };
        const tail = `\n--- last of the session (full transcript: ${logPath}; events: ${eventsPath}) ---\n${shortTail(outcome.tail)}`;
        const failWith = (cause: AgentFailureDetails['cause'], type: string, message: string, nonRetryable: boolean, extra: Partial<AgentFailureDetails> = {}) => {
          state.pending = { cause, message };
          writeState(stateFile, state);
          say(`[${message}]`);
          return fail(type, `${label}: ${message}${cause === 'question' ? '' : tail}`, nonRetryable, failDetails(cause, extra));
        };
        if (outcome.stopped?.startsWith('question') && question) {
          state.asked = question;
          throw failWith('question', AGENT_FAILURES.question, `the agent asks: ${question.question}`, true, { question: question.question });
        }
        if (outcome.stopped?.startsWith('stalled')) {
          throw failWith('stalled', AGENT_FAILURES.stalled, outcome.stopped, true, { lastEvent: { event: progress.lastEvent ?? 'none', ...(progress.lastEventAt ? { at: progress.lastEventAt } : {}) } });
        }
        if (outcome.stopped?.startsWith('max turns')) throw failWith('max-turns', AGENT_FAILURES.maxTurns, outcome.stopped, true);
        if (outcome.stopped?.startsWith('budget')) {
          const reached = overBudget ?? budgetReached(budgets, state.spent, true);
          throw failWith('budget', AGENT_FAILURES.budget, reached ? budgetMessage(reached, 'while it ran') : outcome.stopped, true, reached ? { budget: reached } : {});
        }
        if (outcome.timedOut) throw failWith('failed', 'StepTimeout', `the agent ran past the step's timeout (${formatMs(outcome.timeoutMs ?? 0)}); the next attempt resumes the session`, false);
        if (outcome.spawnError) throw failWith('failed', AGENT_FAILURES.unavailable, `${cli.bin} could not start: ${outcome.spawnError}`, true);
        const result = progress.result;
        if (result?.subtype === 'error_max_turns') {
          if (turnsByBudget) {
            const reached = budgetReached(budgets, state.spent, true) ?? { scope: turnsLeft!.scope, limit: budgets.find((b) => b.scope === turnsLeft!.scope)!.limit, spent: state.spent, figures: [] };
            throw failWith('budget', AGENT_FAILURES.budget, budgetMessage(reached, 'while it ran'), true, { budget: reached });
          }
          throw failWith('max-turns', AGENT_FAILURES.maxTurns, `max turns: the agent used the ${step.maxTurns ?? ''} turns the step allows without finishing`, true);
        }
        if (result?.subtype?.startsWith('error_max_budget')) {
          const reached = budgetReached(budgets, state.spent, true) ?? (usdLeft ? { scope: usdLeft.scope, limit: budgets.find((b) => b.scope === usdLeft.scope)!.limit, spent: state.spent, figures: [] } : undefined);
          throw failWith('budget', AGENT_FAILURES.budget, reached ? budgetMessage(reached, 'while it ran') : `budget: the agent spent ${spentText(state.spent)}`, true, reached ? { budget: reached } : {});
        }
        if (progress.denials.length > 0) {
          throw failWith('denied', AGENT_FAILURES.denied, `the agent was refused ${progress.denials.length} tool call(s) it asked for: ${progress.denials.join('; ')} `
            + `(even though the CLI ${result?.ok ? 'reported success' : 'ended'}: allow it in "tools", or change the task)`, true);
        }
        if (!result) throw failWith('failed', AGENT_FAILURES.failed, `the ${step.agent} CLI ended (${outcome.exitCode !== undefined ? `exit code ${outcome.exitCode}` : `signal ${outcome.signal}`}) without a final result; the next attempt resumes the session`, false);
        if (!result.ok) throw failWith('failed', AGENT_FAILURES.failed, `the agent's run ended with ${result.subtype}${result.message ? `: ${result.message.split('\n')[0]}` : ''}; the next attempt resumes the session`, false);
        state.done = { summary: progress.summary ?? '', turns: state.spent.turns, tokens: progress.tokens, costUsd: progress.costUsd, files: progress.files };
        writeState(stateFile, state);
      }

      // What the agent changed (before verify, whose own files — caches, reports — are not the agent's work).
      const changes = state.baseHead ? await changesSince(cwd, state.baseHead, sessionDir) : { files: progress.files.map((file) => ({ file, added: 0, removed: 0 })), commits: [] };

      // Evidence: every verify command passes where the agent worked.
      const verifyEnv = agentEnv(process.env, { ...stepEnv(input, attempt, secrets.env) }, {});
      for (const argv of step.verify ?? []) {
        log.write(`[verify]\n`);
        const check = await runProcess({ file: argv[0], args: argv.slice(1), cwd, env: verifyEnv, replaceEnv: true, log, redact, killGraceMs: deps.killGraceMs,
          timeoutMs: stepDeadlineMs(step.timeout, deadlineMs) });
        if (check.exitCode !== 0) {
          const why = check.timedOut ? 'timed out' : check.spawnError ? `could not start (${check.spawnError})` : check.exitCode !== undefined ? `exited ${check.exitCode}` : `was killed by ${check.signal}`;
          const message = `verify \`${argv.join(' ')}\` ${why}:\n${shortTail(check.tail, 2_000).trimEnd()}`;
          state.pending = { cause: 'verify', message };
          writeState(stateFile, state);
          throw fail(AGENT_FAILURES.verify, `${label}: ${message}\n(retry resumes the agent's session with this failure)`, true, failDetails('verify'));
        }
      }

      const tokens = state.spent.tokens;
      const summary = redact(progress.summary ?? state.done?.summary ?? '').slice(0, 4_000);
      const outputs: Record<string, unknown> = {
        summary, agent: step.agent, sessionId: state.sessionId, turns: state.spent.turns, tokens,
        ...(state.spent.usd > 0 || progress.costUsd !== undefined ? { costUsd: Number(state.spent.usd.toFixed(6)) } : {}),
        filesChanged: changes.files.length,
        linesAdded: changes.files.reduce((n, f) => n + f.added, 0), linesRemoved: changes.files.reduce((n, f) => n + f.removed, 0),
        files: changes.files.slice(0, 200).map((f) => `${f.file} (+${f.added} −${f.removed})`),
        commits: changes.commits.slice(0, 200),
      };
      say(`[done: ${outputs.turns} turns, ${tokens} tokens${outputs.costUsd !== undefined ? `, $${outputs.costUsd}` : ''}, ${outputs.filesChanged} file(s) changed, ${changes.commits.length} commit(s) by the agent]`);
      return {
        status: 'succeeded', outputs, logPath, tail: `${summary}\n`, exitCode: 0, durationMs: Date.now() - started, taskQueue, pinnedTaskQueue: deps.pinnedTaskQueue,
        details: { agent: step.agent, sessionId: state.sessionId, resumed: Boolean(resume), attempt, eventsPath, sessionDir },
      };
    } finally {
      log.close();
      closeSync(events);
    }
  };
}

const spentText = (s: { usd: number; tokens: number }) => `${s.tokens} tokens${s.usd > 0 ? `, $${s.usd.toFixed(4)}` : ''}`;

/** `budget: the phase build budget ($0.01, 500 tokens) is reached: 620 tokens of 500 (…)`, with how to go on. */
function budgetMessage(r: NonNullable<ReturnType<typeof budgetReached>>, when: string): string {
  const whose = r.scope === 'step' ? 'the step\'s budget' : `the ${r.scope} budget`;
  const figures = r.figures.length ? r.figures.join(', ') : spentFigures(r.spent);
  return `budget: ${whose} (${limitText(r.limit)}) is reached ${when}: ${figures} (spent: ${spentFigures(r.spent)}); `
    + `raise it with sparky revise (budget${r.scope === 'step' ? ' of the step' : ` of the ${r.scope.split(' ')[0]}`}), then sparky retry resumes the same session`;
}
