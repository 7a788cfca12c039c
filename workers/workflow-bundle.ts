// Bundling workflow code with webpack takes seconds on a small machine, and every worker (and every
// test file) needs the same bundle. We build it once per content hash of the sources it can reach
// and keep it under .sparky/cache, so workers start in well under a second after the first time. The
// same hash is the build id of Worker Versioning, and the cache keeps old builds' code for draining.
import { bundleWorkflowCode } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR, PROJECT_ROOT } from '../host/paths.ts';

const SOURCE_DIRS = ['workflows', 'common', 'plan'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : /\.(ts|js|json)$/.test(name) ? [full] : [];
  });
}

function sourceHash(workflowsPath: string): string {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d))), workflowsPath];
  for (const file of new Set(files)) hash.update(file).update(readFileSync(file));
  hash.update(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

const DEFAULT_WORKFLOWS = path.join(PROJECT_ROOT, 'workflows', 'index.ts');
const CACHE_DIR = path.join(DATA_DIR, 'cache');

/**
 * The build id of the workflow code (Worker Versioning): the content hash of the sources, so a change of
 * workflow code is a new build, and a checkout with the same code is the same build on every host.
 */
export function workflowBuildId(workflowsPath = DEFAULT_WORKFLOWS): string {
  return `build-${sourceHash(workflowsPath)}`;
}

/** The cached bundle of an earlier build, if this machine built it (old runs pinned to it can drain on it). */
export function cachedBundle(buildId: string): { codePath: string } | undefined {
  const codePath = path.join(CACHE_DIR, `workflows-${buildId.replace(/^build-/, '')}.js`);
  return existsSync(codePath) ? { codePath } : undefined;
}

/** Returns `{ codePath }` for `Worker.create({ workflowBundle })`. */
export async function workflowBundle(workflowsPath = DEFAULT_WORKFLOWS): Promise<{ codePath: string }> {
  const cacheDir = CACHE_DIR;
  const codePath = path.join(cacheDir, `workflows-${sourceHash(workflowsPath)}.js`);
  if (existsSync(codePath)) return { codePath };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${codePath}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, codePath); // atomic: concurrent test files never read half a bundle
  return { codePath };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
