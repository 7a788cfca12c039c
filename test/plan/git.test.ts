// The plan side of the git flow: `git` and `commit` validated with file:line:col like every other
// field, defaults, branch names per workstream, and a step's paths moved into its worktree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatErrors, loadPlanText } from '../../plan/load.ts';
import { gitSettings } from '../../plan/git.ts';
import { branchName, runIdOf, stepInWorktree } from '../../common/git-flow.ts';
import type { Step } from '../../plan/schema.ts';

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
  const loaded = loadPlanText(plan('git: { repo: ../work }\n', '                commit: "build: generated files"\n'), '/plans/demo/plan.yaml');
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
