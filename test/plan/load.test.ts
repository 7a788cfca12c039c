// The loader and the two commands on real files: the DGX-Pixels example, a broken copy of it (every
// error at once, each on the right line and column), the JSON example, and syntax errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { loadPlanFile, loadPlanText, formatErrors } from '../../plan/load.ts';
import { validateCommand } from '../../cli/validate.ts';
import { planCommand } from '../../cli/plan.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { capture } from '../helpers/capture.ts';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'dgx-pixels.plan.yaml');
const HELLO = path.join(PROJECT_ROOT, 'examples', 'hello.plan.json');

test('the DGX-Pixels example validates: 18 workstreams, paths resolved against its baseDir', async () => {
  const loaded = await loadPlanFile(EXAMPLE);
  assert.equal(loaded.ok, true, formatErrors(loaded.errors));
  const plan = loaded.plan!;
  const ids = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
  assert.deepEqual(ids, Array.from({ length: 18 }, (_, i) => `WS-${String(i + 1).padStart(2, '0')}`));
  assert.deepEqual(plan.phases.map((p) => p.domains.map((d) => d.name)), [['Foundation'], ['Model', 'Interface'], ['Integration']]);
  assert.equal(plan.baseDir, path.join(PROJECT_ROOT, 'examples', 'dgx-pixels'));
  const steps = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.flatMap((w) => w.steps)));
  const shell = steps.find((s) => s.kind === 'shell')!;
  assert.equal(shell.kind === 'shell' && shell.cwd, plan.baseDir);
  const pixelize = steps.find((s) => s.kind === 'inference' && s.op === 'pixelize');
  assert.deepEqual(pixelize?.kind === 'inference' && pixelize.inputs, { images: path.join(PROJECT_ROOT, 'examples', 'assets', '*.png') });
  // Every kind of step and check is exercised, and nothing is a placeholder.
  assert.deepEqual(new Set(steps.map((s) => s.kind)), new Set(['shell', 'docker', 'inference']));
  for (const s of steps) if (s.kind === 'shell') assert.ok(!['echo', 'sleep', 'true'].includes(s.run[0]), `placeholder step ${s.id}`);
  const gate2 = plan.phases[1].gate!.approval!;
  assert.deepEqual([gate2.approvers, gate2.required], [['alice', 'bob', 'carol'], 2]);
});

