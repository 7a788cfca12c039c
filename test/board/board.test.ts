// The Sparky board in a real Chromium (playwright-core, Debian's chromium), on the real stack: a
// Temporal dev server, the real CPU worker, the board's own HTTP server (board/server.ts). A person's
// view: the flagship's graph with its critical path, a workstream changing state live without a reload,
// the waiting list naming a gate's approvers, a retry from the page clearing an attention item, a
// passkey registered and a gate approved with it through Chromium's virtual authenticator (CDP
// WebAuthn) and counted by the workflow, a forged and a replayed assertion refused, `sparky verify`
// accepting the run, a cross-site POST refused, and a page that loses the server saying so and
// coming back; refusals word for word as the CLI's; `sparky report` on the same run as the waiting
// list; `sparky board` on its own with the CLI's connection settings. Saves the README's screenshots (docs/images/board-*.png; see test/web/web-ui.test.ts
// for the policy: replaced when missing or with SPARKY_UPDATE_SCREENSHOTS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startBoard, type Board } from '../../board/server.ts';
import { startRun } from '../../cli/run.ts';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { freePort } from '../../host/ports.ts';
import { analyzePlan } from '../../plan/analyze.ts';
import { loadPlanFile } from '../../plan/load.ts';
import type { Plan } from '../../plan/schema.ts';
import { startCpuWorker } from '../../workers/cpu.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { exampleCopy } from '../helpers/example.ts';
import { startDevServer } from '../helpers/temporal.ts';
import { sleep } from '../helpers/wait.ts';

const CHROMIUM = process.env.SPARKY_CHROMIUM ?? '/usr/bin/chromium';
const RESULTS = path.join(PROJECT_ROOT, 'test-results');
const DOC_IMAGES = path.join(PROJECT_ROOT, 'docs', 'images');
const skipReason = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or SPARKY_CHROMIUM=/path)` : undefined;
const WEB_UI = 'http://127.0.0.1:8233';

let env: TestWorkflowEnvironment | undefined;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let browser: Browser | undefined;
let board: Board | undefined;
let dir = '';

before(async () => {
  if (skipReason) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-board-'));
  env = await startDevServer();
  worker = await startCpuWorker({ connection: env.nativeConnection, logDir: path.join(dir, 'logs') });
  running = worker.run();
  board = await startBoard({ client: env.client, port: 0, webUiUrl: WEB_UI, pollMs: 500 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await board?.close();
  worker?.shutdown();
  await running?.catch(() => undefined);
  await env?.teardown();
});

async function status(id: string): Promise<RunStatus> {
  return env!.client.workflow.getHandle(id).query<RunStatus>('status');
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 1500)}`);
    await sleep(250);
  }
}

function screenshot(file: string) {
  const doc = path.join(DOC_IMAGES, path.basename(file));
  if (process.env.SPARKY_UPDATE_SCREENSHOTS === '1' || !existsSync(doc)) { mkdirSync(DOC_IMAGES, { recursive: true }); copyFileSync(file, doc); }
}

