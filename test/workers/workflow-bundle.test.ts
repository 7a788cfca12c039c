// The build id of Worker Versioning is the hash of the workflow bundle's contents, wherever the checkout
// lives (ADR 0005): two copies of the checkout in different folders, each bundling into a fresh cache
// from a different working directory, get one build id; the bundle's code names no absolute path; code
// the bundle does not contain (CLI-only code, even in plan/) does not change the build, workflow code does.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { buildIdOfCode, cachedBundle, workflowBuildId, workflowBundle } from '../../workers/workflow-bundle.ts';

const root = await mkdtemp(path.join(os.tmpdir(), 'sparky-build-id-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of the checkout (its working tree, not .git or caches) at `dir`, node_modules linked as in a worktree. */
function copyCheckout(dir: string): string {
  const skip = new Set(['node_modules', '.git', '.sparky', '.tools']);
  mkdirSync(dir, { recursive: true });
  cpSync(PROJECT_ROOT, dir, { recursive: true, filter: (src) => !skip.has(path.relative(PROJECT_ROOT, src).split(path.sep)[0]) });
  symlinkSync(realpathSync(path.join(PROJECT_ROOT, 'node_modules')), path.join(dir, 'node_modules'));
  return dir;
}

/** The build id a checkout computes for itself, in a process of its own with a fresh bundle cache. */
async function buildIdIn(checkout: string, cwd: string, dataDir: string): Promise<string> {
  const r = await execa(process.execPath, ['--import', import.meta.resolve('tsx'), '-e',
    `import(${JSON.stringify(path.join(checkout, 'workers', 'workflow-bundle.ts'))}).then(async (m) => console.log(await m.workflowBuildId()))`],
  { cwd, reject: false, all: true, env: { SPARKY_DATA_DIR: dataDir }, timeout: 180_000 });
  assert.equal(r.exitCode, 0, r.all);
  return r.stdout.trim().split('\n').at(-1)!;
}

test('two copies of the checkout in different folders, bundled from different working directories, have one build id', { timeout: 400_000 }, async () => {
  const a = copyCheckout(path.join(root, 'host-a', 'sparky'));
  const b = copyCheckout(path.join(root, 'elsewhere', 'deeper', 'checkout-b'));
  const [idA, idB] = [await buildIdIn(a, a, path.join(root, 'data-a')), await buildIdIn(b, os.tmpdir(), path.join(root, 'data-b'))];
  assert.match(idA, /^build-[0-9a-f]{16}$/);
  assert.equal(idB, idA, 'the same code in another folder is the same build');
  assert.equal(await workflowBuildId(), idA, 'and this checkout has it too');
  // Each copy bundled for itself (nothing shared a cache), and the bundle is cached under its build id.
  for (const data of ['data-a', 'data-b']) assert.ok(readFileSync(path.join(root, data, 'cache', `workflows-${idA.slice('build-'.length)}.js`), 'utf8').length > 100_000);

  // Code outside the bundle is not part of the build (plan/load.ts: the CLI's plan reader, beside the
  // validation the workflows use); workflow code is.
  appendFileSync(path.join(b, 'plan', 'load.ts'), '\nexport const cliOnlyMarker = 1;\n');
  assert.equal(await buildIdIn(b, b, path.join(root, 'data-b')), idA, 'a change of CLI-only code in plan/ is the same build');
  appendFileSync(path.join(b, 'workflows', 'index.ts'), '\nexport const buildMarker = 1;\n');
  assert.notEqual(await buildIdIn(b, b, path.join(root, 'data-b')), idA, 'a change of workflow code is a new build');
});

test("the bundle's code names no absolute path of the checkout, and its build id is the hash of that code", async () => {
  const { codePath, buildId } = await workflowBundle();
  const code = readFileSync(codePath, 'utf8');
  const withoutMap = code.replace(/\n\/\/# sourceMappingURL=data:[^\n]*\s*$/, '\n');
  assert.ok(withoutMap.length > 100_000 && withoutMap.length < code.length, 'the inline source map is what is left out');
  for (const absolute of [PROJECT_ROOT, realpathSync(path.join(PROJECT_ROOT, 'node_modules'))]) {
    assert.ok(!withoutMap.includes(absolute), `the bundle's code names ${absolute}`);
  }
  assert.equal(buildIdOfCode(code), buildId);
  assert.deepEqual(cachedBundle(buildId), { codePath }, 'cachedBundle finds a build by its id (draining old builds)');
  assert.equal(cachedBundle('build-0000000000000000'), undefined);
  assert.throws(() => buildIdOfCode('var x = 1;\n'), /no inline source map .* update workers\/workflow-bundle\.ts/);
});
