// Connection settings for every CLI command: TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, defaulting to the
// embedded dev server of `npm start`. A server that is down is named, with how to start one.
import { Client, Connection } from '@temporalio/client';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';

export function temporalAddress(): string {
  return process.env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS;
}

export function temporalNamespace(): string {
  return process.env.TEMPORAL_NAMESPACE || 'default';
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

export async function connectClient(): Promise<Client> {
  const address = temporalAddress();
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 3000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw new CliError(
      `no Temporal server answers at ${address} (TEMPORAL_ADDRESS).\n` +
      `  Start the embedded stack with \`npm start\` (or \`npx sparky dev\`), or point TEMPORAL_ADDRESS at your server.\n` +
      `  (${(err as Error).message.split('\n')[0]})`, 3);
  }
  return new Client({ connection, namespace: temporalNamespace() });
}