async function openPage(hash: string, name?: string): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${board!.url}/${hash}`);
  if (name) { await page.fill('#me', name); await page.locator('#me').dispatchEvent('change'); }
  return page;
}

test('the flagship\'s graph: every workstream laid out by dagre, the critical path highlighted, a link to the Web UI', async (t) => {
  if (skipReason || !env || !board) { t.skip(skipReason); return; }
  const { planFile } = await exampleCopy('sparky-board-flagship-');
  const loaded = await loadPlanFile(planFile);
  if (!loaded.ok || !loaded.plan) throw new Error(`the flagship plan does not load: ${JSON.stringify(loaded.errors)}`);
  const plan = loaded.plan;
  const id = `sparky-dgx-pixels-board-${Date.now().toString(36)}`;
  const handle = await startRun(env.client, plan, id);
  await handle.signal('pause'); // the picture needs the run, not its work
  try {
    const page = await openPage(`#/run/${encodeURIComponent(id)}`);
    await page.setViewportSize({ width: 3100, height: 1000 }); // the whole graph in the picture
    await page.locator('#graph g.node[data-id="WS-01"]').waitFor({ timeout: 60_000 });
    const critical = analyzePlan(plan).criticalPath.path;
    assert.ok(critical.length >= 3, `the flagship has a critical path: ${critical}`);
    const nodes = await page.locator('#graph g.node').evaluateAll((els) => els.map((e) => ({ id: e.getAttribute('data-id'), cls: e.getAttribute('class') ?? '' })));
    const workstreams = plan.phases.flatMap((p) => p.domains.flatMap((d) => d.workstreams.map((w) => w.id)));
    for (const ws of workstreams) assert.ok(nodes.some((n) => n.id === ws), `${ws} is drawn`);
    for (const n of nodes.filter((x) => workstreams.includes(x.id!))) assert.equal(n.cls.includes('critical'), critical.includes(n.id!), `${n.id}: critical iff on ${critical.join(' → ')}`);
    const criticalEdges = await page.locator('#graph polyline.edge.critical').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-from')}→${e.getAttribute('data-to')}`));
    assert.deepEqual(criticalEdges.sort(), critical.slice(1).map((w, i) => `${critical[i]}→${w}`).sort());
    // Laid out, not stacked: the workstreams have distinct positions.
    const boxes = await page.locator('#graph g.node rect').evaluateAll((els) => els.map((e) => `${e.getAttribute('x')},${e.getAttribute('y')}`));
    assert.equal(new Set(boxes).size, boxes.length);
    for (const gate of plan.phases.flatMap((p) => (p.gate ? [p.gate.id] : []))) assert.ok(nodes.some((n) => n.id === gate), `gate ${gate} is drawn`);
    assert.equal(await page.locator('a.webui').first().getAttribute('href'), `${WEB_UI}/namespaces/default/workflows/${encodeURIComponent(id)}`);
    // The run list shows it under its plan.
    const list = await openPage('#/');
    await list.locator(`tr[data-run="${id}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await list.locator('section[data-plan="dgx-pixels"]').count(), 1);
    mkdirSync(RESULTS, { recursive: true });
    const shot = `${RESULTS}/board-graph.png`;
    // The page redraws on every change it hears of: a clip of the page, not a handle on one SVG element.
    const box = await page.locator('#graph').boundingBox();
    assert.ok(box);
    await page.screenshot({ path: shot, clip: box });
    screenshot(shot);
  } finally {
    await handle.terminate('board test done').catch(() => undefined);
  }
});

const gated = (name: string, marker: string, approvers: unknown[], required = 2): Plan => ({
  name,
  phases: [
    {
      id: 'build', name: 'Build',
      domains: [
        { id: 'model', workstreams: [
          { id: 'WS-A', name: 'waits for a file', estimate: '1h', steps: [{ id: 'wait', kind: 'shell', run: ['sh', '-c', `while [ ! -f '${marker}' ]; do sleep 0.2; done`] }] },
          { id: 'WS-B', name: 'after A', dependsOn: ['WS-A'], estimate: '2h', steps: [{ id: 'probe', kind: 'shell', run: ['true'] }] },
        ] },
        { id: 'interface', workstreams: [{ id: 'WS-C', estimate: '30m', steps: [{ id: 'probe', kind: 'shell', run: ['uname'] }] }] },
      ],
      gate: { id: 'gate-1', name: 'Gate 1', approval: { approvers: approvers as never, required } },
    },
    { id: 'ship', domains: [{ id: 'integration', workstreams: [{ id: 'WS-D', steps: [{ id: 'probe', kind: 'shell', run: ['true'] }] }] }] },
  ],
});

test('live: a workstream changes state on the page without a reload; the waiting list names the gate\'s approvers', async (t) => {
  if (skipReason || !env || !board) { t.skip(skipReason); return; }
  const marker = path.join(dir, 'live-marker');
  const id = `sparky-board-live-${Date.now().toString(36)}`;
  await startRun(env.client, gated('board-live', marker, ['alice', 'bob', 'carol']), id);
  const page = await openPage(`#/run/${encodeURIComponent(id)}`);
  const wsA = page.locator('#graph g.node[data-id="WS-A"]');
  const stateOfA = () => wsA.getAttribute('data-state', { timeout: 60_000 }).catch(() => null);
  await until('WS-A running on the page', stateOfA, (v) => v === 'running');
  // The page's CSP allows no eval: mark the document through the DOM, so a reload would lose the mark.
  await page.locator('main').evaluate((el) => el.setAttribute('data-not-reloaded', 'yes'));
  writeFileSync(marker, 'go');
  await until('WS-A succeeded on the page', stateOfA, (v) => v === 'succeeded');
  assert.equal(await page.locator('main').getAttribute('data-not-reloaded'), 'yes', 'the same page, updated live');
  assert.match(await wsA.getAttribute('class') ?? '', /state-succeeded/);
  // The gate waits: the waiting list says for whom and since when.
  const item = page.locator('#waiting li[data-kind="gate"][data-id="gate-1"]');
  await item.waitFor({ timeout: 60_000 });
  const text = await item.innerText();
  assert.match(text, /0 of 2 approvals/);
  assert.match(text, /waits for alice, bob, carol since/);
  assert.equal(await page.locator('#conn').innerText(), 'live');
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: `${RESULTS}/board-waiting.png`, fullPage: false });
  screenshot(`${RESULTS}/board-waiting.png`);
  // sparky report: the same data as the board, as markdown and as JSON.
  const report = (format: string) => execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'report', id, '--since', '1d', '--format', format],
    { env: { TEMPORAL_ADDRESS: env!.address, TEMPORAL_NAMESPACE: 'default', SPARKY_UI_URL: WEB_UI }, reject: false, all: true });
  const md = await report('md');
  assert.equal(md.exitCode, 0, md.all);
  assert.match(md.stdout, /^# board-live — report of \d{4}-\d{2}-\d{2}/);
  assert.match(md.stdout, /\| ✅ \| WS-A waits for a file \(done this period\) \| build \/ model \| 1\/1 steps \(100%\) \|/);
  assert.match(md.stdout, /\| ⚪ \| WS-D \| ship \/ integration \| 0\/1 steps/);
  assert.match(md.stdout, /- \*\*gate gate-1\*\*: 0 of 2 approvals — waits for alice, bob, carol since /);
  const json = JSON.parse((await report('json')).stdout) as { summary: { done: number; workstreams: number }; decisionsNeeded: { id: string; who: string[] }[]; webUi: string };
  assert.deepEqual(json.summary, { done: 3, underWay: 0, notStarted: 1, workstreams: 4, percent: 75 });
  assert.deepEqual(json.decisionsNeeded.map((d) => [d.id, d.who]), [['gate-1', ['alice', 'bob', 'carol']]]);
  assert.equal(json.webUi, `${WEB_UI}/namespaces/default/workflows/${id}`);
  const bad = await report('html');
  assert.equal(bad.exitCode, 2);
  assert.match(bad.all!, /--format must be md or json, not "html"/);
  await env.client.workflow.getHandle(id).terminate('done');
});

