// Where the Temporal Web UI is, for the links the CLI prints and notifications carry. Never a default
// that nothing serves: SPARKY_UI_URL (what `sparky dev` serves, or any URL), else SPARKY_UI_PORT on the
// host of TEMPORAL_ADDRESS, else the dev server's convention (the gRPC port + 1000, on that host) if
// something answers there; otherwise unknown, with where to set it.
import { DEFAULT_ADDRESS, splitAddress, UI_PORT_OFFSET } from './temporal-connection.ts';

export interface WebUiLocation {
  /** The Web UI's base URL (no trailing slash), or undefined when nothing is known to serve it. */
  url?: string;
  /** How it was found, or why it is unknown and where to set it. */
  note: string;
}

const hostPart = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** The address the clients use, as the CLI and workers read it (host/temporal-connection.ts). */
function address(env: NodeJS.ProcessEnv): string {
  return env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS;
}

/** SPARKY_UI_URL, or SPARKY_UI_PORT on the server's host: what a person said, taken as is. */
export function configuredWebUi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SPARKY_UI_URL) return env.SPARKY_UI_URL.replace(/\/+$/, '');
  if (env.SPARKY_UI_PORT) return `http://${hostPart(splitAddress(address(env)).host)}:${Number(env.SPARKY_UI_PORT)}`;
  return undefined;
}

/** The dev server's convention for the address the clients use: same host, the gRPC port + 1000. */
export function conventionalWebUi(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { host, port } = splitAddress(address(env));
  return port === undefined ? undefined : `http://${hostPart(host)}:${port + UI_PORT_OFFSET}`;
}

/** Whether an HTTP server answers at `url` within `timeoutMs` (any status counts: something serves it). */
export async function answers(url: string, timeoutMs = 800): Promise<boolean> {
  try {
    const res = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

const WHERE = 'set SPARKY_UI_URL (e.g. http://host:8233) or SPARKY_UI_PORT to where your Temporal Web UI listens';

/** Where the Web UI is (probing the dev server's convention when nothing is configured). */
export async function locateWebUi(env: NodeJS.ProcessEnv = process.env, timeoutMs?: number): Promise<WebUiLocation> {
  const configured = configuredWebUi(env);
  if (configured) return { url: configured, note: env.SPARKY_UI_URL ? 'SPARKY_UI_URL' : 'SPARKY_UI_PORT' };
  const guess = conventionalWebUi(env);
  if (!guess) return { note: `unknown (TEMPORAL_ADDRESS=${address(env)} has no port to derive it from): ${WHERE}` };
  if (await answers(guess, timeoutMs)) return { url: guess, note: `the dev server's convention for ${address(env)} (gRPC port + ${UI_PORT_OFFSET}), answering` };
  return { note: `unknown: nothing answers at ${guess} (the dev server's Web UI for ${address(env)}); ${WHERE}` };
}

/** A run's page in the Web UI. */
export function webUiRunLink(base: string, namespace: string, workflowId: string): string {
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
