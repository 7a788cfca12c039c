// The plan side of the git flow: `git` and `commit` validated with file:line:col like every other
// field, defaults, branch names per workstream, a step's paths moved into its worktree, a step that
// commits outside the repository refused (CLI loader, `sparky validate`, the workflow's own check),
// and the merge order of a phase's branches through `git: false` workstreams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { ApplicationFailure } from '@temporalio/common';
import { formatErrors, loadPlanText } from '../../plan/load.ts';
import { gitPathErrors, gitSettings } from '../../plan/git.ts';
import { relativePath } from '../../plan/paths.ts';
import { branchName, runIdOf, stepInWorktree } from '../../common/git-flow.ts';
import { gitWorkstreams } from '../../workflows/git-flow.ts';
import { validateRunInput } from '../../workflows/validate-input.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import type { Phase, Plan, Step } from '../../plan/schema.ts';

const plan = (git: string, step = '') => `name: demo
${git}phases:
  - id: p
    domains:
      - id: d
        workstreams:
          - id: w
            steps:
              - id: s
                kind: shell
                run: [make]
${step}`;

test('a git plan loads: repo resolved against the plan\'s directory, defaults filled by gitSettings', () => {
  const loaded = loadPlanText(plan('git: { repo: ../work }\n', '                cwd: ../work/gen\n                commit: "build: generated files"\n'), '/plans/demo/plan.yaml');
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  assert.equal(loaded.plan!.git!.repo, '/plans/work');
  assert.deepEqual(gitSettings(loaded.plan!.git!), { repo: '/plans/work', base: 'main', branch: 'sparky/{plan}/{run}/{workstream}', merge: 'onGate' });
  assert.deepEqual(gitSettings({ repo: '/r', push: true, pr: { tool: 'gh', token: { fromEnv: 'MY_GH' } } }),
    { repo: '/r', base: 'main', branch: 'sparky/{plan}/{run}/{workstream}', merge: 'onGate', push: { remote: 'origin' }, pr: { tool: 'gh', tokenEnv: 'MY_GH', draft: false } });
});

test('git and commit errors name the field with line:col', () => {
  const bad = loadPlanText(plan('git:\n  repo: .\n  branch: "sparky/{plan}/{runid}"\n  merge: always\n  pr: { tool: gitlab }\n', '                commit: "x"\n                compensate: { id: u, kind: shell, run: [rm], commit: "undo" }\n'), 'plan.yaml');
  assert.equal(bad.ok, false);
  assert.deepEqual(formatErrors(bad.errors).split('\n'), [
    'plan.yaml:4:11  git.branch: unknown placeholder {runid}: expected {plan} {run} {phase} {domain} {workstream}',
    'plan.yaml:4:11  git.branch: the branch template needs {workstream}: every workstream gets its own branch',
    'plan.yaml:5:10  git.merge: Invalid option: expected one of "onGate"|"never"',
    'plan.yaml:6:15  git.pr.tool: expected "gh"',
    'plan.yaml:18:70  phases[0].domains[0].workstreams[0].steps[0].compensate.commit: a compensation does not commit: undoing work leaves the branch as it is',
  ]);
  const noGit = loadPlanText(plan('', '                commit: "x"\n'), 'plan.yaml');
  assert.equal(formatErrors(noGit.errors), 'plan.yaml:12:25  phases[0].domains[0].workstreams[0].steps[0].commit: "commit" needs a plan-level "git" section (the repository whose worktree the step changes), in a workstream without git: false');
  const optedOut = loadPlanText(plan('git: { repo: . }\n', '                commit: "x"\n').replace('          - id: w\n', '          - id: w\n            git: false\n'), 'plan.yaml');
  assert.match(formatErrors(optedOut.errors), /steps\[0\]\.commit: "commit" needs a plan-level "git" section .*, in a workstream without git: false/);
  const badRef = loadPlanText(plan('git: { repo: ., branch: "sparky//{workstream}..x" }\n'), 'plan.yaml');
  assert.match(formatErrors(badRef.errors), /git\.branch: "sparky\/\/\{workstream\}\.\.x" is not a valid git branch name/);
});

