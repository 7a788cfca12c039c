// Host-level settings: where the project's installed tools and runtime data live, and the ports of the
// embedded dev server (never imported by workflow code).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TOOLS_BIN = path.join(PROJECT_ROOT, '.tools', 'bin');
export const TEMPORAL_BIN = process.env.SPARKY_TEMPORAL_BIN ?? path.join(TOOLS_BIN, 'temporal');
export const TEMPORAL_TEST_SERVER_BIN = path.join(TOOLS_BIN, 'temporal-test-server');
export const VENV_PYTHON = process.env.SPARKY_PYTHON ?? path.join(PROJECT_ROOT, '.tools', 'venv', 'bin', 'python');
export const DATA_DIR = process.env.SPARKY_DATA_DIR ?? path.join(PROJECT_ROOT, '.sparky');

/** The embedded dev server's ports (`sparky dev` / `npm start`): SPARKY_TEMPORAL_PORT, SPARKY_UI_PORT. */
export function devServerPorts(): { port: number; uiPort: number } {
  return { port: Number(process.env.SPARKY_TEMPORAL_PORT || 7233), uiPort: Number(process.env.SPARKY_UI_PORT || 8233) };
}
