// Workflow code imports the plan language (validate, outputs, paths, durations…), so those files
// must stay deterministic and free of I/O: no Node built-ins, no I/O packages, and nothing that
// imports the loader. The workflow bundle would fail at run time; this fails at test time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { PROJECT_ROOT } from '../../host/paths.ts';

const PLAN_DIR = path.join(PROJECT_ROOT, 'plan');
/** The only files of plan/ allowed to do I/O (the CLI and scripts use them, workflows never do). */
const IMPURE = new Set(['load.ts', 'justfile-check.ts', 'agent-check.ts']);
const BANNED = new Set([...builtinModules, 'yaml', 'execa', 'zeromq', '@msgpack/msgpack', 'commander', '@temporalio/client', '@temporalio/worker', '@temporalio/activity']);

test('plan/ files that workflows may import use no Node built-ins, I/O packages or the loader', async () => {
  // plan/kinds/ too: the step kinds' definitions are part of the plan language.
  const files = (await readdir(PLAN_DIR, { recursive: true })).filter((f) => f.endsWith('.ts') && !IMPURE.has(f));
  assert.ok(files.includes('validate.ts') && files.includes('outputs.ts') && files.includes('paths.ts') && files.includes(path.join('kinds', 'index.ts')));
  for (const file of files) {
    const source = await readFile(path.join(PLAN_DIR, file), 'utf8');
    for (const [, spec] of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm)) {
      const name = spec.replace(/^node:/, '');
      assert.ok(!BANNED.has(name) && !BANNED.has(name.split('/')[0]), `plan/${file} imports ${spec}`);
      // common/ is workflow code too (eslint holds it to the same rules): the signature checks live there.
      if (spec.startsWith('.')) {
        const target = path.relative(PLAN_DIR, path.resolve(PLAN_DIR, path.dirname(file), spec));
        assert.ok(!IMPURE.has(target) && (!target.startsWith('..') || target.startsWith(`..${path.sep}common${path.sep}`)), `plan/${file} imports ${spec}`);
      }
    }
    assert.doesNotMatch(source, /\b(process\.|Math\.random|Date\.now|setTimeout|require\()/, `plan/${file} touches the process, time or randomness`);
  }
});