test('a retry from the page clears the attention item and the run goes on', async (t) => {
  if (skipReason || !env || !board) { t.skip(skipReason); return; }
  const fixed = path.join(dir, 'fixed');
  const id = `sparky-board-attention-${Date.now().toString(36)}`;
  const handle = await startRun(env.client, {
    name: 'board-attention',
    phases: [{ id: 'build', domains: [{ id: 'model', workstreams: [{ id: 'WS-05', steps: [{ id: 'build', kind: 'shell', run: ['test', '-f', fixed], retry: { maximumAttempts: 1 } }] }] }] }],
  }, id);
  const page = await openPage(`#/run/${encodeURIComponent(id)}`, 'dana');
  const item = page.locator('#waiting li[data-kind="attention"][data-id="WS-05/build"]');
  await item.waitFor({ timeout: 60_000 });
  assert.match(await item.innerText(), /failed/);
  // A decision that cannot apply is refused with the workflow's words, the same as the CLI's.
  const wrong = await fetch(`${board.url}/api/runs/${id}/resolve`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Sparky-Board': '1', Origin: board.url }, body: JSON.stringify({ action: 'skipStep', step: 'WS-05/nope', by: 'dana', comment: 'x' }) });
  assert.equal(wrong.status, 409);
  const boardSays = (await wrong.json() as { error: string }).error;
  const cli = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'skip', id, 'WS-05/nope', '--as', 'dana', '--reason', 'x'],
    { env: { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }, reject: false, all: true });
  assert.equal(cli.exitCode, 4, cli.all);
  assert.match(boardSays, /^refused: /);
  assert.ok(cli.all!.includes(boardSays), `the CLI says the same:\n${cli.all}\nboard: ${boardSays}`);
  writeFileSync(fixed, 'fixed');
  await item.locator('button[data-action="retry"]').click();
  await page.fill('#dialog input[name="comment"]', 'created the file');
  await page.click('#dialog-ok');
  await page.locator('#banner.info').filter({ hasText: /retryStep by dana/ }).waitFor({ timeout: 30_000 });
  await page.locator('#waiting li[data-kind="attention"]').waitFor({ state: 'detached', timeout: 60_000 });
  const result = await handle.result() as { state: string };
  assert.equal(result.state, 'completed');
  const s = await status(id);
  assert.deepEqual(s.decisions.map((d) => [d.action, d.by, d.surface, d.comment]), [['retryStep', 'dana', 'update', 'created the file']]);
});

