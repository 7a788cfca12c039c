// A client for the inference server, protocol v1 (docs/protocol.md): one DEALER with many requests in
// flight (replies matched by type + id), one SUB for progress, a timeout per request and retries with
// backoff on TIMEOUT and BUSY that reuse the same job id, so the server deduplicates them.
//
// Progress: a submit with `onProgress` watches its job's events from the start; one without watches
// only once the job has been outstanding for `watchAfterMs` (its events then keep the attempt's
// timeout alive), so a short job costs no subscription, and the server, which publishes only what
// someone subscribes to, sends it no events: its reply carries the outcome.
//
// Reconnects: ZeroMQ reconnects a DEALER by itself (every `reconnectMs`, backing off to
// `reconnectMaxMs`) when the server goes away and comes back; requests sent meanwhile wait in the
// socket's queue. A request whose server died with it gets no reply: its timeout fires, and the retry
// (same id) reaches the restarted server, which runs the job since it never saw it finish.
import { Decoder, Encoder } from '@msgpack/msgpack';
import { Dealer, Subscriber } from 'zeromq';

export const PROTOCOL_VERSION = 1;

// One encoder and one decoder for every message: `encode`/`decode` build a new one per call, which a
// small job notices. (Both are re-entrant; `encode` returns a copy, safe to hand to ZeroMQ.)
const encoder = new Encoder();
const decoder = new Decoder();

export type ErrorCode = 'BAD_REQUEST' | 'UNKNOWN_OP' | 'TOO_LARGE' | 'BUSY' | 'CANCELLED' | 'TIMEOUT' | 'INTERNAL'
  /** Client side: no reply at all within the retries (server dead or unreachable). */
  | 'UNREACHABLE';

export class InferenceError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly retryable: boolean, readonly meta?: Record<string, unknown>,
    /** True when the client decided it (no reply in time), not the server. */
    readonly local = false) {
    super(`${code}: ${message}`);
    this.name = 'InferenceError';
  }
}

/** Codes the server marks retryable (and the client's own UNREACHABLE). */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['BUSY', 'TIMEOUT', 'INTERNAL', 'UNREACHABLE']);

export interface CurveKeys { serverPublicKey: string; publicKey: string; secretKey: string }

export interface InferenceClientOptions {
  /** The server's ROUTER endpoint, e.g. tcp://127.0.0.1:5555. */
  endpoint: string;
  /** Its PUB endpoint; default: the request port + 1. */
  progressEndpoint?: string;
  /** How long one attempt waits without hearing about the request (a reply, or progress for its job). */
  requestTimeoutMs?: number;
  /** A submit without onProgress subscribes to its job's events only after this long (default 50 ms). */
  watchAfterMs?: number;
  /** Retries after the first attempt on TIMEOUT (ours or the server's) and BUSY. */
  retries?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  reconnectMs?: number;
  reconnectMaxMs?: number;
  curve?: CurveKeys;
}

export interface ProgressEvent { id: string; seq: number; stage: string; done?: number | null; total?: number | null; gap?: boolean; [key: string]: unknown }

export interface SubmitRequest {
  id: string;
  op: string;
  model?: string;
  params?: Record<string, unknown>;
  inputs?: Record<string, Uint8Array | Uint8Array[]>;
  /** The server-side deadline of the job (timeout_ms). */
  jobTimeoutMs?: number;
  /** Overrides the client's requestTimeoutMs for this job's attempts. */
  requestTimeoutMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * `start` (the default with onProgress): watch the job's events from before it is sent. `late`: only
   * once it has been outstanding for watchAfterMs, as a submit without onProgress does — a short job then
   * costs no subscription and no events, and onProgress hears only jobs that last.
   */
  watch?: 'start' | 'late';
  /** Aborting sends `cancel` for the job and rejects with CANCELLED. */
  signal?: AbortSignal;
}

export interface SubmitReply { result: Record<string, unknown>; meta: Record<string, unknown>; attempts: number }

