// Per-step log files: `<logDir>/<runWorkflowId>/<workstreamId>/<stepId>.log` (the shared contract;
// `sparky logs` reads them). Every attempt appends to the same file after a header line, so the file
// tells the whole story of a step, retries included: attempt numbers continue across a person's
// `retry`, whose execution starts with a line saying who retried, when and why. Output is redacted before it is written.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { StepContext } from '../common/activity-types.ts';
import { count } from '../common/plural.ts';

export const TAIL_BYTES = 64 * 1024;

/** A path segment from an id: no separators, no `..`, nothing a file system would choke on. */
export function safeSegment(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^\.+/, '_');
  return cleaned.length > 0 ? cleaned : '_';
}

export function stepLogPath(logDir: string, ctx: Pick<StepContext, 'runWorkflowId' | 'workstreamId' | 'stepId'>): string {
  return path.join(logDir, safeSegment(ctx.runWorkflowId), safeSegment(ctx.workstreamId), `${safeSegment(ctx.stepId)}.log`);
}

export function gateCheckLogPath(logDir: string, runWorkflowId: string, gateId: string, checkId: string): string {
  return path.join(logDir, safeSegment(runWorkflowId), `gate-${safeSegment(gateId)}`, `${safeSegment(checkId)}.log`);
}

export function attemptHeader(attempt: number, note?: string): string {
  return `--- attempt ${attempt} ${new Date().toISOString()} ---${note ? ` ${note}` : ''}\n`;
}

/** A step's attempt as people count it: Temporal's attempt of this execution, after the attempts before a person's retry. */
export function stepAttempt(ctx: Pick<StepContext, 'attemptsBefore'>, attempt: number): number {
  return (ctx.attemptsBefore ?? 0) + attempt;
}

/**
 * The header of a step's attempt in its log, numbered across retries; the first attempt a person's
 * retry started is preceded by a line saying who retried it, when, and why.
 */
export function stepAttemptHeader(ctx: Pick<StepContext, 'attemptsBefore' | 'retriedBy'>, attempt: number, note?: string): string {
  const r = ctx.retriedBy;
  const before = ctx.attemptsBefore ?? 0;
  const marker = r && attempt === 1
    ? `--- ${r.rework ? 'rework ' : ''}retried by ${r.by} at ${r.at}${r.comment ? `: ${r.comment.split('\n')[0]}` : ''}`
      + `${before ? ` (after ${count(before, 'attempt')})` : ''} ---\n`
    : '';
  return marker + attemptHeader(stepAttempt(ctx, attempt), note);
}

/** A bounded tail of text: keeps the last `limit` bytes (cheaply: trims in batches). */
export class Tail {
  private text = '';
  constructor(private readonly limit = TAIL_BYTES) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    const bytes = Buffer.from(this.text);
    return bytes.length <= this.limit ? this.text : bytes.subarray(bytes.length - this.limit).toString('utf8');
  }
}

/**
 * A step's log, open for appending. Writes are synchronous so that lines from stdout and stderr stay
 * in the order they arrived and the file is complete the moment the activity returns.
 */
export class StepLog {
  private readonly fd: number;
  constructor(readonly path: string) {
    mkdirSync(pathDir(path), { recursive: true });
    this.fd = openSync(path, 'a');
  }
  /** The first write error (a full disk, say): the step goes on, its log stops, the tail says why. */
  error?: string;
  write(text: string): void {
    if (text.length === 0 || this.error) return;
    try {
      writeSync(this.fd, text);
    } catch (error) {
      // Throwing here would be an uncaught exception in a stream handler: it would kill the worker.
      this.error = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
  }
  close(): void {
    try { closeSync(this.fd); } catch { /* already closed or the disk is gone: nothing to keep */ }
  }
}

const pathDir = (file: string) => path.dirname(file);

/** The last `bytes` of a tail, for error messages (the full tail is in the result or the log). */
export function shortTail(tail: string, bytes = 8 * 1024): string {
  const buf = Buffer.from(tail);
  return buf.length <= bytes ? tail : `…${buf.subarray(buf.length - bytes).toString('utf8')}`;
}