/** What the page POSTs to /decide, flipped in the signature's middle byte. */
function forge(body: string): string {
  const b = JSON.parse(body) as { assertion: { signature: string } };
  const sig = Buffer.from(b.assertion.signature, 'base64url');
  sig[Math.floor(sig.length / 2)] ^= 0x01;
  b.assertion.signature = sig.toString('base64url');
  return JSON.stringify(b);
}

test('a passkey registered on the page approves a gate through Chromium\'s virtual authenticator; forged and replayed assertions are refused; sparky verify accepts the run', async (t) => {
  if (skipReason || !env || !board) { t.skip(skipReason); return; }
  const page = await openPage('#/passkeys', 'alice');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
  } });
  // Registration: the page makes the credential and prints the plan line.
  await page.fill('#pk-name', 'alice');
  await page.click('#pk-create');
  const yaml = await page.locator('#pk-line').innerText({ timeout: 30_000 });
  const line = /key: "(webauthn [A-Za-z0-9+/=]+ alice@localhost)"/.exec(yaml)?.[1];
  assert.ok(line, `the page printed a plan line: ${yaml}`);

  const marker = path.join(dir, 'passkey-marker');
  writeFileSync(marker, 'go');
  const plan = gated('board-passkey', marker, [{ name: 'alice', key: line }, 'bob']);
  const id = `sparky-board-passkey-${Date.now().toString(36)}`;
  const other = `${id}-b`;
  const handle = await startRun(env.client, plan, id);
  await startRun(env.client, plan, other);
  for (const run of [id, other]) await until(`${run} gate waits`, () => status(run), (s) => s.phases[0].gate?.state === 'waiting');

  await page.goto(`${board.url}/#/run/${encodeURIComponent(id)}`);
  const gateItem = page.locator('#waiting li[data-kind="gate"][data-id="gate-1"]');
  await gateItem.waitFor({ timeout: 30_000 });
  assert.match(await page.locator('section.gate[data-gate="gate-1"] li[data-approver="alice"]').innerText(), /passkey for localhost SHA256:/);

  const approve = async (tamper?: (body: string) => string): Promise<{ body: string; statement: string }> => {
    let sent = '';
    await page.route('**/api/runs/*/decide', async (route) => {
      sent = route.request().postData() ?? '';
      await route.continue(tamper ? { postData: tamper(sent) } : undefined);
    });
    await gateItem.locator('button[data-action="approve"]').click();
    await page.fill('#dialog input[name="comment"]', 'signed in the browser');
    await page.click('#dialog-ok');
    const statement = await page.locator('#statement').textContent() ?? '';
    await page.click('#dialog-ok'); // sign with passkey
    await until('the page to send the decision', async () => sent, (v) => v !== '');
    await page.unroute('**/api/runs/*/decide');
    return { body: sent, statement };
  };

  // Forged: the page's assertion with one bit of the signature flipped, on its way to the board.
  await approve(forge);
  await page.locator('#banner:not(.info)').filter({ hasText: /refused: bad signature: the passkey signature does not verify/ }).waitFor({ timeout: 30_000 });
  assert.equal((await status(id)).phases[0].gate?.approvals.length, 0);

  // The real one: shown, signed, counted by the workflow under the passkey's fingerprint.
  const { body, statement } = await approve();
  await page.locator('#banner.info').filter({ hasText: /approved gate-1 as alice: 1\/2 approvals/ }).waitFor({ timeout: 30_000 });
  assert.match(statement, /^sparky gate decision v2\nplan: board-passkey\n/);
  assert.match(statement, new RegExp(`\\nrun: ${id}\\ngate: gate-1\\nround: 1\\ndecision: approve\\ncomment: "signed in the browser"\\n`));
  const s = await status(id);
  const vote = s.phases[0].gate!.audit.find((a) => a.approver === 'alice' && !a.ignored)!;
  assert.equal(vote.surface, 'update');
  assert.match(vote.signature ?? '', /BEGIN SPARKY WEBAUTHN SIGNATURE/);
  assert.match(vote.fingerprint ?? '', /^SHA256:/);
  assert.deepEqual(s.phases[0].gate!.approvals, ['alice']);

  // Replayed: the same assertion again (refused: alice voted), and on another run (its statement names another run).
  const post = (run: string, payload: string) => fetch(`${board!.url}/api/runs/${run}/decide`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Sparky-Board': '1', Origin: board!.url }, body: payload });
  const again = await post(id, body);
  assert.equal(again.status, 409);
  assert.match((await again.json() as { error: string }).error, /refused: alice already approved gate gate-1: one vote per person/);
  const elsewhere = await post(other, body);
  assert.equal(elsewhere.status, 409);
  assert.match((await elsewhere.json() as { error: string }).error, /refused: bad signature: the passkey signed another challenge than this statement's hash/);
  assert.equal((await status(other)).phases[0].gate?.approvals.length, 0);

  // bob has no key: his approval from the page is recorded under his name; the run completes.
  await page.fill('#me', 'bob');
  await page.locator('#me').dispatchEvent('change');
  await gateItem.locator('button[data-action="approve"]').click();
  await page.click('#dialog-ok');
  await page.locator('#dialog p').filter({ hasText: /no key in the plan/ }).waitFor();
  await page.click('#dialog-ok');
  assert.equal((await handle.result() as { state: string }).state, 'completed');

  // On the page, each vote's verification (what sparky verify says).
  await page.locator('button[data-action="verify"]').first().click();
  await page.locator('#banner.info').filter({ hasText: /every gate decision verifies/ }).waitFor({ timeout: 60_000 });
  await page.locator('section.gate[data-gate="gate-1"] tr[data-approver="alice"] td.verdict').filter({ hasText: 'verified' }).waitFor();

  // sparky verify, the CLI, from the history alone.
  const verify = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'verify', id],
    { env: { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }, reject: false, all: true });
  assert.equal(verify.exitCode, 0, verify.all);
  assert.match(verify.all!, new RegExp(`✔ verified +approve +by alice with ${vote.fingerprint!.replace(/[+/]/g, '\\$&')}`));
  assert.match(verify.all!, /every gate decision verifies/);
  // sparky attest: the passkey decision in the in-toto statement, with its statement and signature type.
  const attest = await execa(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli', 'sparky.ts'), 'attest', id],
    { env: { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }, reject: false, all: true });
  assert.equal(attest.exitCode, 0, attest.all);
  const decisions = (JSON.parse(attest.stdout) as { predicate: { gates: { decisions: { approver: string; verdict: string; signatureType?: string; statement?: string }[] }[] } }).predicate.gates[0].decisions;
  const alices = decisions.find((d) => d.approver === 'alice')!;
  assert.equal(alices.verdict, 'verified');
  assert.equal(alices.signatureType, 'webauthn');
  assert.equal(alices.statement, statement, 'the page showed exactly the statement the passkey signed and verify rebuilt');
  await env.client.workflow.getHandle(other).terminate('done');
});