interface Reply { v: number; type: string | null; id: string | null; ok: boolean; result?: Record<string, unknown>; error?: { code: ErrorCode; message: string; retryable?: boolean }; meta?: Record<string, unknown> }

/** Something due at `at` (performance.now() ms): an attempt's timeout or a job's late watch. All of
 * them share one timer (InferenceClient.sweep), so a request costs no setTimeout of its own. */
interface Due { at: number; due(): void }

/** One request on the wire, waiting for its reply (or its timeout: `at`, pushed back by touch()). */
class Attempt implements Due {
  at: number;
  settled = false;
  resolve!: (reply: Reply) => void;
  reject!: (err: InferenceError) => void;
  readonly reply: Promise<Reply>;
  constructor(private readonly client: InferenceClient, readonly key: string, readonly type: string, readonly id: string, readonly timeoutMs: number) {
    this.at = performance.now() + timeoutMs;
    this.reply = new Promise<Reply>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
  }
  /** Heard about the request (progress): its timeout starts again. */
  touch(): void { this.at = performance.now() + this.timeoutMs; }
  answer(reply: Reply): void {
    if (this.settled) return;
    this.settled = true;
    this.client.forget(this);
    this.resolve(reply);
  }
  fail(err: InferenceError): void {
    if (this.settled) return;
    this.settled = true;
    this.client.forget(this);
    this.reject(err);
  }
  due(): void { this.fail(new InferenceError('TIMEOUT', `no reply to ${this.type} ${this.id} within ${this.timeoutMs} ms`, true, undefined, true)); }
}

