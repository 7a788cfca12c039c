// The workflow bundle (webpack, via Temporal's bundleWorkflowCode) and the build id of Worker Versioning
// (ADR 0005). The build id is the hash of what webpack bundled: the bundle's code without its inline
// source map (the map names files by absolute path). Module ids are paths
// relative to the checkout (webpack's context is PROJECT_ROOT, not the cwd, and a symlinked
// node_modules keeps its link path), so the same code is the same build in any folder on any host,
// and code that the bundle does not contain (the CLI, activities, tests) never changes it.
// Bundling takes seconds on a small machine, so bundles are cached under .sparky/cache, named by
// their build id (workflows-<id>.js; the cache keeps old builds' code for draining), and found again
// through a cheap source key (sources-<key>: relative paths and contents of workflows/, common/,
// plan/ and package-lock.json): workers start in well under a second after the first time.
import { bundleWorkflowCode } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DATA_DIR, PROJECT_ROOT } from '../host/paths.ts';

/** Folders whose sources the source key covers (everything workflow code can import from the checkout). */
const SOURCE_DIRS = ['workflows', 'common', 'plan'];
/** Changes when the bundler settings below change: a cached bundle made otherwise is not reused. */
const BUNDLER_SETTINGS = 'context=checkout;symlinks=false;loaders-by-link-path;build=code-without-source-map';

const DEFAULT_WORKFLOWS = path.join(PROJECT_ROOT, 'workflows', 'index.ts');
const CACHE_DIR = path.join(DATA_DIR, 'cache');

export interface BuiltBundle { codePath: string; buildId: string }

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : /\.(ts|js|json)$/.test(name) ? [full] : [];
  });
}

/** The cache key of a bundle: relative paths and contents of the sources it can reach (cheap: no bundling). */
function sourceKey(workflowsPath: string): string {
  const hash = createHash('sha256').update(BUNDLER_SETTINGS);
  const files = [...SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d))), workflowsPath];
  for (const file of new Set(files)) hash.update(path.relative(PROJECT_ROOT, file)).update('\0').update(readFileSync(file));
  hash.update(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

const SOURCE_MAP = /\n\/\/# sourceMappingURL=data:[^\n]*\s*$/;

/** The build id of bundled workflow code: `build-` and 16 hex digits of the SHA-256 of its code without the source map. */
export function buildIdOfCode(code: string): string {
  if (!SOURCE_MAP.test(code)) throw new Error('the workflow bundle has no inline source map where one was expected: the bundler changed; update workers/workflow-bundle.ts');
  return `build-${createHash('sha256').update(code.replace(SOURCE_MAP, '\n')).digest('hex').slice(0, 16)}`;
}

const BUILD_ID = /^build-[0-9a-f]{16}$/;
const bundlePath = (buildId: string) => path.join(CACHE_DIR, `workflows-${buildId.replace(/^build-/, '')}.js`);

/** Writes a file whole or not at all: concurrent workers and test files never read half of one. */
function writeAtomically(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, content);
  renameSync(partial, file);
}

/** Real paths under node_modules (where a symlinked node_modules really lives) as their path through the checkout. */
function linkPaths<T>(value: T): T {
  const link = path.join(PROJECT_ROOT, 'node_modules');
  let real: string;
  try { real = realpathSync(link); } catch { return value; }
  if (real === link) return value;
  const map = (v: unknown): unknown => {
    if (typeof v === 'string') return v === real || v.startsWith(`${real}${path.sep}`) ? link + v.slice(real.length) : v;
    if (Array.isArray(v)) return v.map(map);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, map(x)]));
    return v;
  };
  return map(value) as T;
}

async function build(workflowsPath: string, key: string): Promise<BuiltBundle> {
  const { code } = await bundleWorkflowCode({
    workflowsPath, logger: quietLogger,
    // Module ids relative to the checkout, whatever the cwd and wherever node_modules really lives. Loaders
    // too are named by their link path: webpack orders a chunk's modules by identifier (`loader!resource`),
    // and the SDK names its loaders by real path (require.resolve), so a checkout whose node_modules is a
    // symlink would order its modules otherwise, and hash to another build.
    webpackConfigHook: (config) => ({
      ...config, context: PROJECT_ROOT,
      resolve: { ...config.resolve, symlinks: false },
      resolveLoader: { ...config.resolveLoader, symlinks: false },
      module: linkPaths(config.module),
    }),
  });
  const buildId = buildIdOfCode(code);
  const codePath = bundlePath(buildId);
  if (!existsSync(codePath)) writeAtomically(codePath, code);
  writeAtomically(path.join(CACHE_DIR, `sources-${key}`), `${buildId}\n`);
  return { codePath, buildId };
}

const building = new Map<string, Promise<BuiltBundle>>();

/**
 * The bundle of the workflow code (`{ codePath }` for `Worker.create({ workflowBundle })`) and its build id,
 * from the cache when these sources were bundled before.
 */
export function workflowBundle(workflowsPath = DEFAULT_WORKFLOWS): Promise<BuiltBundle> {
  const key = sourceKey(workflowsPath);
  const index = path.join(CACHE_DIR, `sources-${key}`);
  if (existsSync(index)) {
    const buildId = readFileSync(index, 'utf8').trim();
    const codePath = bundlePath(buildId);
    if (BUILD_ID.test(buildId) && existsSync(codePath)) return Promise.resolve({ codePath, buildId });
  }
  let pending = building.get(key);
  if (!pending) {
    pending = build(workflowsPath, key).finally(() => building.delete(key));
    building.set(key, pending);
  }
  return pending;
}

/**
 * The build id of the workflow code (Worker Versioning): the hash of its bundle, so a change of what the
 * bundle runs is a new build, and the same code is the same build in every folder on every host.
 */
export async function workflowBuildId(workflowsPath = DEFAULT_WORKFLOWS): Promise<string> {
  return (await workflowBundle(workflowsPath)).buildId;
}

/** The cached bundle of an earlier build, if this machine built it (old runs pinned to it can drain on it). */
export function cachedBundle(buildId: string): { codePath: string } | undefined {
  const codePath = bundlePath(buildId);
  return existsSync(codePath) ? { codePath } : undefined;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
