// The worker process's Temporal runtime: log level, and the Prometheus endpoint that exposes the SDK's
// metrics (task latencies, slots, polls, activity and workflow counts) for scraping. Must run once,
// before the first connection of the process is made.
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';

export interface RuntimeOptions {
  /** Serve Prometheus metrics on this port (env SPARKY_METRICS_PORT); none when unset. */
  metricsPort?: number;
  /** Bind address of the metrics endpoint (env SPARKY_METRICS_HOST, default 127.0.0.1). */
  metricsHost?: string;
  logLevel?: LogLevel;
  /** Labels on every metric, e.g. { worker: 'cpu' } or { worker: 'gpu', gpu: '0' }. */
  tags?: Record<string, string>;
  /** Write worker logs to this file instead of the console (the live progress view of `sparky dev`). */
  logFile?: string;
}

function fileSink(file: string): (entry: LogEntry) => void {
  mkdirSync(path.dirname(file), { recursive: true });
  return ({ level, message, meta, timestampNanos }) => {
    const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
    appendFileSync(file, `${time} [${level}] ${message}${meta ? ` ${JSON.stringify(meta, (_k, v) => (v instanceof Error ? v.stack : v))}` : ''}\n`);
  };
}

let installed = false;

export function installRuntime(options: RuntimeOptions = {}): void {
  if (installed) return;
  installed = true;
  const port = options.metricsPort ?? (process.env.SPARKY_METRICS_PORT ? Number(process.env.SPARKY_METRICS_PORT) : undefined);
  const host = options.metricsHost ?? process.env.SPARKY_METRICS_HOST ?? '127.0.0.1';
  Runtime.install({
    logger: new DefaultLogger(options.logLevel ?? (process.env.SPARKY_LOG_LEVEL as LogLevel | undefined) ?? 'WARN',
      options.logFile ? fileSink(options.logFile) : undefined),
    telemetryOptions: port ? {
      metrics: {
        globalTags: { service: 'sparky', ...options.tags },
        prometheus: { bindAddress: `${host}:${port}` },
      },
    } : undefined,
  });
}
