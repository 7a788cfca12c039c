// Runs one program for a step or check: argv only (a shell only if the caller passes /bin/sh itself),
// output streamed line by line, redacted, into the step log and a bounded tail; progress heartbeats
// once a second (which is also how Temporal delivers cancellation); and on cancellation, on the
// local deadline, or when the main process exits and leaves others behind, the whole tree is ended.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { currentActivity } from './context.ts';
import { formatMs } from '../plan/durations.ts';
import type { StepLog } from './logs.ts';
import { Tail } from './logs.ts';
import { adoptByEnv, killTree, treeMembers } from './process-tree.ts';
import { count } from '../common/plural.ts';

export const DEFAULT_KILL_GRACE_MS = 5_000;
const LINE_FLUSH_CHARS = 8 * 1024;
const STDOUT_LINE_LIMIT = 4 * 1024 * 1024;

export interface ProcessSpec {
  file: string;
  args: string[];
  cwd: string;
  /** Added to the worker's own environment (PATH, HOME… stay). */
  env?: Record<string, string>;
  log: StepLog;
  redact?: (text: string) => string;
  /** Local deadline for this process; the tree is ended when it passes. */
  timeoutMs?: number;
  killGraceMs?: number;
  /** Keep up to 1 MiB of stdout in the outcome (for CLI calls whose answer we need). */
  captureStdout?: boolean;
  /** How much of the output's end the outcome keeps (default 64 KiB). */
  tailBytes?: number;
  /** Clean-up after a cancellation (e.g. `docker rm -f`): must not be cut short by that cancellation. */
  ignoreCancellation?: boolean;
  /** The process gets exactly `env`, not the worker's environment under it (agent steps: a scrubbed one). */
  replaceEnv?: boolean;
  /** Output goes to `onLine` only, not into the log (the caller writes its own, e.g. an agent's transcript). */
  quiet?: boolean;
  /** Every whole line of output (redacted), as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** More facts for each heartbeat (merged into {lines, bytes, elapsedMs}). */
  heartbeat?: () => Record<string, unknown>;
  /** Ends the process tree when aborted (the caller's own limits); `outcome.stopped` is the reason. */
  stop?: AbortSignal;
}

export interface ProcessProgress { lines: number; bytes: number; elapsedMs: number }

export interface ProcessOutcome extends ProcessProgress {
  /** Undefined when the process was killed by a signal or never started. */
  exitCode?: number;
  signal?: string;
  /** Why the program could not be started at all (e.g. not found). */
  spawnError?: string;
  timedOut: boolean;
  /** The deadline it ran under, if any. */
  timeoutMs?: number;
  /**
   * The end of the output (stdout and stderr as they arrived), then the closing line
   * `[exit code 1; ran 2s]` on a line of its own.
   */
  tail: string;
  /** The last non-empty line of output (stdout or stderr), without the closing line: what failed messages quote. */
  lastOutputLine?: string;
  lastStdoutLine?: string;
  stdout?: string;
  /** Processes that outlived the main one and were ended with it. */
  leftovers: number;
  /** Why `stop` ended it (its abort reason), if it did. */
  stopped?: string;
}

