// The notify activity against a real HTTP receiver on 127.0.0.1: generic JSON and Slack-compatible
// bodies with the commands and the statement to sign, URLs and tokens from the environment (never in
// the result), retries with backoff, and a dead receiver reported (not thrown) after bounded time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { NotifyEventData, NotifyInput } from '../../common/activity-types.ts';
import { buildStatement, checksDigest, planDigest } from '../../common/gate-statement.ts';
import { createNotifier } from '../../activities/notify.ts';
import { freePort } from '../../host/ports.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

let receiver: Receiver;
before(async () => { receiver = await startReceiver(); });
after(async () => { await receiver.close(); });

const waiting: NotifyEventData = {
  event: 'waiting', at: '2026-11-30T11:00:00.000Z', runWorkflowId: 'sparky-demo-1', plan: 'demo', planDigest: planDigest({ name: 'demo' }),
  waitingFor: 'waiting for approval of gate-1',
  gate: { id: 'gate-1', approvers: ['alice', 'bob'], required: 2, approvals: [], checksDigest: checksDigest([]), signedApprovers: ['alice'], deadline: '2026-12-01T11:00:00.000Z' },
};

test('a waiting gate reaches a JSON and a Slack webhook with the commands, the statement and the Web UI link', async () => {
  receiver.received.length = 0;
  const secretPath = '/services/T0/B0/s3cr3t-token';
  const notify = createNotifier({ env: { HOOK_URL: `${receiver.url}${secretPath}`, HOOK_TOKEN: 'Bearer tok-123', SPARKY_UI_URL: 'http://ui.test:8233' }, retryDelaysMs: [] });
  const input: NotifyInput = { event: waiting, webhooks: [
    { url: `${receiver.url}/json`, headers: { Authorization: { fromEnv: 'HOOK_TOKEN' } } },
    { urlFromEnv: 'HOOK_URL', format: 'slack' },
    { url: `${receiver.url}/only-finished`, events: ['finished'] },
  ] };
  const result = await notify(input);
  assert.deepEqual(result, { sent: 2, failed: [] });
  const json = receiver.received.find((r) => r.path === '/json')!;
  assert.equal(json.headers.authorization, 'Bearer tok-123');
  assert.equal(json.body.event, 'waiting');
  assert.equal(json.body.runWorkflowId, 'sparky-demo-1');
  assert.equal(json.body.webUi, 'http://ui.test:8233/namespaces/default/workflows/sparky-demo-1');
  assert.ok((json.body.commands as string[]).some((c) => c === 'npx sparky approve sparky-demo-1 gate-1 --as NAME --key ~/.ssh/id_ed25519'));
  assert.ok((json.body.commands as string[]).some((c) => c.startsWith('temporal workflow update execute --workflow-id sparky-demo-1') && c.includes('"signedAt":"2026-11-30T11:00:00.000Z"')));
  assert.equal(json.body.statement, buildStatement({ plan: 'demo', planDigest: waiting.planDigest!, run: 'sparky-demo-1', gate: 'gate-1', decision: 'approve', comment: '', checksDigest: checksDigest([]), time: waiting.at }));
  const slack = receiver.received.find((r) => r.path === secretPath)!;
  assert.deepEqual(Object.keys(slack.body), ['text']);
  assert.match(String(slack.body.text), /Gate gate-1 of run sparky-demo-1 \(plan demo\) waits for approval: 0 of 2 \(alice, bob\)/);
  assert.match(String(slack.body.text), /npx sparky approve sparky-demo-1 gate-1 --as NAME --key/);
  assert.match(String(slack.body.text), /sparky gate decision v1\nplan: demo/);
  assert.equal(receiver.received.some((r) => r.path === '/only-finished'), false, 'events filter');
});

