// `sparky dev` (and `npm start`): the embedded stack: the Temporal dev server with the Web UI and
// SQLite under .sparky/ (a child process), and, inside this same Node process, the CPU worker and the
// GPU pool workers (each GPU's inference server is a child process; one CPU-backed pair without a GPU);
// optionally a run of a plan, followed live. `--server-only` starts the server and Web UI alone, so the
// workers run as processes of their own (workers/cpu.ts, workers/gpu.ts) and can be killed on their own.
// Ctrl-C stops everything cleanly; runs stay in .sparky/temporal.db and continue at the next start.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { formatErrors, loadPlanFile } from '../plan/load.ts';
import { deploymentName, makeCurrent } from '../workers/deployment.ts';
import { serveBuilds } from '../workers/builds.ts';
import { workflowBundle } from '../workers/workflow-bundle.ts';
import { SetupError, startDevServer, type DevServer } from '../host/dev-server.ts';
import { installRuntime } from '../workers/runtime.ts';
import { DATA_DIR, devServerPorts } from '../host/paths.ts';
import path from 'node:path';
import { CliError } from './connection.ts';

export interface DevOptions { run?: string; autoApprove?: string[]; exitWhenDone?: boolean; newRun?: boolean; serverOnly?: boolean }

interface Stoppable { name: string; stop(): Promise<void> }

export async function devCommand(opts: DevOptions): Promise<number> {
  // A broken plan is reported before anything starts.
  if (opts.run) {
    const loaded = await loadPlanFile(opts.run);
    if (!loaded.ok) { console.error(formatErrors(loaded.errors)); throw new CliError(`${opts.run}: the plan is invalid; nothing was started`, 2); }
  }
  if (process.env.SPARKY_UNVERSIONED === '1') {
    throw new CliError('SPARKY_UNVERSIONED=1: `sparky dev` always serves versioned builds (it drains older ones); the variable is for workers/cpu.ts: unset it', 2);
  }
  // Worker logs go to a file: the terminal belongs to the live progress view.
  const workerLog = path.join(DATA_DIR, 'workers.log');
  installRuntime({ tags: { worker: 'dev' }, logFile: workerLog });

  let server: DevServer;
  try {
    server = await startDevServer(devServerPorts());
  } catch (err) {
    if (err instanceof SetupError) throw new CliError(err.message, 3);
    throw err;
  }
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.SPARKY_UI_URL = server.uiUrl;
  const stoppables: Stoppable[] = [{ name: 'Temporal dev server', stop: () => server.stop() }];
  const workers: Promise<void>[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= (async () => {
    for (const s of [...stoppables].reverse()) {
      try { await s.stop(); } catch (err) { console.error(`stopping ${s.name}: ${(err as Error).message}`); }
    }
  })());

  try {
    const client = new Client({ connection: await Connection.connect({ address: server.address }) });
    let workersLine = `none in this process (--server-only): start them with \`TEMPORAL_ADDRESS=${server.address} SPARKY_MAKE_CURRENT=1 npx tsx workers/cpu.ts\` and \`… workers/gpu.ts\``;
    let buildLines: string[] = [];
    if (!opts.serverOnly) {
      const connection = await NativeConnection.connect({ address: server.address });
      // Worker Versioning: runs stay on the build of the workflow code they started on (ADR 0005).
      const deployment = { name: deploymentName(), ...(await workflowBundle()) };
      const builds = await serveBuilds({ connection, client, current: deployment });
      for (const cpu of builds.workers) {
        workers.push(cpu.run());
        stoppables.push({ name: 'CPU worker', stop: async () => { if (cpu.getState() === 'RUNNING') cpu.shutdown(); } });
      }
      await makeCurrent(client, deployment);
      buildLines = builds.lines;

      const { startGpuPool } = await import('../workers/gpu.ts');
      const pool = await startGpuPool({ connection });
      stoppables.push({ name: 'GPU pool', stop: () => pool.stop() });
      workers.push(pool.done);
      workersLine = `CPU on task queue "sparky"; ${pool.describe()} (in this process)`;
    }

    // The Sparky board, on its own port (SPARKY_BOARD_PORT, default 8234), linking to this Web UI.
    const { serveBoard } = await import('./board.ts');
    // The default port taken (another stack on this machine): any free one, printed below; a port asked for must be had.
    const board = await serveBoard(client, { webUi: server.uiUrl, namespace: 'default' }).catch((err: Error) => {
      if (process.env.SPARKY_BOARD_PORT || !(err instanceof CliError)) throw err;
      return serveBoard(client, { webUi: server.uiUrl, namespace: 'default', port: '0' });
    });
    stoppables.push({ name: 'Sparky board', stop: () => board.close() });

    await printBanner(client, server, workersLine, workerLog, buildLines, board.url);

    // `on`, not `once`: log-update's cursor restorer (signal-exit) re-raises a signal that no other
    // listener is left to handle, which would kill us before the stack is stopped. A second Ctrl-C
    // stops waiting for a clean shutdown.
    // (One Ctrl-C can arrive twice: from the terminal and relayed by tsx; so "again" means a second later.)
    let firstInterrupt = 0;
    const interrupted = new Promise<number>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          if (firstInterrupt && Date.now() - firstInterrupt > 1000) { console.log('\nstopping now'); process.exit(130); }
          if (firstInterrupt) return;
          firstInterrupt = Date.now();
          console.log(`\n${signal}: stopping the stack … (again to force)`);
          resolve(130);
        });
      }
    });
    let code = 0;
    if (opts.run) {
      const { runCommand } = await import('./run.ts');
      // After Ctrl-C the stack goes down under the run's watcher: its errors no longer matter.
      const run = runCommand(opts.run, { wait: true, resume: !opts.newRun, autoApprove: opts.autoApprove, interactive: true, client })
        .catch((err: Error) => { if (!firstInterrupt) throw err; return 130; });
      code = await Promise.race([run, interrupted]);
      if (code !== 130 && !opts.exitWhenDone) {
        console.log(`\nThe stack keeps running: browse ${server.uiUrl}, or start more runs with \`npx sparky run <plan>\`. Ctrl-C stops it.`);
        code = await interrupted;
      }
    } else if (!opts.exitWhenDone) {
      code = await interrupted;
    }
    await stopAll();
    await Promise.allSettled(workers);
    console.log('stack stopped; runs are kept in', server.dbFile);
    return code === 130 ? 0 : code;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function printBanner(client: Client, server: DevServer, workersLine: string, workerLog: string, builds: string[], boardUrl: string): Promise<void> {
  let earlier = 0; let running = 0;
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'metaOrchestrator'`, pageSize: 500 })) {
    earlier += 1; if (wf.status.name === 'RUNNING') running += 1;
  }
  console.log([
    'Sparky embedded stack',
    `  Temporal server  ${server.address}   (SQLite: ${server.dbFile})`,
    `  Web UI           ${server.uiUrl}`,
    `  Sparky board     ${boardUrl}   (graph, schedule, waiting list, passkey sign-off)`,
    `  workers          ${workersLine}`,
    ...builds,
    `  logs             workers: ${workerLog}; server: ${server.logFile}; steps: npx sparky logs <run> <workstream>/<step>`,
    `  temporal CLI     export PATH="$PWD/.tools/bin:$PATH"; temporal workflow list --query "WorkflowType='metaOrchestrator'"`,
    earlier ? `  earlier runs     ${earlier} kept (${running} still running: the workers continue them)` : '',
  ].filter(Boolean).join('\n'));
}
