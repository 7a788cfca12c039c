// Where Sparky connects to Temporal, and how: ONE place read by the CLI (cli/connection.ts) and by
// every worker (workers/cpu.ts, workers/gpu.ts). The variables are those of Temporal's environment
// configuration, so one set of exports serves Sparky and the `temporal` CLI alike
// (`scripts/cluster env` prints them):
//   TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default")
//   TEMPORAL_TLS_CLIENT_CERT_PATH / TEMPORAL_TLS_CLIENT_KEY_PATH   client certificate pair (mTLS)
//   TEMPORAL_TLS_SERVER_CA_CERT_PATH                               CA that signed the server's certificate
//   TEMPORAL_TLS_SERVER_NAME                                       name to verify the server's certificate by
//   TEMPORAL_TLS=true                                              TLS with none of the above (a public CA)
// Short aliases: TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY, TEMPORAL_TLS_CA. The *_DATA variants carry PEM text.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** The gRPC port of the embedded dev server (`npm start`), and the address clients use when TEMPORAL_ADDRESS is unset. */
export const DEFAULT_PORT = 7233;
export const DEFAULT_ADDRESS = `127.0.0.1:${DEFAULT_PORT}`;
/** `temporal server start-dev`'s convention, which `sparky dev` follows: the Web UI listens on the gRPC port + 1000. */
export const UI_PORT_OFFSET = 1000;

/** Host and port of an address (`host:port`, `[v6]:port`); the port is undefined when there is none. */
export function splitAddress(address: string): { host: string; port?: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address);
  if (!m) return { host: address };
  return { host: m[1], port: m[2] ? Number(m[2]) : undefined };
}

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** undefined: plain TCP. */
  tls?: TLSConfig;
}

function pem(env: NodeJS.ProcessEnv, what: string, pathVars: string[], dataVar: string): Buffer | undefined {
  const data = env[dataVar];
  if (data) return Buffer.from(data);
  const name = pathVars.find((v) => env[v]);
  if (!name) return undefined;
  try {
    return readFileSync(env[name]!);
  } catch (err) {
    throw new Error(`${name}=${env[name]}: cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** The settings from the environment; a named certificate file that cannot be read is an error naming the variable. */
export function temporalConnectionSettings(env: NodeJS.ProcessEnv = process.env): TemporalConnectionSettings {
  const address = env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS;
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const crt = pem(env, 'client certificate', ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CERT'], 'TEMPORAL_TLS_CLIENT_CERT_DATA');
  const key = pem(env, 'client key', ['TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_KEY'], 'TEMPORAL_TLS_CLIENT_KEY_DATA');
  const ca = pem(env, 'server CA certificate', ['TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_CA'], 'TEMPORAL_TLS_SERVER_CA_CERT_DATA');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME || undefined;
  if (Boolean(crt) !== Boolean(key)) {
    throw new Error('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY) go together: set both or neither');
  }
  const wanted = crt || ca || serverName || /^(1|true|yes)$/i.test(env.TEMPORAL_TLS ?? '');
  if (!wanted || /^(0|false|no)$/i.test(env.TEMPORAL_TLS ?? '')) return { address, namespace };
  return {
    address, namespace,
    tls: {
      ...(serverName ? { serverNameOverride: serverName } : {}),
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    },
  };
}

/** "127.0.0.1:7233" or "127.0.0.1:7233 (mTLS)" for banners and errors. */
export function describeConnection(s: TemporalConnectionSettings): string {
  return `${s.address}${s.tls ? (s.tls.clientCertPair ? ' (mTLS)' : ' (TLS)') : ''}`;
}
