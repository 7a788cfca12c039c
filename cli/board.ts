// `sparky board [--port N] [--host H] [--allow-host NAME:PORT] [--web-ui URL]`: the Sparky board, a live
// web page of the runs on the Temporal server the CLI connects to (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// the TEMPORAL_TLS_* variables for mTLS: the same settings as every other command). `sparky dev` serves
// it too, on its own port (SPARKY_BOARD_PORT, default 8234). board/server.ts says what it protects.
import { startBoard, type Board } from '../board/server.ts';
import { CliError, connectClient, findWebUi, temporalNamespace } from './connection.ts';
import type { Client } from '@temporalio/client';

export const DEFAULT_BOARD_PORT = 8234;

export interface BoardCommandOptions { port?: string; host?: string; allowHost?: string[]; webUi?: string }

/** SPARKY_BOARD_PORT, or 8234. */
export function boardPort(): number {
  return Number(process.env.SPARKY_BOARD_PORT || DEFAULT_BOARD_PORT);
}

/**
 * The Web UI the board links every item to: --web-ui, else where the CLI finds it (host/web-ui.ts:
 * SPARKY_UI_URL, SPARKY_UI_PORT, or the dev server's convention when one answers); undefined: no links.
 */
export async function boardWebUi(flag?: string): Promise<string | undefined> {
  return flag || (await findWebUi()).url;
}

export async function serveBoard(client: Client, opts: BoardCommandOptions & { namespace?: string }): Promise<Board> {
  const port = opts.port !== undefined ? Number(opts.port) : boardPort();
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a TCP port (0 for any free one), not "${opts.port}"`, 2);
  try {
    return await startBoard({ client, namespace: opts.namespace ?? temporalNamespace(), host: opts.host, port, webUiUrl: await boardWebUi(opts.webUi), allowedHosts: opts.allowHost });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`port ${port} is taken: give another with --port (or SPARKY_BOARD_PORT)`, 3);
    throw err;
  }
}

export async function boardCommand(opts: BoardCommandOptions): Promise<number> {
  const client = await connectClient();
  const board = await serveBoard(client, opts);
  console.log(`Sparky board  ${board.url}   (runs on ${temporalNamespace()}; Ctrl-C stops it)`);
  const ui = await findWebUi();
  if (!opts.webUi && !ui.url) console.log(`  Web UI links: ${ui.note} (or sparky board --web-ui URL)`);
  if (opts.host && opts.host !== '127.0.0.1' && opts.host !== 'localhost') {
    console.log('  note: reachable from other machines: anyone who reaches it may act on runs as any name (signed gates still need their keys); put it behind an authenticating proxy');
  }
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await board.close();
  return 0;
}
