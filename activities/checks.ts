// Gate checks: a command exits 0, a file exists (optionally a JSON field against thresholds), a metric
// from an earlier step's outputs against thresholds, an HTTP GET answers. A failed check is a result
// (passed: false, with what was measured), not an exception: the gate decides what failure means.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { GateCheckInput, GateCheckResult } from '../common/activity-types.ts';
import type { CheckKindName, GateCheck } from '../plan/checks/index.ts';
import { compare, dig } from './compare.ts';
import { attemptInfo } from './context.ts';
import { durationMs } from '../plan/durations.ts';
import { attemptHeader, gateCheckLogPath, StepLog } from './logs.ts';
import { runProcess } from './run-process.ts';
import type { RunnerDeps } from './runner-deps.ts';

type Check<K extends GateCheck['kind']> = Extract<GateCheck, { kind: K }>;
type Verdict = Omit<GateCheckResult, 'id' | 'kind' | 'durationMs'>;

const DEFAULT_COMMAND_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

async function commandCheck(check: Check<'command'>, input: GateCheckInput, deps: RunnerDeps): Promise<Verdict> {
  const logPath = gateCheckLogPath(deps.logDir, input.ctx.runWorkflowId, input.ctx.gateId, check.id);
  const log = new StepLog(logPath);
  try {
    log.write(attemptHeader(attemptInfo().attempt, `gate ${input.ctx.gateId} check ${check.id}`));
    const outcome = await runProcess({
      file: check.run[0], args: check.run.slice(1), log,
      cwd: path.resolve(deps.workdir ?? process.cwd(), check.cwd ?? '.'),
      env: input.ctx.env,
      timeoutMs: check.timeout ? durationMs(check.timeout) : DEFAULT_COMMAND_TIMEOUT_MS,
      killGraceMs: deps.killGraceMs,
    });
    const lastLine = outcome.lastOutputLine ?? '';
    if (outcome.exitCode === 0) return { passed: true, measured: 0, message: `\`${check.run.join(' ')}\` exited 0` };
    const why = outcome.timedOut ? 'timed out' : outcome.spawnError ? `could not start (${outcome.spawnError})`
      : outcome.exitCode !== undefined ? `exited ${outcome.exitCode}` : `was killed by ${outcome.signal}`;
    return {
      passed: false,
      measured: outcome.timedOut ? 'timeout' : outcome.exitCode ?? outcome.signal ?? 'not started',
      message: `\`${check.run.join(' ')}\` ${why}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''} (log: ${logPath})`,
    };
  } finally {
    log.close();
  }
}

async function fileCheck(check: Check<'file'>, deps: RunnerDeps): Promise<Verdict> {
  const file = path.resolve(deps.workdir ?? process.cwd(), check.path);
  const info = await stat(file).catch(() => undefined);
  if (!info) return { passed: false, measured: false, message: `${file} does not exist` };
  const thresholds = { equals: check.equals, atLeast: check.atLeast, atMost: check.atMost };
  const hasThresholds = thresholds.equals !== undefined || thresholds.atLeast !== undefined || thresholds.atMost !== undefined;
  if (check.field === undefined && !hasThresholds) return { passed: true, measured: true, message: `${file} exists (${info.size} bytes)` };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    return { passed: false, measured: null, message: `${file} exists but is not JSON: ${(error as Error).message}` };
  }
  const where = check.field ? `${file} field ${check.field}` : file;
  const found = check.field ? dig(json, check.field) : { found: true, value: json };
  if (!found.found) return { passed: false, measured: null, message: `${where} is missing` };
  if (!hasThresholds) return { passed: true, measured: found.value, message: `${where} = ${JSON.stringify(found.value)}` };
  const verdict = compare(found.value, thresholds);
  return { passed: verdict.passed, measured: found.value, message: `${where}: ${verdict.why}` };
}

function metricCheck(check: Check<'metric'>, input: GateCheckInput): Verdict {
  // Ids may contain dots, so find the longest `<workstream>.<step>` that prefixes the metric.
  const key = Object.keys(input.outputs).filter((k) => check.metric.startsWith(`${k}.`)).sort((a, b) => b.length - a.length)[0];
  if (key === undefined) {
    const known = Object.keys(input.outputs);
    return { passed: false, measured: null, message: `metric ${check.metric}: no finished step has outputs under that name (known: ${known.length > 0 ? known.join(', ') : 'none'})` };
  }
  const found = dig(input.outputs[key], check.metric.slice(key.length + 1));
  if (!found.found) {
    return { passed: false, measured: null, message: `metric ${check.metric}: step ${key} has no output ${check.metric.slice(key.length + 1)} (it has: ${Object.keys(input.outputs[key]).join(', ') || 'none'})` };
  }
  const verdict = compare(found.value, { equals: check.equals, atLeast: check.atLeast, atMost: check.atMost });
  return { passed: verdict.passed, measured: found.value, message: `metric ${check.metric}: ${verdict.why}` };
}

async function httpCheck(check: Check<'http'>): Promise<Verdict> {
  const timeoutMs = check.timeout ? durationMs(check.timeout) : DEFAULT_HTTP_TIMEOUT_MS;
  try {
    const response = await fetch(check.url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    await response.body?.cancel();
    const passed = check.expectStatus !== undefined ? response.status === check.expectStatus : response.status >= 200 && response.status < 300;
    const wanted = check.expectStatus !== undefined ? `expected ${check.expectStatus}` : 'expected 2xx';
    return { passed, measured: response.status, message: `GET ${check.url} answered ${response.status} (${wanted})` };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string; message?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : err.cause?.code ?? err.cause?.message ?? err.message;
    return { passed: false, measured: why, message: `GET ${check.url} failed: ${why}` };
  }
}

/** One runner per check kind (plan/checks/index.ts): a kind without a runner fails `tsc`. */
export type CheckRunners = { readonly [K in CheckKindName]: (check: Check<K>, input: GateCheckInput, deps: RunnerDeps) => Verdict | Promise<Verdict> };
const CHECK_RUNNERS: CheckRunners = {
  command: commandCheck,
  file: (check, _input, deps) => fileCheck(check, deps),
  metric: (check, input) => metricCheck(check, input),
  http: (check) => httpCheck(check),
};

export function createGateCheckRunner(deps: RunnerDeps) {
  return async function runGateCheck(input: GateCheckInput): Promise<GateCheckResult> {
    const started = Date.now();
    const { check } = input;
    const run = CHECK_RUNNERS[check.kind] as (c: GateCheck, i: GateCheckInput, d: RunnerDeps) => Verdict | Promise<Verdict>;
    const verdict = await run(check, input, deps);
    return { id: check.id, kind: check.kind, ...verdict, durationMs: Date.now() - started };
  };
}