test('branch names: the run part of the workflow id, values made ref-safe', () => {
  assert.equal(runIdOf('sparky-dgx-pixels-7f3a', 'DGX Pixels'), '7f3a');
  assert.equal(runIdOf('my-own-id', 'demo'), 'my-own-id');
  const ctx = { planName: 'demo', runWorkflowId: 'sparky-demo-r1', phaseId: 'p 1', domainId: 'd', workstreamId: 'WS-01' };
  assert.equal(branchName('sparky/{plan}/{run}/{workstream}', ctx), 'sparky/demo/r1/WS-01');
  assert.equal(branchName('{phase}/{domain}/{workstream}', ctx), 'p-1/d/WS-01');
  assert.equal(branchName('x/{workstream}', { ...ctx, workstreamId: 'a..b' }), 'x/a-b');
});

test('a step in its worktree: resolved paths inside the repository move, others and argv stay', () => {
  const step: Step = {
    id: 's', kind: 'shell', run: ['python3', '/repo/tool.py'], cwd: '/repo/sub',
    compensate: { id: 'u', kind: 'just', recipe: 'clean', workdir: '/repo', justfile: '/elsewhere/justfile' },
  };
  assert.deepEqual(stepInWorktree(step, '/repo', '/repo/.git/sparky-worktrees/r/w'), {
    id: 's', kind: 'shell', run: ['python3', '/repo/tool.py'], cwd: '/repo/.git/sparky-worktrees/r/w/sub',
    compensate: { id: 'u', kind: 'just', recipe: 'clean', workdir: '/repo/.git/sparky-worktrees/r/w', justfile: '/elsewhere/justfile' },
  });
  assert.deepEqual(stepInWorktree({ id: 'b', kind: 'docker', action: 'run', image: 'x', volumes: ['/repo/data:/data:ro', 'cache:/c'], cwd: '/repository' }, '/repo', '/wt'),
    { id: 'b', kind: 'docker', action: 'run', image: 'x', volumes: ['/wt/data:/data:ro', 'cache:/c'], cwd: '/repository' });
});

test('a step that commits outside git.repo is refused, naming the step, the folder it would run in and the fix', () => {
  // The new user's plan: kept outside the repository, `git: {repo}`, a shell step with `commit` and no cwd.
  const outside = loadPlanText(plan('git: { repo: ../work }\n', '                commit: "build: generated files"\n'), '/plans/demo/plan.yaml');
  assert.equal(outside.ok, false);
  assert.equal(formatErrors(outside.errors), '/plans/demo/plan.yaml:10:17  phases[0].domains[0].workstreams[0].steps[0].cwd: '
    + 'step "s" commits (commit: "build: generated files") but runs in /plans/demo, outside the repository /plans/work (git.repo): '
    + 'only paths in the repository move into the workstream\'s worktree, so nothing it changes would be committed or merged. '
    + 'Set cwd: ../work (or a folder in it), or keep the plan in the repository');
  // Kept in the repository, every step defaults to it; a cwd in it, or a just step whose workdir is in it, is fine.
  assert.equal(loadPlanText(plan('git: { repo: . }\n', '                commit: "x"\n'), '/repo/plan.yaml').ok, true);
  assert.equal(loadPlanText(plan('git: { repo: ../work }\n', '                cwd: /plans/work\n                commit: "x"\n'), '/plans/demo/plan.yaml').ok, true);
  // A just step outside: its workdir is named; a path only known at run time cannot be judged.
  const just = loadPlanText(plan('git: { repo: ../work }\n').replace('kind: shell\n                run: [make]', 'kind: just\n                recipe: gen\n                workdir: out\n                commit: "x"'), '/plans/demo/plan.yaml');
  assert.match(formatErrors(just.errors), /steps\[0\]\.workdir: step "s" commits \(commit: "x"\) but runs in \/plans\/demo\/out, outside the repository \/plans\/work .*Set workdir: \.\.\/work/);
  const referenced: Plan = { name: 'r', git: { repo: '/r' }, baseDir: '/plans', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: [
    { id: 'a', kind: 'shell', run: ['mktemp', '-d'], outputs: { from: 'stdout-last-line' } },
    { id: 'b', kind: 'shell', run: ['make'], cwd: '${{ outputs.w.a.dir }}', commit: 'x' }] }] }] }] };
  assert.deepEqual(gitPathErrors(referenced), [], 'a cwd known only at run time is not judged');
  // $SPARKY_RUN_DIR is never in the repository.
  const runDir = loadPlanText(plan('git: { repo: ../work }\n', '                cwd: $SPARKY_RUN_DIR/out\n                commit: "x"\n'), '/plans/demo/plan.yaml');
  assert.match(formatErrors(runDir.errors), /runs in the run's own directory \(\$SPARKY_RUN_DIR\/out\), outside the repository \/plans\/work/);
  // An inference step must write its results into the repository.
  const inference: Plan = { name: 'i', git: { repo: '/r' }, baseDir: '/r', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: [
    { id: 'gen', kind: 'inference', op: 'gemm', commit: 'results' }, { id: 'ok', kind: 'inference', op: 'gemm', outputDir: '/r/out', commit: 'results' }] }] }] }] };
  assert.deepEqual(gitPathErrors(inference).map((e) => e.path), ['phases[0].domains[0].workstreams[0].steps[0].outputDir']);
  assert.match(gitPathErrors(inference)[0].message, /writes its results to the run's own directory \(\$SPARKY_RUN_DIR\), outside the repository \/r .*Set outputDir: \. \(or a folder in it\)$/);
  // A docker step reaches the repository through a bind mount.
  const docker: Plan = { name: 'k', git: { repo: '/r' }, baseDir: '/plans', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: [
    { id: 'gen', kind: 'docker', action: 'run', image: 'x', volumes: ['/r/src:/src'], commit: 'generated' }] }] }] }] };
  assert.deepEqual(gitPathErrors(docker), []);
  assert.equal(relativePath('/plans/demo', '/plans/work'), '../work');
  assert.equal(relativePath('/r', '/r'), '.');
});