test('decided, attention and finished events read as such', async () => {
  receiver.received.length = 0;
  const notify = createNotifier({ env: {}, retryDelaysMs: [] });
  const hook = [{ url: `${receiver.url}/all`, format: 'slack' as const }];
  await notify({ webhooks: hook, event: { ...waiting, event: 'decided', gate: { ...waiting.gate!, state: 'approved', approvals: ['alice', 'bob'] }, decision: { approver: 'bob', decision: 'approve', fingerprint: 'SHA256:abc', comment: 'ship it' } } });
  await notify({ webhooks: hook, event: { ...waiting, event: 'attention', gate: undefined, waitingFor: 'step W1/build failed: retry, skip or abort' } });
  await notify({ webhooks: hook, event: { ...waiting, event: 'finished', gate: undefined, state: 'completed' } });
  const texts = receiver.received.map((r) => String(r.body.text).split('\n')[0]);
  assert.match(String(receiver.received[1].body.text), /\n\nstep W1\/build failed: retry, skip or abort\n/);
  assert.deepEqual(texts, [
    'Sparky: Gate gate-1 of run sparky-demo-1 (plan demo) approved by bob (key SHA256:abc): ship it; the gate is approved (2 of 2)',
    'Sparky: run sparky-demo-1 (plan demo) needs attention',
    'Sparky: run sparky-demo-1 (plan demo) ended: completed',
  ]);
});

test('a webhook answering 503 is retried with backoff until it takes the message', async () => {
  receiver.received.length = 0;
  receiver.failFirst = 2;
  const notify = createNotifier({ env: {}, retryDelaysMs: [50, 100] });
  const started = Date.now();
  const result = await notify({ webhooks: [{ url: `${receiver.url}/flaky` }], event: waiting });
  assert.deepEqual(result, { sent: 1, failed: [] });
  assert.ok(Date.now() - started >= 150, 'waited between tries');
  assert.equal(receiver.received.length, 1);
});

test('a dead webhook is reported in the result, bounded in time, with no secret in it; a missing variable is named', async () => {
  const port = await freePort(); // nothing listens there
  const notify = createNotifier({ env: { DEAD_URL: `http://127.0.0.1:${port}/hook/very-secret-token` }, retryDelaysMs: [20, 40] });
  const started = Date.now();
  const result = await notify({ webhooks: [{ urlFromEnv: 'DEAD_URL' }, { urlFromEnv: 'UNSET_URL' }], event: waiting });
  assert.ok(Date.now() - started < 3000);
  assert.equal(result.sent, 0);
  assert.deepEqual(result.failed.map((f) => [f.webhook, f.attempts]), [['$DEAD_URL', 3], ['$UNSET_URL', 0]]);
  assert.match(result.failed[0].error, /ECONNREFUSED/);
  assert.match(result.failed[1].error, /environment variable UNSET_URL is not set on this worker/);
  assert.doesNotMatch(JSON.stringify(result), /very-secret-token/);
});

test('no SPARKY_UI_URL on the worker: the link follows TEMPORAL_ADDRESS when its Web UI answers, else says where to set it', async () => {
  receiver.received.length = 0;
  const hook = [{ url: `${receiver.url}/ui`, format: 'slack' as const }];
  // Nothing at the dev server's Web UI port for this address: no link to a page nothing serves.
  const port = await freePort();
  await createNotifier({ env: { TEMPORAL_ADDRESS: `127.0.0.1:${port - 1000}` }, retryDelaysMs: [] })({ webhooks: hook, event: waiting });
  assert.match(String(receiver.received[0].body.text), new RegExp(`\\nWeb UI: unknown: nothing answers at http://127\\.0\\.0\\.1:${port} .*set SPARKY_UI_URL.*\\(on the worker\\)$`));
  // The receiver stands in for a Web UI: on the address's port + 1000, the link points there.
  const uiPort = Number(new URL(receiver.url).port);
  await createNotifier({ env: { TEMPORAL_ADDRESS: `127.0.0.1:${uiPort - 1000}` }, retryDelaysMs: [] })({ webhooks: hook, event: waiting });
  const sent = receiver.received.filter((r) => r.path === '/ui');
  assert.equal(sent.length, 2);
  assert.match(String(sent[1].body.text), new RegExp(`\\nWeb UI: http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/workflows/sparky-demo-1$`));
});
