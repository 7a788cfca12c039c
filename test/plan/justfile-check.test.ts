// `just` steps checked against their real justfiles by the real `just` (.tools/bin/just): sparky
// validate names a misspelled recipe with file:line:col and a did-you-mean, and a wrong argument count;
// modules, aliases, defaults and variadic parameters count the way `just` counts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { formatErrors, loadPlanFile } from '../../plan/load.ts';
import { validateCommand } from '../../cli/validate.ts';
import { dumpJustfile, recipeProblem } from '../../plan/justfile-check.ts';
import { JUST_BIN } from '../../host/paths.ts';
import { capture } from '../helpers/capture.ts';

const JUSTFILE = `# build the thing
build target mode="debug":
    echo build {{target}} {{mode}}

test +files:
    echo test {{files}}

lint *paths:
    echo lint {{paths}}

alias b := build

mod tools
`;

async function project(steps: string): Promise<{ dir: string; plan: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sparky-justcheck-'));
  await writeFile(path.join(dir, 'justfile'), JUSTFILE);
  await mkdir(path.join(dir, 'tools'));
  await writeFile(path.join(dir, 'tools', 'mod.just'), 'fmt path:\n    echo fmt {{path}}\n');
  const plan = path.join(dir, 'plan.yaml');
  await writeFile(plan, `name: justy
phases:
  - id: p
    domains:
      - id: d
        workstreams:
          - id: w
            steps:
${steps}`);
  return { dir, plan };
}

test('a misspelled recipe fails sparky validate with line:col of the field and a did-you-mean', async () => {
  const { plan } = await project(`              - id: ok
                kind: just
                recipe: build
                args: [app]
              - id: typo
                kind: just
                recipe: buld
                args: [app]
`);
  const r = await capture(() => validateCommand(plan));
  assert.equal(r.code, 2, r.out);
  assert.equal(r.err.split('\n')[0],
    `${plan}:15:25  phases[0].domains[0].workstreams[0].steps[1].recipe: unknown recipe "buld" in the justfile ${path.join(path.dirname(plan), 'justfile')} (did you mean "build"?)`);
  assert.match(r.err, /1 error in /);
});

test('a wrong number of arguments is an error on args, saying what the recipe takes', async () => {
  const { plan } = await project(`              - id: none
                kind: just
                recipe: build
              - id: many
                kind: just
                recipe: build
                args: [a, b, c]
              - id: plus
                kind: just
                recipe: test
                args: []
              - id: mod
                kind: just
                recipe: tools::fmt
`);
  const loaded = await loadPlanFile(plan);
  assert.equal(loaded.ok, false);
  const lines = formatErrors(loaded.errors).split('\n');
  assert.deepEqual(lines.map((l) => l.replace(/^.*plan\.yaml:/, '')), [
    '11:25  phases[0].domains[0].workstreams[0].steps[0].recipe: recipe "build" takes 1 to 2 arguments (build target mode=…), the step gives 0',
    '15:23  phases[0].domains[0].workstreams[0].steps[1].args: recipe "build" takes 1 to 2 arguments (build target mode=…), the step gives 3',
    '19:23  phases[0].domains[0].workstreams[0].steps[2].args: recipe "test" takes at least 1 argument (test +files), the step gives 0',
    '22:25  phases[0].domains[0].workstreams[0].steps[3].recipe: recipe "tools::fmt" takes 1 argument (fmt path), the step gives 0',
  ]);
});

test('aliases, modules, defaults and variadic parameters that fit validate', async () => {
  const { plan } = await project(`              - id: alias
                kind: just
                recipe: b
                args: [app, release]
              - id: star
                kind: just
                recipe: lint
              - id: mod
                kind: just
                recipe: tools::fmt
                args: [src]
                compensate: { id: undo, kind: just, recipe: lint, args: [x, y, z] }
`);
  const loaded = await loadPlanFile(plan);
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
});

test('an explicit justfile that does not exist, and a module that does not, are named', async () => {
  const { plan } = await project(`              - id: nofile
                kind: just
                justfile: nowhere/justfile
                recipe: build
                args: [x]
              - id: nomod
                kind: just
                recipe: tool::fmt
                args: [x]
`);
  const loaded = await loadPlanFile(plan);
  const text = formatErrors(loaded.errors);
  assert.match(text, /steps\[0\]\.justfile: just could not read the justfile: .*nowhere\/justfile/);
  assert.match(text, /steps\[1\]\.recipe: the justfile has no module "tool" \(did you mean "tools"\?\)/);
});

test('recipeProblem reads the dump of the real just: Sparky\'s own justfile has the recipes the README names', async () => {
  const dump = await dumpJustfile(path.resolve(import.meta.dirname, '..', '..'), undefined, JUST_BIN);
  for (const [recipe, args] of [['setup', []], ['start', []], ['test', []], ['test-faults', []], ['bench', []], ['lint', []], ['typecheck', []],
    ['validate', ['p']], ['plan', ['p']], ['run', ['p']], ['status', ['r']], ['approve', ['r', 'g', 'n']], ['logs', ['r', 'w/s']], ['compose-config', []]] as const) {
    assert.equal(recipeProblem(dump, recipe, [...args]), undefined, recipe);
  }
  assert.match(recipeProblem(dump, 'aprove', ['r', 'g', 'n'])!.message, /did you mean "approve"/);
  assert.equal(recipeProblem(dump, 'approve', ['r'])!.field, 'args');
});

test('Sparky\'s justfile: just --list shows the recipes, just validate runs the real sparky validate', async () => {
  const root = path.resolve(import.meta.dirname, '..', '..');
  const list = await execa(JUST_BIN, ['--list'], { cwd: root });
  for (const recipe of ['setup', 'start', 'test', 'test-faults', 'bench', 'lint', 'typecheck', 'validate plan', 'plan plan', 'run plan', 'status run', 'approve run gate name', 'logs run step', 'compose-config', 'retry run step name', 'recheck run gate name']) {
    assert.match(list.stdout, new RegExp(`^\\s+${recipe.replace(/ /g, '\\b.*?')}\\b`, 'm'), recipe);
  }
  const ok = await execa(JUST_BIN, ['validate', 'examples/git-flow.plan.yaml'], { cwd: root, reject: false });
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.match(ok.stdout, /^ok: examples\/git-flow\.plan\.yaml \(3 phases, 4 workstreams, 5 steps\)$/m);
  const { plan } = await project(`              - id: typo\n                kind: just\n                recipe: buld\n                args: [x]\n`);
  const bad = await execa(JUST_BIN, ['validate', plan], { cwd: root, reject: false });
  assert.notEqual(bad.exitCode, 0);
  assert.match(bad.stderr, /plan\.yaml:11:25 {2}phases\[0\]\.domains\[0\]\.workstreams\[0\]\.steps\[0\]\.recipe: unknown recipe "buld" .*\(did you mean "build"\?\)/);
});
