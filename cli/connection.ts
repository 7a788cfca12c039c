// Connection settings for every CLI command: TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE and the TLS
// variables (workers/temporal-connection.ts, shared with the workers), defaulting to the embedded dev
// server of `npm start`. A server that is down is named, with how to start one.
import { Client, Connection } from '@temporalio/client';
import { describeConnection, temporalConnectionSettings } from '../workers/temporal-connection.ts';

export { DEFAULT_ADDRESS } from '../workers/temporal-connection.ts';

export function temporalAddress(): string {
  return temporalConnectionSettings().address;
}

export function temporalNamespace(): string {
  return temporalConnectionSettings().namespace;
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