test('a broken copy of the example reports every error at once, each at its line and column', async () => {
  const original = (await readFile(EXAMPLE, 'utf8')).split('\n');
  const lines = [...original];
  const expected: { line: number; col: number; path: RegExp; message: RegExp }[] = [];
  /** Replaces `from` by `to` on the first line (after `after`) holding it; `mark` is where the error points. */
  const breakIt = (after: string, from: string, to: string, mark: string, pathRe: RegExp, message: RegExp) => {
    const start = lines.findIndex((l) => l.includes(after));
    const i = lines.findIndex((l, n) => n >= start && l.includes(from));
    assert.ok(start >= 0 && i >= 0, `cannot find ${from}`);
    lines[i] = lines[i].replace(from, to);
    expected.push({ line: i + 1, col: lines[i].indexOf(mark) + 1, path: pathRe, message });
  };
  breakIt('id: WS-09', 'dependsOn: [WS-08]', 'dependsOn: [WS-99]', 'WS-99', /workstreams\[1\]\.dependsOn\[0\]$/, /unknown workstream "WS-99"/);
  breakIt('id: WS-18', 'dependsOn: [WS-17]', 'dependsOn: [WS-17, WS-18]', 'WS-18]', /dependsOn\[1\]$/, /cycle: WS-18 → WS-18/);
  breakIt('id: WS-02', 'dependsOn: [WS-01]', 'dependsOn: [WS-13]', 'WS-13', /phases\[0\]\.domains\[0\]\.workstreams\[1\]\.dependsOn\[0\]$/, /later phase/);
  breakIt('id: gate-2', 'required: 2', 'required: 4', '4', /phases\[1\]\.gate\.approval\.required$/, /required is 4 but only 3 approvers/);
  breakIt('id: gemm', 'pool: gpu', 'pool: gpux', 'gpux', /phases\[0\]\.domains\[0\]\.workstreams\[0\]\.steps\[3\]\.pool$/, /unknown pool "gpux"/);
  breakIt('id: WS-03', 'estimate: 3-4d', 'estimat: 3-4d', 'estimat', /workstreams\[2\]\.estimat$/, /unknown field "estimat"/);
  breakIt('id: index', 'kind: shell', 'kind: shel', 'shel', /steps\[0\]\.kind$/, /unknown kind "shel"/);
  breakIt('id: gemm-512', 'timeout: 90s', 'timeout: 90 seconds', '90 seconds', /steps\[0\]\.timeout$/, /a duration like 30s/);
  breakIt('id: WS-13', 'run: [python3, mcp_server.py', 'run: [python3, "${{ outputs.WS-15.package.sha256 }}", mcp_server.py', '"${{', /steps\[0\]\.run\[1\]$/, /"WS-15" is neither a \(transitive\) dependency/);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sparky-plan-'));
  const broken = path.join(dir, 'broken.plan.yaml');
  await writeFile(broken, lines.join('\n'));

  const loaded = await loadPlanFile(broken);
  assert.equal(loaded.ok, false);
  assert.equal(loaded.errors.length, expected.length, formatErrors(loaded.errors));
  for (const want of expected) {
    const got = loaded.errors.find((e) => want.path.test(e.path) && want.message.test(e.message));
    assert.ok(got, `missing ${want.path} ${want.message} in\n${formatErrors(loaded.errors)}`);
    assert.deepEqual([got.line, got.col], [want.line, want.col], `${got.path}: ${got.message}`);
    assert.equal(got.file, broken);
  }
  // Sorted by position, formatted as file:line:col  path: message.
  assert.deepEqual(loaded.errors.map((e) => e.line), [...loaded.errors.map((e) => e.line)].sort((a, b) => a - b));
  assert.match(formatErrors(loaded.errors).split('\n')[0], new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+  phases\\[\\d\\]\\S*: `));

  // `sparky validate` through the real CLI process: exit 2 and every line on stderr.
  const cli = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'validate', broken], { reject: false, cwd: PROJECT_ROOT });
  assert.equal(cli.exitCode, 2, cli.stderr);
  for (const e of loaded.errors) assert.ok(cli.stderr.includes(`${broken}:${e.line}:${e.col}  ${e.path}: ${e.message}`), cli.stderr);
  const ok = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'validate', 'examples/dgx-pixels.plan.yaml'], { reject: false, cwd: PROJECT_ROOT });
  assert.equal(ok.exitCode, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), 'ok: examples/dgx-pixels.plan.yaml (3 phases, 18 workstreams, 33 steps)');
});

test('the JSON example validates and plans; its positions work like YAML ones', async () => {
  const valid = await capture(() => validateCommand(HELLO));
  assert.equal(valid.code, 0, valid.err);
  assert.match(valid.out, /^ok: .*hello\.plan\.json \(1 phase, 2 workstreams, 2 steps\)$/);
  const plan = await capture(() => planCommand(HELLO, {}));
  assert.equal(plan.code, 0);
  assert.match(plan.out, /Critical path \(\* above\): probe → report/);
  // Counts in words: one phase, domain and gate are singular (not "1 gates").
  assert.match(plan.out, /^Plan hello \(version 1\): 1 phase, 1 domain, 2 workstreams, 2 steps, 1 gate$/m);
  const text = (await readFile(HELLO, 'utf8')).replace('"dependsOn": ["probe"]', '"dependsOn": ["probe", "nobody"]');
  const loaded = loadPlanText(text, 'hello.plan.json');
  const line = text.split('\n').findIndex((l) => l.includes('"nobody"')) + 1;
  assert.deepEqual(loaded.errors.map((e) => [e.line, e.path, e.message]),
    [[line, 'phases[0].domains[0].workstreams[1].dependsOn[1]', 'unknown workstream "nobody"']]);
});

test('syntax errors carry line and column: JSON, YAML, and a missing file', async () => {
  const json = loadPlanText('{\n  "name": "x",\n  "phases": [1,]\n}\n', 'p.json');
  assert.deepEqual(json.errors.map((e) => [e.line, e.col, e.path]), [[3, 16, '(syntax)']]);
  assert.match(json.errors[0].message, /^invalid JSON: Unexpected token/);
  const json2 = loadPlanText('{"name": "x" "phases": []}', 'p.json');
  assert.deepEqual(json2.errors.map((e) => [e.line, e.col]), [[1, 14]]);
  const yaml = loadPlanText('name: x\nphases:\n  - id: a\n   domains: []\n', 'p.yaml');
  assert.equal(yaml.ok, false);
  assert.ok(yaml.errors.every((e) => e.path === '(syntax)' && e.line >= 3), formatErrors(yaml.errors));
  const dup = loadPlanText('name: x\nname: y\nphases: []\n', 'p.yaml');
  assert.deepEqual(dup.errors.map((e) => [e.line, e.path]), [[2, '(syntax)']]);
  assert.match(dup.errors[0].message, /unique/);
  const bom = loadPlanText(`\uFEFF${await readFile(HELLO, 'utf8')}`, 'bom.plan.json');
  assert.equal(bom.ok, true, formatErrors(bom.errors));
  const empty = loadPlanText('', 'empty.yaml');
  assert.deepEqual(empty.errors.map((e) => [e.line, e.col, e.path]), [[1, 1, '(plan)']]);
  const missing = await capture(() => validateCommand('/nonexistent/plan.yaml'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /\/nonexistent\/plan\.yaml {2}\(file\): cannot read the plan: no such file/);
});

test('`sparky plan --json` and `--mermaid` on the example', async () => {
  const json = await capture(() => planCommand(EXAMPLE, { json: true }));
  assert.equal(json.code, 0);
  const analysis = JSON.parse(json.out);
  assert.deepEqual(analysis.criticalPath.path, ['WS-01', 'WS-04', 'WS-05', 'WS-10', 'WS-13', 'WS-14']);
  const mermaid = await capture(() => planCommand(EXAMPLE, { mermaid: true }));
  assert.match(mermaid.out, /^flowchart TD\n/);
  assert.equal((mermaid.out.match(/^\s*subgraph /gm) ?? []).length, 3 + 4);
  assert.equal((mermaid.out.match(/^\s*g\d\{\{/gm) ?? []).length, 3);
  const broken = await capture(() => planCommand('/nonexistent.yaml', {}));
  assert.equal(broken.code, 2);
});
