// Starts and stops a Python inference server process (inference/server.py) for a GPU worker or a
// test: spawns the project's venv python, waits for its ready line and for `ping` to answer, and
// kills it on stop. The ports are chosen once, so a restart comes back on the same endpoints and the
// clients' DEALERs reconnect to it by themselves.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InferenceClient, type CurveKeys } from '../activities/inference-client.ts';
import { PROJECT_ROOT, VENV_PYTHON } from './paths.ts';
import { freePort } from './ports.ts';

export interface InferenceServerOptions {
  /** Pin to this GPU (`--gpu N`); without it the server computes on the CPU (`--cpu`). */
  gpu?: number;
  host?: string;
  /** Request port; default a free one. The progress port is another free one. */
  port?: number;
  pubPort?: number;
  serverId?: string;
  /** Serve Prometheus metrics on this port (0: any free port). */
  metricsPort?: number;
  /** More flags for inference.server (e.g. ['--max-queue', '8', '--ops-module', 'mypkg.ops']). */
  extraArgs?: string[];
  env?: Record<string, string>;
  python?: string;
  /** Turn CURVE on: the server's Z85 secret key, and the client keys the readiness ping uses. */
  curve?: { serverSecretKey: string; client: CurveKeys };
  /** Append the server's stderr here (default: kept in memory for error messages only). */
  logFile?: string;
  readyTimeoutMs?: number;
}

export interface InferenceServerHandle {
  endpoint: string;
  progressEndpoint: string;
  serverId: string;
  device: string;
  metricsUrl: string | null;
  readonly pid: number | undefined;
  /** SIGKILL now (fault tests); the handle can restart() afterwards. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the process again on the same endpoints and waits until it answers ping. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

interface Ready { server_id: string; bind: string; pub: string; metrics: string | null; device: string }

export async function startInferenceServer(opts: InferenceServerOptions = {}): Promise<InferenceServerHandle> {
  const python = opts.python ?? VENV_PYTHON;
  if (!existsSync(python)) {
    throw new Error(`the inference server's Python (${python}) is missing: run \`npm run setup\` (scripts/setup creates .tools/venv)`);
  }
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? await freePort(host);
  let pubPort = opts.pubPort ?? await freePort(host);
  while (pubPort === port) pubPort = await freePort(host);
  const args = ['-m', 'inference.server', ...(opts.gpu === undefined ? ['--cpu'] : ['--gpu', String(opts.gpu)]),
    '--host', host, '--port', String(port), '--pub-port', String(pubPort),
    ...(opts.serverId ? ['--id', opts.serverId] : []),
    ...(opts.metricsPort !== undefined ? ['--metrics-port', String(opts.metricsPort)] : []),
    ...(opts.extraArgs ?? [])];
  const timeoutMs = opts.readyTimeoutMs ?? 30_000;
  let child: ChildProcess | undefined;
  let ready: Ready | undefined;

  async function launch(): Promise<Ready> {
    let logFd: number | undefined;
    if (opts.logFile) {
      mkdirSync(path.dirname(opts.logFile), { recursive: true });
      logFd = openSync(opts.logFile, 'a');
    }
    const proc = spawn(python, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, PYTHONPATH: PROJECT_ROOT, PYTHONUNBUFFERED: '1', ...opts.env,
        ...(opts.curve ? { SPARKY_INFERENCE_CURVE_SECRET: opts.curve.serverSecretKey } : {}) },
      stdio: ['ignore', 'pipe', logFd ?? 'pipe'],
    });
    if (logFd !== undefined) closeSync(logFd);
    child = proc;
    const stderr: string[] = [];
    proc.stderr?.on('data', (chunk: Buffer) => { stderr.push(chunk.toString()); if (stderr.length > 200) stderr.shift(); });
    const lines = createInterface({ input: proc.stdout! });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inference server did not get ready within ${timeoutMs} ms`)), timeoutMs);
      lines.once('line', (l) => { clearTimeout(timer); resolve(l); });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`inference server exited (${code ?? signal}) before it was ready: ${stderr.join('').trim().slice(-2000)}`));
      });
    }).catch((err) => { proc.kill('SIGKILL'); throw err; });
    const info = JSON.parse(line) as Ready;
    const client = new InferenceClient({ endpoint: endpointFor(info.bind, host), progressEndpoint: endpointFor(info.pub, host), curve: opts.curve?.client });
    try {
      await client.waitReady(timeoutMs);
    } finally {
      client.close();
    }
    return info;
  }

  ready = await launch();
  const exited = (proc: ChildProcess) => new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });

  const handle: InferenceServerHandle = {
    endpoint: endpointFor(ready.bind, host),
    progressEndpoint: endpointFor(ready.pub, host),
    serverId: ready.server_id,
    device: ready.device,
    metricsUrl: ready.metrics,
    get pid() { return child?.pid; },
    async kill(signal = 'SIGKILL') {
      if (!child) return;
      const done = exited(child);
      child.kill(signal);
      await done;
    },
    async restart() {
      if (child && child.exitCode === null && child.signalCode === null) await handle.kill('SIGKILL');
      ready = await launch();
    },
    async stop() {
      if (!child) return;
      const proc = child;
      const done = exited(proc);
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await done;
      clearTimeout(timer);
    },
  };
  return handle;
}

/** A bound wildcard address (tcp://0.0.0.0:P) is reached through the host we asked for. */
function endpointFor(bound: string, host: string): string {
  return bound.replace('//0.0.0.0:', `//${host === '0.0.0.0' ? '127.0.0.1' : host}:`);
}