export function defaultProgressEndpoint(endpoint: string): string {
  const m = endpoint.match(/^(.*):(\d+)$/);
  if (!m) throw new Error(`cannot derive the progress endpoint from ${endpoint}: give progressEndpoint`);
  return `${m[1]}:${Number(m[2]) + 1}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class InferenceClient {
  private readonly dealer: Dealer;
  private readonly sub: Subscriber;
  /** Requests waiting for a reply, by type + id (several only when one job is submitted twice at once). */
  private readonly waiters = new Map<string, Attempt | Attempt[]>();
  private readonly progress = new Map<string, { seq: number; listeners: Set<(e: ProgressEvent) => void> }>();
  // The one timer: armed for the earliest of `dues` (or later: a sweep re-arms it), unref'd when none is left.
  private readonly dues = new Set<Due>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  // Sends: zeromq.js allows one in progress per socket. One that completes at once (the socket is
  // writable: the usual case) leaves the socket free; otherwise later sends wait in `outbox`.
  private sending: Promise<void> | undefined;
  private readonly outbox: Array<[Uint8Array, Attempt]> = [];
  private counter = 0;
  private closed = false;
  readonly opts: Required<Omit<InferenceClientOptions, 'curve'>> & { curve?: CurveKeys };

  constructor(options: InferenceClientOptions) {
    this.opts = {
      progressEndpoint: options.progressEndpoint ?? defaultProgressEndpoint(options.endpoint),
      requestTimeoutMs: 30_000, watchAfterMs: 50, retries: 5, backoffInitialMs: 200, backoffMaxMs: 5_000, reconnectMs: 100, reconnectMaxMs: 2_000,
      // An option given as undefined keeps its default.
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as InferenceClientOptions,
    };
    const common = {
      linger: 0, reconnectInterval: this.opts.reconnectMs, reconnectMaxInterval: this.opts.reconnectMaxMs,
      ...(options.curve ? { curveServerKey: options.curve.serverPublicKey, curvePublicKey: options.curve.publicKey, curveSecretKey: options.curve.secretKey } : {}),
    };
    // sendTimeout: a send that cannot even be queued (no usable connection, e.g. a CURVE handshake
    // that keeps failing) fails instead of blocking every later send behind it.
    this.dealer = new Dealer({ ...common, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000, sendTimeout: this.opts.requestTimeoutMs });
    this.sub = new Subscriber(common);
    this.dealer.connect(options.endpoint);
    this.sub.connect(this.opts.progressEndpoint);
    void this.receiveReplies();
    void this.receiveProgress();
  }

  private async receiveReplies(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        let reply: Reply;
        try {
          reply = decoder.decode(frames[frames.length - 1]) as Reply; // the payload is the last frame (protocol §1.1)
        } catch {
          continue;
        }
        const waiting = this.waiters.get(`${reply.type}\u0000${reply.id}`);
        if (waiting === undefined) continue; // a late or duplicate reply: nobody waits for it any more
        if (waiting instanceof Attempt) waiting.answer(reply);
        else for (const attempt of [...waiting]) attempt.answer(reply);
      }
    } catch (err) {
      // Never an unhandled rejection in a worker process: requests then time out and are retried.
      if (!this.closed) console.error(`inference client ${this.opts.endpoint}: receive loop ended: ${(err as Error).message}`);
    }
  }

  private async receiveProgress(): Promise<void> {
    try {
      for await (const [topic, payload] of this.sub) {
        const entry = this.progress.get(topic.toString('utf8')); // exact match: subscriptions are prefixes
        if (!entry) continue;
        let event: ProgressEvent;
        try {
          event = decoder.decode(payload) as ProgressEvent;
        } catch {
          continue;
        }
        const gap = event.seq !== entry.seq + 1 && entry.seq >= 0;
        entry.seq = event.seq;
        for (const listener of entry.listeners) listener({ ...event, gap });
      }
    } catch (err) {
      // Never an unhandled rejection in a worker process: requests then time out and are retried.
      if (!this.closed) console.error(`inference client ${this.opts.endpoint}: receive loop ended: ${(err as Error).message}`);
    }
  }

  /** Sends one request; a send that fails fails its attempt (UNREACHABLE, retryable). */
  private send(payload: Uint8Array, attempt: Attempt): void {
    if (this.sending !== undefined) {
      this.outbox.push([payload, attempt]);
      return;
    }
    let sent: Promise<void>;
    try {
      sent = this.dealer.send(payload);
    } catch (err) {
      attempt.fail(new InferenceError('UNREACHABLE', `send failed: ${(err as Error).message}`, true));
      return;
    }
    // Resolved at once when the socket was writable; until it settles, no other send may start.
    this.sending = sent;
    sent.then(() => this.sent(sent), (err: Error) => {
      attempt.fail(new InferenceError('UNREACHABLE', `send failed: ${err.message}`, true));
      this.sent(sent);
    });
    // zeromq.js sends at once when it can and resolves the promise right away; the socket is then free
    // again, which it tells us only a microtask later: until then, the next send queues.
  }

  private sent(which: Promise<void>): void {
    if (this.sending !== which) return;
    this.sending = undefined;
    while (this.sending === undefined && this.outbox.length > 0) {
      const [payload, attempt] = this.outbox.shift()!;
      if (!attempt.settled) this.send(payload, attempt); // timed out while queued: not sent at all
    }
  }

  /** Sends one request and waits for its reply; rejects with TIMEOUT when none comes in time. */
  private exchange(msg: Record<string, unknown> & { type: string; id: string }, timeoutMs: number): Promise<Reply> {
    if (this.closed) return Promise.reject(new InferenceError('UNREACHABLE', 'client closed', false));
    const key = `${msg.type}\u0000${msg.id}`;
    const attempt = new Attempt(this, key, msg.type, msg.id, timeoutMs);
    const waiting = this.waiters.get(key);
    if (waiting === undefined) this.waiters.set(key, attempt);
    else if (waiting instanceof Attempt) this.waiters.set(key, [waiting, attempt]);
    else waiting.push(attempt);
    // The timeout covers the send too: a send stuck behind a dead connection does not hold the caller.
    this.schedule(attempt);
    this.send(encoder.encode(msg.v === undefined ? { v: PROTOCOL_VERSION, ...msg } : msg), attempt);
    return attempt.reply;
  }

  /** An attempt that settled: no reply or timeout concerns it any more. */
  forget(attempt: Attempt): void {
    this.unschedule(attempt);
    const waiting = this.waiters.get(attempt.key);
    if (waiting === attempt) this.waiters.delete(attempt.key);
    else if (Array.isArray(waiting)) {
      const rest = waiting.filter((a) => a !== attempt);
      if (rest.length === 0) this.waiters.delete(attempt.key);
      else this.waiters.set(attempt.key, rest.length === 1 ? rest[0] : rest);
    }
  }

  private schedule(due: Due): void {
    this.dues.add(due);
    if (due.at < this.timerAt) this.arm(due.at);
    else this.timer?.ref();
  }

  private unschedule(due: Due): void {
    // The timer stays armed (re-arming costs more than a sweep that finds nothing due); with nothing
    // left it no longer keeps the process alive.
    if (this.dues.delete(due) && this.dues.size === 0) this.timer?.unref();
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.sweep, Math.max(0, at - performance.now()) + 1);
    if (this.dues.size === 0) this.timer.unref();
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    const due: Due[] = [];
    for (const d of this.dues) if (d.at <= now) due.push(d);
    for (const d of due) {
      this.dues.delete(d);
      d.due();
    }
    let next = Infinity;
    for (const d of this.dues) if (d.at < next) next = d.at;
    if (next < this.timerAt) this.arm(next);
  };

  private nextId(prefix: string): string {
    return `${prefix}-${process.pid}-${++this.counter}-${Math.random().toString(36).slice(2, 8)}`;
  }

  private async simple(type: 'ping' | 'status' | 'ops', timeoutMs?: number): Promise<Record<string, unknown>> {
    const reply = await this.exchange({ type, id: this.nextId(type) }, timeoutMs ?? this.opts.requestTimeoutMs);
    if (!reply.ok) throw new InferenceError(reply.error?.code ?? 'INTERNAL', reply.error?.message ?? 'error', false);
    return reply.result ?? {};
  }

  ping(timeoutMs = 2_000): Promise<Record<string, unknown>> { return this.simple('ping', timeoutMs); }
  status(timeoutMs?: number): Promise<Record<string, unknown>> { return this.simple('status', timeoutMs); }
  ops(timeoutMs?: number): Promise<Record<string, unknown>> { return this.simple('ops', timeoutMs); }

  /** Asks the server to cancel a job: 'removed' | 'stopping' | 'finished' | 'unknown'. */
  async cancel(id: string, timeoutMs = 5_000): Promise<string> {
    const reply = await this.exchange({ type: 'cancel', id }, timeoutMs);
    return String(reply.result?.state ?? reply.error?.code);
  }

  /** Subscribes to a job's progress events; returns the unsubscribe function. */
  watch(id: string, listener: (e: ProgressEvent) => void): () => void {
    let entry = this.progress.get(id);
    if (!entry) {
      entry = { seq: -1, listeners: new Set() };
      this.progress.set(id, entry);
      this.sub.subscribe(id);
    }
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.progress.get(id) === entry) {
        this.progress.delete(id);
        if (!this.closed) this.sub.unsubscribe(id);
      }
    };
  }

  /** Runs a job to its end: retries TIMEOUT and BUSY with backoff, always with the same id. */
  async submit(req: SubmitRequest): Promise<SubmitReply> {
    const timeoutMs = req.requestTimeoutMs ?? this.opts.requestTimeoutMs;
    const key = `submit\u0000${req.id}`;
    // Progress for this job counts as hearing from the server: it re-arms the attempt's timeout.
    // Without onProgress (or with watch: 'late'), only a job still outstanding after watchAfterMs is
    // watched (a short one is answered before then; a long one has requestTimeoutMs to send its first
    // event after that).
    let unwatch: (() => void) | undefined;
    const startWatching = () => {
      unwatch = this.watch(req.id, (event) => {
        const waiting = this.waiters.get(key);
        if (waiting instanceof Attempt) waiting.touch();
        else if (waiting) for (const attempt of waiting) attempt.touch();
        req.onProgress?.(event);
      });
    };
    let lateWatch: Due | undefined;
    if (req.onProgress && req.watch !== 'late') startWatching();
    else this.schedule(lateWatch = { at: performance.now() + Math.min(this.opts.watchAfterMs, timeoutMs / 2), due: startWatching });
    let aborted: Promise<never> | undefined;
    let onAbort: (() => void) | undefined;
    if (req.signal) {
      aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          this.cancel(req.id).catch(() => undefined); // best effort: the server may be gone
          reject(new InferenceError('CANCELLED', `job ${req.id} cancelled by the client`, false));
        };
        if (req.signal!.aborted) onAbort();
        else req.signal!.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
    }
    const msg = {
      v: PROTOCOL_VERSION, type: 'submit', id: req.id, op: req.op, params: req.params ?? {}, inputs: req.inputs ?? {},
      ...(req.model ? { model: req.model } : {}), ...(req.jobTimeoutMs ? { timeout_ms: Math.ceil(req.jobTimeoutMs) } : {}),
    };
    try {
      let backoff = this.opts.backoffInitialMs;
      for (let attempt = 1; ; attempt++) {
        let failure: InferenceError;
        try {
          const attemptReply = this.exchange(msg, timeoutMs);
          const reply = await (aborted ? Promise.race([attemptReply, aborted]) : attemptReply);
          if (reply.ok) return { result: reply.result ?? {}, meta: reply.meta ?? {}, attempts: attempt };
          const code = reply.error?.code ?? 'INTERNAL';
          failure = new InferenceError(code, reply.error?.message ?? 'error', RETRYABLE_CODES.has(code), reply.meta);
        } catch (err) {
          if (!(err instanceof InferenceError)) throw err;
          failure = err;
        }
        const again = (failure.code === 'TIMEOUT' || failure.code === 'BUSY' || failure.code === 'UNREACHABLE') && attempt <= this.opts.retries;
        if (!again || req.signal?.aborted) {
          if (failure.code === 'TIMEOUT' && failure.local) {
            throw new InferenceError('UNREACHABLE', `no reply from ${this.opts.endpoint} for job ${req.id} after ${attempt} attempts of ${timeoutMs} ms`, true);
          }
          throw failure;
        }
        const wait = Math.min(backoff, this.opts.backoffMaxMs) * (0.5 + Math.random() / 2); // jitter
        backoff *= 2;
        await (aborted ? Promise.race([sleep(wait), aborted]) : sleep(wait));
      }
    } finally {
      if (lateWatch) this.unschedule(lateWatch);
      unwatch?.();
      if (onAbort) req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Waits until the server answers ping (after a start or restart). */
  async waitReady(totalMs = 30_000, pingMs = 500): Promise<Record<string, unknown>> {
    const deadline = Date.now() + totalMs;
    for (;;) {
      try {
        return await this.ping(pingMs);
      } catch (err) {
        if (Date.now() > deadline) throw new InferenceError('UNREACHABLE', `${this.opts.endpoint} did not answer ping within ${totalMs} ms: ${(err as Error).message}`, true);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dealer.close();
    this.sub.close();
    const closed: Reply = { v: 1, type: null, id: null, ok: false, error: { code: 'UNREACHABLE' as ErrorCode, message: 'client closed', retryable: true } };
    for (const waiting of [...this.waiters.values()]) {
      for (const attempt of waiting instanceof Attempt ? [waiting] : [...waiting]) attempt.answer(closed);
    }
    this.waiters.clear();
    this.dues.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.outbox.length = 0;
  }
}
