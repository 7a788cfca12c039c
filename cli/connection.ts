// Connection settings for every CLI command: TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE and the TLS
// variables (workers/temporal-connection.ts, shared with the workers), defaulting to the embedded dev
// server of `npm start`. A server that is down is named, with how to start one.
import { Client, Connection } from '@temporalio/client';
import { describeConnection, temporalConnectionSettings } from '../host/temporal-connection.ts';
import { locateWebUi, webUiRunLink, type WebUiLocation } from '../host/web-ui.ts';

export { DEFAULT_ADDRESS } from '../host/temporal-connection.ts';

export function temporalAddress(): string {
  return temporalConnectionSettings().address;
}

export function temporalNamespace(): string {
  return temporalConnectionSettings().namespace;
}

let webUi: WebUiLocation | undefined;

/**
 * Finds the Temporal Web UI once per command (host/web-ui.ts: SPARKY_UI_URL, SPARKY_UI_PORT, or the dev
 * server's convention for TEMPORAL_ADDRESS if something answers there). Commands that print links call
 * it before printing; `webUiRunUrl` then answers from what it found.
 */
export async function findWebUi(): Promise<WebUiLocation> {
  webUi ??= await locateWebUi(process.env);
  return webUi;
}

/** A run's page in the Web UI, or undefined when the Web UI is unknown (or was not looked for). */
export function webUiRunUrl(workflowId: string): string | undefined {
  return webUi?.url ? webUiRunLink(webUi.url, temporalNamespace(), workflowId) : undefined;
}

/** `http://…/workflows/<id>` followed by `suffix`, or why there is no link and where to set it. */
export function webUiText(workflowId: string, suffix = ''): string {
  const url = webUiRunUrl(workflowId);
  return url ? `${url}${suffix}` : (webUi?.note ?? 'unknown: set SPARKY_UI_URL or SPARKY_UI_PORT to where your Temporal Web UI listens');
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