const quote = (arg: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
export const formatArgv = (argv: string[]) => argv.map(quote).join(' ');

export async function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  const activity = currentActivity();
  const started = Date.now();
  const redact = spec.redact ?? ((text: string) => text);
  const tail = new Tail(spec.tailBytes);
  const counts = { lines: 0, bytes: 0 };
  const progress = () => ({ lines: counts.lines, bytes: counts.bytes, elapsedMs: Date.now() - started });
  const beat = () => (spec.heartbeat ? { ...progress(), ...spec.heartbeat() } : progress());
  const partial = { stdout: '', stderr: '' };
  let lastStdoutLine: string | undefined;
  let stdoutLine = '';
  let captured = '';

  spec.log.write(`$ ${formatArgv([spec.file, ...spec.args])}\n`);

  const emit = (text: string, isStdout: boolean) => {
    if (text.length === 0) return;
    const clean = redact(text);
    if (!spec.quiet) spec.log.write(clean);
    tail.push(clean);
    if (spec.onLine) {
      const key = isStdout ? 'stdout' : 'stderr';
      const lines = (partial[key] + clean).split('\n');
      partial[key] = lines.pop() ?? '';
      for (const line of lines) spec.onLine(line, key);
    }
    for (let i = clean.indexOf('\n'); i >= 0; i = clean.indexOf('\n', i + 1)) counts.lines += 1;
    if (!isStdout) return;
    if (spec.captureStdout && captured.length < 1024 * 1024) captured += clean;
    for (const piece of clean.split(/(\n)/)) {
      if (piece === '\n') {
        if (stdoutLine.trim().length > 0) lastStdoutLine = stdoutLine.trim();
        stdoutLine = '';
      } else if (stdoutLine.length < STDOUT_LINE_LIMIT) stdoutLine += piece;
    }
  };
  // Redaction works on whole lines, so a secret is never split across two writes.
  const sink = (isStdout: boolean) => {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    return {
      data(chunk: Buffer | string) {
        counts.bytes += chunk.length;
        const text = pending + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
        const cut = text.lastIndexOf('\n');
        if (cut < 0 && text.length < LINE_FLUSH_CHARS) { pending = text; return; }
        const at = cut < 0 ? text.length : cut + 1;
        emit(text.slice(0, at), isStdout);
        pending = text.slice(at);
      },
      end() { emit(pending + decoder.end(), isStdout); pending = ''; },
    };
  };
  const out = sink(true);
  const err = sink(false);

  const child = execa(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: !spec.replaceEnv,
    // Its own session and process group: the unit we signal to end the tree.
    detached: process.platform !== 'win32',
    cleanup: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
  });
  child.stdout?.on('data', out.data);
  child.stderr?.on('data', err.data);

  const pid = child.pid;
  const known = new Map<number, string>();
  if (pid !== undefined) treeMembers(pid, known); // remember the leader's start time at once
  let killing: Promise<unknown> | undefined;
  let cancelled = false;
  let timedOut = false;
  let leftovers = 0;
  let mainExited = false;
  const grace = spec.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  // A descendant that left the session after its parent died is invisible to /proc's family tree,
  // but it still carries the step's idempotency key in its environment.
  const marker = spec.env?.SPARKY_IDEMPOTENCY_KEY;
  const adopt = () => { if (marker) adoptByEnv(known, 'SPARKY_IDEMPOTENCY_KEY', marker); };
  const kill = () => { if (pid !== undefined) { adopt(); killing ??= killTree(pid, grace, known); } };

  const onAbort = () => { cancelled = true; kill(); };
  const signal = spec.ignoreCancellation ? undefined : activity?.cancellationSignal;
  if (signal?.aborted) onAbort(); else signal?.addEventListener('abort', onAbort);
  const timer = spec.timeoutMs !== undefined ? setTimeout(() => { timedOut = true; kill(); }, spec.timeoutMs) : undefined;
  let stopped: string | undefined;
  const onStop = () => { stopped = String(spec.stop?.reason ?? 'stopped'); kill(); };
  if (spec.stop?.aborted) onStop(); else spec.stop?.addEventListener('abort', onStop);
  activity?.heartbeat(beat());
  const ticker = setInterval(() => {
    activity?.heartbeat(beat());
    // Learn the tree while its parents live: an orphan that called setsid is found only this way.
    if (pid !== undefined && !mainExited) treeMembers(pid, known);
  }, 1_000);

  child.on('exit', () => {
    mainExited = true;
    if (pid === undefined || killing) return;
    // Background processes the step left behind would hold our pipes open and outlive the step.
    adopt();
    const rest = treeMembers(pid, known);
    leftovers = rest.length;
    if (rest.length > 0) kill();
  });

  try {
    const result = await child;
    await killing;
    out.end();
    err.end();
    if (spec.onLine) {
      if (partial.stdout) spec.onLine(partial.stdout, 'stdout');
      if (partial.stderr) spec.onLine(partial.stderr, 'stderr');
    }
    const outcome: ProcessOutcome = {
      ...progress(),
      exitCode: result.exitCode,
      signal: result.signal,
      spawnError: result.exitCode === undefined && !result.signal && result.failed
        // Node reports a missing cwd as the program missing (spawn … ENOENT): say which it was.
        ? (existsSync(spec.cwd) ? result.originalMessage || result.shortMessage : `the working directory ${spec.cwd} does not exist`)
        : undefined,
      timedOut,
      timeoutMs: spec.timeoutMs,
      tail: '',
      lastStdoutLine: stdoutLine.trim().length > 0 ? stdoutLine.trim() : lastStdoutLine,
      stdout: spec.captureStdout ? captured : undefined,
      leftovers,
      stopped,
    };
    const ending = cancelled ? 'cancelled: process tree ended'
      : stopped ? `stopped (${stopped}): process tree ended`
      : timedOut ? `timed out after ${formatMs(spec.timeoutMs ?? 0)}: process tree ended`
        : outcome.spawnError ? `could not start: ${outcome.spawnError}`
          : outcome.exitCode !== undefined ? `exit code ${outcome.exitCode}` : `killed by ${outcome.signal}`;
    const extra = (leftovers > 0 ? `; ended ${count(leftovers, 'leftover process', 'leftover processes')}` : '')
      + (spec.log.error ? `; the log file stopped: ${spec.log.error}` : '');
    const output = tail.toString();
    outcome.lastOutputLine = output.trimEnd().split('\n').pop()?.trim() || undefined;
    // The closing line always starts a line: output without a final newline must not hide it (or in it).
    const line = `${output.length > 0 && !output.endsWith('\n') ? '\n' : ''}[${ending}; ran ${formatMs(outcome.elapsedMs)}${extra}]\n`;
    spec.log.write(line);
    tail.push(line);
    outcome.tail = tail.toString();
    if (cancelled && activity && !spec.ignoreCancellation) throw await activity.cancelled.catch((e: unknown) => e);
    return outcome;
  } finally {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    spec.stop?.removeEventListener('abort', onStop);
  }
}