test('cross-site: a form on another origin cannot act through the person\'s browser; requests without the header or with another Origin are refused', async (t) => {
  if (skipReason || !env || !board) { t.skip(skipReason); return; }
  const marker = path.join(dir, 'never');
  const id = `sparky-board-csrf-${Date.now().toString(36)}`;
  await startRun(env.client, gated('board-csrf', marker, ['alice', 'bob']), id);
  await until('the run to start', () => status(id), (s) => s.state === 'running');
  const evilPort = await freePort();
  const target = `${board.url}/api/runs/${id}/resolve`;
  const evil: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(`<!doctype html><form method="POST" action="${target}" enctype="text/plain">`
      + `<input name='{"action":"abort","by":"mallory","comment":"x","pad":"' value='"}'></form>`
      + `<script>fetch(${JSON.stringify(target)}, {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '{"action":"abort","by":"mallory","comment":"y"}'}).finally(() => document.forms[0].submit());</script>`);
  });
  await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', () => r()));
  try {
    const page = await browser!.newPage();
    await page.goto(`http://127.0.0.1:${evilPort}/`);
    await page.waitForURL(/\/api\/runs\//, { timeout: 30_000 });
    assert.match(await page.content(), /cross-site request refused/);
  } finally {
    evil.close();
  }
  const headers = { 'Content-Type': 'application/json', 'X-Sparky-Board': '1', Origin: board.url };
  const tries: [Record<string, string>, RegExp][] = [
    [{ ...headers, Origin: `http://127.0.0.1:${evilPort}` }, /Origin "http:\/\/127\.0\.0\.1:\d+" is not this board/],
    [{ 'Content-Type': 'application/json', Origin: board.url }, /actions need the header x-sparky-board/],
    [{ ...headers, 'Sec-Fetch-Site': 'cross-site' }, /Sec-Fetch-Site: cross-site/],
  ];
  for (const [h, re] of tries) {
    const r = await fetch(target, { method: 'POST', headers: h, body: JSON.stringify({ action: 'abort', by: 'mallory', comment: 'z' }) });
    assert.equal(r.status, 403);
    assert.match((await r.json() as { error: string }).error, re);
  }
  // Another Host (DNS rebinding) is not answered at all.
  const rebound = await new Promise<number>((resolve, reject) => {
    request({ host: '127.0.0.1', port: board!.port, path: '/api/runs', headers: { Host: `evil.example:${board!.port}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject).end();
  });
  assert.equal(rebound, 421);
  const s = await status(id);
  assert.equal(s.state, 'running');
  assert.deepEqual(s.decisions, []);
  await env.client.workflow.getHandle(id).terminate('done');
});

test('a page that loses the board says so, retries, and is live again when it is back', async (t) => {
  if (skipReason || !env || !board) { t.skip(skipReason); return; }
  const page = await openPage('#/');
  await page.locator('#conn.live').waitFor({ timeout: 30_000 });
  const port = board.port;
  await board.close();
  await page.locator('#conn.down').filter({ hasText: /unreachable — retrying/ }).waitFor({ timeout: 30_000 });
  board = await startBoard({ client: env.client, port, webUiUrl: WEB_UI, pollMs: 500 });
  await page.locator('#conn.live').waitFor({ timeout: 30_000 });
});

test('sparky board on its own: the CLI\'s connection settings (a TLS file it cannot read is named), 127.0.0.1 by default, the runs it finds', async (t) => {
  if (skipReason || !env) { t.skip(skipReason); return; }
  const sparky = path.join(PROJECT_ROOT, 'cli', 'sparky.ts');
  const bad = await execa(process.execPath, ['--import', 'tsx', sparky, 'board', '--port', '0'],
    { env: { TEMPORAL_ADDRESS: env.address, TEMPORAL_TLS_CLIENT_CERT_PATH: path.join(dir, 'no-such.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'no-such-key.pem') }, reject: false, all: true, timeout: 60_000 });
  assert.equal(bad.exitCode, 2, bad.all);
  assert.match(bad.all!, /TEMPORAL_TLS_CLIENT_CERT_PATH=.*no-such\.pem: cannot read the client certificate/);
  const id = `sparky-board-cli-${Date.now().toString(36)}`;
  await startRun(env.client, { name: 'board-cli', phases: [{ id: 'p', domains: [{ id: 'd', workstreams: [{ id: 'W', steps: [{ id: 's', kind: 'shell', run: ['true'] }] }] }] }] }, id);
  const port = await freePort();
  const proc = execa(process.execPath, ['--import', 'tsx', sparky, 'board', '--port', String(port), '--web-ui', WEB_UI],
    { env: { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' }, reject: false, all: true });
  let out = '';
  proc.all!.on('data', (c: Buffer) => { out += c.toString(); });
  try {
    await until('the board\'s banner', async () => out, (o) => /Sparky board +http:\/\/localhost:\d+/.test(o), 60_000);
    assert.match(out, new RegExp(`Sparky board +http://localhost:${port} +\\(runs on default`));
    const runs = await until('the run in the board\'s list', async () => await (await fetch(`http://127.0.0.1:${port}/api/runs`)).json() as { id: string; plan: string; webUi: string }[],
      (list) => list.some((r) => r.id === id && r.plan === 'board-cli'));
    assert.ok(runs.every((r) => r.webUi.startsWith(`${WEB_UI}/namespaces/default/workflows/`)));
    // Bound to 127.0.0.1 only: another address of this machine does not answer.
    const other = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (other) await assert.rejects(fetch(`http://${other}:${port}/`, { signal: AbortSignal.timeout(3000) }));
  } finally {
    proc.kill('SIGTERM');
    await proc;
  }
});
