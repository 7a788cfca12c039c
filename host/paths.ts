// Host-level settings: where the project's installed tools and runtime data live, and the ports of the
// embedded dev server (never imported by workflow code).
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PORT, UI_PORT_OFFSET } from './temporal-connection.ts';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');
export const TEMPORAL_BIN = process.env.SPARKY_TEMPORAL_BIN ?? path.join(TOOLS_BIN, 'temporal');
export const TEMPORAL_TEST_SERVER_BIN = path.join(TOOLS_BIN, 'temporal-test-server');
/** `just` (scripts/setup installs it into .tools/bin; else the one on PATH). */
export const JUST_BIN = process.env.SPARKY_JUST_BIN ?? (existsSync(path.join(TOOLS_BIN, 'just')) ? path.join(TOOLS_BIN, 'just') : 'just');
export const VENV_PYTHON = process.env.SPARKY_PYTHON ?? path.join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'python');
export const DATA_DIR = process.env.SPARKY_DATA_DIR ?? path.join(PROJECT_ROOT, '.sparky');

/**
 * The embedded dev server's ports (`sparky dev` / `npm start`): SPARKY_TEMPORAL_PORT (default 7233) and
 * SPARKY_UI_PORT (default: the gRPC port + 1000, as `temporal server start-dev` does; 8233).
 */
export function devServerPorts(env: NodeJS.ProcessEnv = process.env, port = Number(env.SPARKY_TEMPORAL_PORT || DEFAULT_PORT)): { port: number; uiPort: number } {
  return { port, uiPort: Number(env.SPARKY_UI_PORT || port + UI_PORT_OFFSET) };
}
