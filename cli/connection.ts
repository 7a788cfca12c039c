// Connection settings for every CLI command: TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE and the TLS
// variables (workers/temporal-connection.ts, shared with the workers), defaulting to the embedded dev
// server of `npm start`. A server that is down is named, with how to start one.
import { Client, Connection } from '@temporalio/client';
import { devServerPorts } from '../host/paths.ts';
import { describeConnection, temporalConnectionSettings } from '../host/temporal-connection.ts';

export { DEFAULT_ADDRESS } from '../host/temporal-connection.ts';

export function temporalAddress(): string {
  return temporalConnectionSettings().address;
}

export function temporalNamespace(): string {
  return temporalConnectionSettings().namespace;
}

/**
 * The Temporal Web UI's base URL: SPARKY_UI_URL (what `sparky dev` serves), else the embedded dev
 * server's UI port (SPARKY_UI_PORT, default 8233) on this machine.
 */
export function webUiUrl(): string {
  return process.env.SPARKY_UI_URL || `http://127.0.0.1:${devServerPorts().uiPort}`;
}

/** A run's page in the Web UI. */
export function webUiRunUrl(workflowId: string): string {
  return `${webUiUrl()}/namespaces/${encodeURIComponent(temporalNamespace())}/workflows/${encodeURIComponent(workflowId)}`;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

export async function connectClient(): Promise<Client> {
  let settings;
  try {
    settings = temporalConnectionSettings();
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  const { address, namespace, tls } = settings;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, tls, connectTimeout: 3000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw new CliError(
      `no Temporal server answers at ${describeConnection(settings)} (TEMPORAL_ADDRESS${tls ? ', TEMPORAL_TLS_*' : ''}).\n` +
      `  Start the embedded stack with \`npm start\` (or \`npx sparky dev\`), or point TEMPORAL_ADDRESS at your server.\n` +
      `  (${(err as Error).message.split('\n')[0]})`, 3);
  }
  return new Client({ connection, namespace });
}
