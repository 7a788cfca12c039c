// Fault injection: the Temporal dev server (SQLite file) is stopped and started again in the middle of a
// step, and again while a gate waits; then the gate is approved. The run completes, every step's side
// effect happened exactly once (the steps count their runs in files), and no approval is lost. A run in
// attention keeps its attention and decisions across a restart and continues on a retry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Plan } from '../../plan/schema.ts';
import { startCpuWorker } from '../../workers/cpu.ts';
import { startDevServer, type DevServer } from '../../host/dev-server.ts';
import { freePort } from '../../host/ports.ts';
import type { RunStatus } from '../../workflows/status.ts';
import '../helpers/temporal.ts'; // quiet worker logs
import { eventually } from '../helpers/wait.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-restart-'));
const dbFile = path.join(dir, 'temporal.db');
let port = 0; let uiPort = 0;
let server: DevServer;
let worker: Worker;
let running: Promise<void>;
let nativeConnection: NativeConnection;

const start = () => startDevServer({ port, uiPort, dbFile, logFile: path.join(dir, 'server.log') });

/** A step that counts its runs: appends one line per execution to <dir>/<name>.count. */
function counted(id: string, name: string, seconds = 0) {
  const count = path.join(dir, `${name}.count`);
  return { id, kind: 'shell' as const, run: ['sh', '-c', `sleep ${seconds}; echo "$SPARKY_ATTEMPT" >> ${count}`], timeout: '2m' };
}

const plan: Plan = {
  name: 'restart-demo',
  phases: [
    {
      id: 'one',
      domains: [{ id: 'd1', workstreams: [{ id: 'ws1', steps: [counted('quick', 'quick'), counted('slow', 'slow', 6)] }] }],
      gate: { id: 'g1', approval: { approvers: ['alice', 'bob'], required: 2 } },
    },
    { id: 'two', domains: [{ id: 'd2', workstreams: [{ id: 'ws2', steps: [counted('after', 'after')] }] }] },
  ],
};

before(async () => {
  port = await freePort(); uiPort = await freePort();
  server = await start();
  nativeConnection = await NativeConnection.connect({ address: server.address });
  worker = await startCpuWorker({ connection: nativeConnection, taskQueue: 'sparky', logDir: path.join(dir, 'logs') });
  running = worker.run();
});

after(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await nativeConnection?.close().catch(() => undefined);
  await server?.stop();
});

async function client(): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address: server.address }) });
}

const lines = (name: string) => existsSync(path.join(dir, `${name}.count`))
  ? readFileSync(path.join(dir, `${name}.count`), 'utf8').split('\n').filter(Boolean) : [];

test('the run survives dev server restarts mid-step and while a gate waits; nothing runs twice, no approval is lost', async () => {
  const workflowId = 'sparky-restart-demo-1';
  let c = await client();
  const handle = c.workflow.getHandle((await c.workflow.start('metaOrchestrator', {
    taskQueue: 'sparky', workflowId, args: [{ plan }],
  })).workflowId);

  // Restart 1: while the slow step runs (it sleeps 6 s before counting).
  await eventually('the slow step to start', () => handle.query<RunStatus>('status'),
    (s) => s.phases[0].domains[0].workstreams[0].steps[1].state === 'running', 90_000);
  await server.stop();
  server = await start();

  // One approval before the second restart, one after: neither may be lost.
  c = await client();
  const h2 = c.workflow.getHandle(workflowId);
  await eventually('the gate to wait', () => h2.query<RunStatus>('status'), (s) => s.phases[0].gate?.state === 'waiting', 90_000);
  await h2.executeUpdate('decideGate', { args: [{ gate: 'g1', approver: 'alice', decision: 'approve' }] });

  // Restart 2: while the gate waits.
  await server.stop();
  server = await start();
  c = await client();
  const h3 = c.workflow.getHandle(workflowId);
  const s = await eventually('the gate to wait again after the restart', () => h3.query<RunStatus>('status'), (x) => x.phases[0].gate?.state === 'waiting', 90_000);
  assert.deepEqual(s.phases[0].gate?.approvals, ['alice'], 'the approval given before the restart is kept');
  await h3.signal('approveGate', { gate: 'g1', approver: 'bob' });

  await h3.result();
  const final = await h3.query<RunStatus>('status');
  assert.equal(final.state, 'completed');
  assert.deepEqual([...final.phases[0].gate!.approvals].sort(), ['alice', 'bob']);
  assert.deepEqual(lines('quick'), ['1'], 'quick ran exactly once');
  assert.deepEqual(lines('slow'), ['1'], 'slow ran exactly once, on its first attempt');
  assert.deepEqual(lines('after'), ['1'], 'the step after the gate ran exactly once');
});

test('a run in attention survives a dev server restart: attention, error and decisions are kept; a retry then continues it', async () => {
  const marker = path.join(dir, 'fixed');
  const attention: Plan = {
    name: 'restart-attention',
    phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [
      { id: 'A', steps: [counted('a', 'att-a')] },
      { id: 'B', dependsOn: ['A'], steps: [
        { id: 'needs', kind: 'shell', run: ['sh', '-c', `echo x >> ${path.join(dir, 'att-needs.count')}; test -f ${marker}`], retry: { maximumAttempts: 1 } },
        counted('b', 'att-b'),
      ] },
    ] }] }],
  };
  let c = await client();
  const workflowId = 'sparky-restart-attention-1';
  await c.workflow.start('metaOrchestrator', { taskQueue: 'sparky', workflowId, args: [{ plan: attention }] });
  const ws = (s: RunStatus) => s.phases[0].domains[0].workstreams[1];
  await eventually('B in attention', () => c.workflow.getHandle(workflowId).query<RunStatus>('status'), (s) => ws(s).state === 'attention', 90_000);
  await c.workflow.getHandle(workflowId).signal('retryStep', { step: 'B/b', by: 'alice' }); // ignored: B waits at B/needs

  await server.stop();
  server = await start();
  c = await client();
  const h = c.workflow.getHandle(workflowId);
  const s = await eventually('the status after the restart', () => h.query<RunStatus>('status'), (x) => x.state === 'attention', 90_000);
  assert.equal(ws(s).attention?.step, 'needs');
  assert.match(ws(s).steps[0].lastError ?? '', /exited with code 1/);
  assert.deepEqual(s.decisions.map((d) => [d.action, d.by, d.ignored]), [['retryStep', 'alice', true]]);
  await eventually('SparkyState=attention after the restart', async () => {
    const ids: string[] = [];
    for await (const wf of c.workflow.list({ query: 'SparkyState="attention"' })) ids.push(wf.workflowId);
    return ids;
  }, (ids) => ids.includes(workflowId), 30_000);

  writeFileSync(marker, 'ok');
  await h.executeUpdate('resolve', { args: [{ action: 'retryStep', step: 'B/needs', by: 'alice' }] });
  assert.equal((await h.result()).state, 'completed');
  assert.deepEqual(lines('att-a'), ['1'], 'A ran once');
  assert.equal(lines('att-needs').length, 2, 'the failed try and the retry');
  assert.deepEqual(lines('att-b'), ['1']);
});
