// Inference step files: input globs (relative or absolute) and binary results written as files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandInput, globToRegExp, readInputs, writeBinaryResults } from '../../activities/inference-files.ts';
import { jobIdFor } from '../../activities/inference.ts';
import { inferenceInput } from './helpers.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-files-'));
for (const f of ['a.png', 'b.png', 'c.txt', 'deep/x/d.png']) {
  mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
  writeFileSync(path.join(dir, f), f);
}

test('globs: *, ?, ** and classes', () => {
  assert.ok(globToRegExp('*.png').test('a.png'));
  assert.ok(!globToRegExp('*.png').test('deep/x/d.png'));
  assert.ok(globToRegExp('**/*.png').test('deep/x/d.png'));
  assert.ok(globToRegExp('**/*.png').test('a.png'));
  assert.ok(globToRegExp('[ab].png').test('b.png') && !globToRegExp('[ab].png').test('c.png'));
  assert.ok(globToRegExp('?.txt').test('c.txt'));
});

test('inputs expand relative to the base directory, or absolute, sorted', async () => {
  assert.deepEqual((await expandInput('*.png', dir)).map((f) => path.basename(f)), ['a.png', 'b.png']);
  assert.deepEqual((await expandInput(path.join(dir, '**', '*.png'), '/elsewhere')).map((f) => path.relative(dir, f)), ['a.png', 'b.png', 'deep/x/d.png']);
  assert.deepEqual(await expandInput('c.txt', dir), [path.join(dir, 'c.txt')]);
  const { inputs, bytes } = await readInputs({ images: ['*.png', 'deep/**/*.png'], note: 'c.txt' }, dir);
  assert.equal(inputs.images.length, 3);
  assert.equal(Buffer.from(inputs.note[0]).toString(), 'c.txt');
  assert.equal(bytes, 'a.png'.length + 'b.png'.length + 'deep/x/d.png'.length + 'c.txt'.length);
  await assert.rejects(readInputs({ images: 'none/*.png' }, dir), /inputs\.images: no file matches/);
});

test('binary results become files; other values pass through', async () => {
  const out = path.join(dir, 'out');
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2]);
  const result = await writeBinaryResults({ images: [png, png], raw: new Uint8Array([1]), palette: [[1, 2, 3]], n: 2 }, out);
  assert.deepEqual(result.images, [path.join(out, 'images-000.png'), path.join(out, 'images-001.png')]);
  assert.equal(result.raw, path.join(out, 'raw.bin'));
  assert.deepEqual(result.palette, [[1, 2, 3]]);
  assert.equal(result.n, 2);
  assert.deepEqual([...readFileSync(path.join(out, 'images-001.png'))], [...png]);
});

test('job ids follow the idempotency key and stay within 200 characters', () => {
  const input = inferenceInput({ id: 's', op: 'gemm' }, { runWorkflowId: 'run' });
  assert.equal(jobIdFor(input), 'sparky/run/ws/s');
  const long = inferenceInput({ id: 's', op: 'gemm' }, { idempotencyKey: 'k'.repeat(300) });
  assert.ok(jobIdFor(long).length <= 200);
  assert.equal(jobIdFor(long), jobIdFor(inferenceInput({ id: 's', op: 'gemm' }, { idempotencyKey: 'k'.repeat(300) })));
});
