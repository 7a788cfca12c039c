// The harness itself: a real dev server from .tools/bin/temporal, a real worker, a workflow + activity.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createWorker, startDevServer, uniqueTaskQueue } from '../helpers/temporal.ts';
import { SparkyPlan } from '../../common/search-attributes.ts';

const workflowsPath = fileURLToPath(new URL('../fixtures/workflows/checksum.ts', import.meta.url));
let env: TestWorkflowEnvironment;

before(async () => { env = await startDevServer(); });
after(async () => { await env?.teardown(); });

test('a workflow runs an activity on a real worker against the real dev server', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sparky-harness-'));
  const file = path.join(dir, 'data.txt');
  await writeFile(file, 'sparky\n');
  const taskQueue = uniqueTaskQueue();
  const worker = await createWorker(env, {
    taskQueue,
    workflowsPath,
    activities: {
      async sha256File(p: string) { return createHash('sha256').update(await readFile(p)).digest('hex'); },
    },
  });
  const result = await worker.runUntil(env.client.workflow.execute('checksumWorkflow', {
    taskQueue, workflowId: `harness-${taskQueue}`, args: [{ path: file }],
  }));
  assert.equal(result.sha256, createHash('sha256').update('sparky\n').digest('hex'));
  // The history is really on the server: describe it through the client.
  const described = await env.client.workflow.getHandle(`harness-${taskQueue}`).describe();
  assert.equal(described.status.name, 'COMPLETED');
});

test('the dev server has Sparky\'s search attributes registered', async () => {
  const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: env.namespace ?? 'default' });
  assert.ok(SparkyPlan.name in customAttributes, `SparkyPlan missing from ${Object.keys(customAttributes).join(', ')}`);
});