test('the workflow\'s own check refuses a hand-started plan whose committing step has no cwd in the repository', () => {
  const p = { name: 'hand', git: { repo: '/srv/repo' }, phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'w', steps: [
    { id: 'gen', kind: 'shell', run: ['make'], commit: 'generated' }] }] }] }] };
  const err = (() => { try { validateRunInput({ plan: p }); } catch (e) { return e; } return undefined; })();
  assert.ok(err instanceof ApplicationFailure, String(err));
  assert.equal(err.type, 'SparkyInvalidPlan');
  assert.equal(err.nonRetryable, true);
  assert.match(err.message, /phases\[0\]\.domains\[0\]\.workstreams\[0\]\.steps\[0\]\.cwd: step "gen" commits \(commit: "generated"\) but runs in the worker's working directory \(the plan has no baseDir\), outside the repository \/srv\/repo \(git\.repo\).*Set cwd: \/srv\/repo/);
  // The same plan with its cwd in the repository, or the workstream out of the git flow without commit, passes.
  const fixed = structuredClone(p);
  Object.assign(fixed.phases[0].domains[0].workstreams[0].steps[0], { cwd: '/srv/repo' });
  assert.equal(validateRunInput({ plan: fixed }).plan.phases[0].domains[0].workstreams[0].steps[0].commit, 'generated');
  // A run started before the rule (its history has no marker): the check is left out.
  assert.equal(validateRunInput({ plan: p }, { gitPaths: () => false }).plan.name, 'hand');
});

test('sparky validate names a committing step outside the repository (exit 2)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sparky-gitpaths-'));
  const file = path.join(dir, 'plans', 'plan.yaml');
  await mkdir(path.dirname(file));
  await writeFile(file, plan('git: { repo: ../repo }\n', '                commit: "x"\n'));
  const r = await execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), 'validate', file], { reject: false });
  assert.equal(r.exitCode, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`steps\\[0\\]\\.cwd: step "s" commits \\(commit: "x"\\) but runs in ${dir}/plans, outside the repository ${dir}/repo \\(git\\.repo\\).*Set cwd: \\.\\./repo`));
});

test('merge order follows dependencies through git: false workstreams (A → B (git: false) → C merges A before C)', () => {
  const ws = (id: string, dependsOn: string[] = [], git?: false) => ({ id, dependsOn, ...(git === false && { git }), steps: [{ id: 's', kind: 'shell' as const, run: ['true'] }] });
  const phase: Phase = { id: 'p', domains: [
    { id: 'd1', workstreams: [ws('C', ['B']), ws('D')] },
    { id: 'd2', workstreams: [ws('B', ['A'], false), ws('A', ['X'])] },
  ] };
  assert.deepEqual(gitWorkstreams(phase).map((w) => w.id), ['D', 'A', 'C']);
  // Longer chains of opted-out workstreams, and a dependency on an earlier phase (merged already).
  const chain: Phase = { id: 'p', domains: [{ id: 'd', workstreams: [ws('E', ['N2']), ws('N2', ['N1'], false), ws('N1', ['F'], false), ws('F', ['prev'])] }] };
  assert.deepEqual(gitWorkstreams(chain).map((w) => w.id), ['F', 'E']);
});
