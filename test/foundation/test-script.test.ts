// scripts/test.ts: `--only` selects Python test files like Node ones (by a substring of their path),
// and the summary counts tests only; tsc, eslint and the runners are stages whose failure fails the run
// and shows on the last line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCode, isSelected, summaryLines } from '../../scripts/test-report.ts';

test('--only picks the pytest files whose path contains a substring, as it does Node test files', () => {
  assert.equal(isSelected('inference/tests/test_ops.py', ['inference/tests']), true);
  assert.equal(isSelected('inference/tests/test_ops.py', ['test_ops']), true);
  assert.equal(isSelected('inference/tests/test_ops.py', ['inference']), true);
  assert.equal(isSelected('inference/tests/test_ops.py', ['test/inference']), false);
  assert.equal(isSelected('test/plan/load.test.ts', ['inference/tests', 'test/plan']), true);
  assert.equal(isSelected('anything', undefined), true);
});

test('the summary counts tests only; a failed stage fails the run and is named on the last line', () => {
  const ok = [{ name: 'typecheck', ok: true }, { name: 'lint', ok: true }];
  assert.deepEqual(summaryLines({ passed: 3, failed: 0, skipped: 1 }, ok), ['stages: typecheck ok, lint ok', '3 passed, 0 failed, 1 skipped']);
  assert.equal(exitCode({ passed: 3, failed: 0, skipped: 1 }, ok), 0);
  const lintFailed = [{ name: 'typecheck', ok: true }, { name: 'lint', ok: false, why: 'exit 1' }];
  const lines = summaryLines({ passed: 3, failed: 0, skipped: 0 }, lintFailed);
  assert.equal(lines[0], 'stages: typecheck ok, lint FAILED (exit 1)');
  assert.match(lines.at(-1)!, /^3 passed, 0 failed, 0 skipped; 1 stage\(s\) failed: lint$/);
  assert.equal(exitCode({ passed: 3, failed: 0, skipped: 0 }, lintFailed), 1);
  assert.equal(exitCode({ passed: 3, failed: 1, skipped: 0 }, ok), 1);
  assert.deepEqual(summaryLines({ passed: 0, failed: 0, skipped: 0 }, []), ['0 passed, 0 failed, 0 skipped']);
});
