// The Temporal Web UI, driven as a person would with Debian's Chromium (playwright-core): find the run
// by a search-attribute query, open it, see its domain child workflows and the text saying which gate
// waits. Saves the screenshot the README shows (docs/images/web-ui.png). A run in attention is found by
// SparkyState="attention" and continued with retryStep from Send a Signal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SPARKY_SEARCH_ATTRIBUTES } from '../../common/search-attributes.ts';
import type { Plan } from '../../plan/schema.ts';
import { startCpuWorker } from '../../workers/cpu.ts';
import { freePort } from '../../host/ports.ts';
import { PROJECT_ROOT, TEMPORAL_BIN } from '../../host/paths.ts';
import type { RunStatus } from '../../workflows/status.ts';
import { startRun } from '../../cli/run.ts';
import '../helpers/temporal.ts'; // quiet worker logs
import { sleep } from '../helpers/wait.ts';

const CHROMIUM = process.env.SPARKY_CHROMIUM ?? '/usr/bin/chromium';
// Every run saves its screenshots under test-results/; the README's copies in docs/images/ are
// replaced when they are missing or when SPARKY_UPDATE_SCREENSHOTS=1 (so a test run leaves git clean).
const RESULTS = path.join(PROJECT_ROOT, 'test-results');
const SCREENSHOT = path.join(RESULTS, 'web-ui.png');
const CHILDREN_SCREENSHOT = path.join(RESULTS, 'web-ui-children.png');
const DOC_IMAGES = path.join(PROJECT_ROOT, 'docs', 'images');

const plan: Plan = {
  name: 'webui-demo',
  description: 'A two-domain phase waiting at its gate',
  phases: [
    {
      id: 'build', name: 'Build',
      domains: [
        { id: 'model', workstreams: [{ id: 'WS-04', name: 'ComfyUI Setup', steps: [{ id: 'probe', kind: 'shell', run: ['uname', '-a'] }] }] },
        { id: 'interface', workstreams: [{ id: 'WS-08', name: 'Rust TUI Core', steps: [{ id: 'probe', kind: 'shell', run: ['uname', '-m'] }] }] },
      ],
      gate: { id: 'gate-1', name: 'Gate 1', approval: { approvers: ['alice', 'bob', 'carol'], required: 2 } },
    },
    { id: 'ship', domains: [{ id: 'integration', workstreams: [{ id: 'WS-13', steps: [{ id: 'probe', kind: 'shell', run: ['uname', '-r'] }] }] }] },
  ],
};

let env: TestWorkflowEnvironment | undefined;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let browser: Browser | undefined;
let uiUrl = '';
const skipReason = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : undefined;

before(async () => {
  if (skipReason) return;
  const uiPort = await freePort();
  env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_BIN }, ip: '127.0.0.1', ui: true, uiPort,
      searchAttributes: SPARKY_SEARCH_ATTRIBUTES, extraArgs: ['--log-level', 'error', '--ui-disable-news-fetch'],
    },
  });
  uiUrl = `http://127.0.0.1:${uiPort}`;
  worker = await startCpuWorker({ connection: env.nativeConnection, logDir: mkdtempSync(path.join(os.tmpdir(), 'sparky-webui-')) });
  running = worker.run();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  worker?.shutdown();
  await running?.catch(() => undefined);
  await env?.teardown();
});

test('the Web UI finds the run by search attribute, shows its children and the waiting gate, and approves it by signal', async (t) => {
  if (skipReason || !env || !browser) { t.skip(skipReason); return; }
  const workflowId = `sparky-webui-demo-${Date.now().toString(36)}`;
  const handle = await startRun(env.client, plan, workflowId);
  // Wait until the gate waits and visibility has caught up with it.
  for (let i = 0; ; i++) {
    const s = await handle.query<RunStatus>('status');
    const listed = [];
    for await (const wf of env.client.workflow.list({ query: `SparkyGate = 'gate-1'` })) listed.push(wf.workflowId);
    if (s.phases[0].gate?.state === 'waiting' && listed.includes(workflowId)) break;
    assert.ok(i < 240, 'the gate never started waiting');
    await sleep(250);
  }

  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  // The UI long-polls, so pages never go network-idle: wait for what a person would look for instead.
  const query = encodeURIComponent(`SparkyGate="gate-1"`);
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`, { waitUntil: 'domcontentloaded' });
  const link = page.getByRole('link', { name: workflowId }).first();
  await link.waitFor({ timeout: 60_000 });
  await link.click();
  await page.waitForURL(/\/workflows\/sparky-webui-demo/, { timeout: 30_000 });
  await page.getByRole('heading', { name: workflowId }).or(page.getByText(workflowId)).first().waitFor({ timeout: 60_000 });

  // The current details say which gate waits (the UI shows them under "User Metadata").
  // The UI renders them as markdown inside a sandboxed iframe.
  await page.getByText('User Metadata', { exact: false }).first().click();
  const details = page.frameLocator('iframe').getByText(/waiting for approval of gate-1/).first()
    .or(page.getByText(/waiting for approval of gate-1/).first());
  await details.waitFor({ timeout: 60_000 }).catch(async (err) => {
    await page.screenshot({ path: path.join(os.tmpdir(), 'sparky-webui-failure.png') });
    throw err;
  });
  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: false });

  // The domain children of the first phase (Relationships tab).
  await page.getByText('Relationships', { exact: false }).first().click();
  for (const domain of ['model', 'interface']) {
    await page.getByText(new RegExp(`build/${domain}`)).first().waitFor({ timeout: 60_000 });
  }
  await page.screenshot({ path: CHILDREN_SCREENSHOT, fullPage: false });
  for (const shot of [SCREENSHOT, CHILDREN_SCREENSHOT]) {
    const doc = path.join(DOC_IMAGES, path.basename(shot));
    if (process.env.SPARKY_UPDATE_SCREENSHOTS === '1' || !existsSync(doc)) { mkdirSync(DOC_IMAGES, { recursive: true }); copyFileSync(shot, doc); }
  }
  assert.ok(existsSync(SCREENSHOT));

  // Approve from the page, as docs/operations.md says: More Actions → Send a Signal → approveGate.
  await sendSignal(page, 'approveGate', { gate: 'gate-1', approver: 'alice', comment: 'from the Web UI' });
  for (let i = 0; ; i++) {
    const s = await handle.query<RunStatus>('status');
    const entry = s.phases[0].gate?.audit.find((a) => a.approver === 'alice' && !a.ignored);
    if (entry) { assert.equal(entry.surface, 'signal'); assert.equal(entry.comment, 'from the Web UI'); break; }
    assert.ok(i < 120, `the Web UI signal did not reach the gate: ${JSON.stringify(s.phases[0].gate)}`);
    await sleep(250);
  }
});

/** More Actions → Send a Signal → pick the signal from the list the UI offers → type its JSON → Submit. */
async function sendSignal(page: Page, signal: string, input: object): Promise<void> {
  await page.getByRole('button', { name: /More Actions/ }).first().click();
  await page.getByRole('menuitem', { name: /Send a Signal/ }).first().click();
  // With a worker running, the UI knows the workflow's signals and offers them in a list.
  const picker = page.getByRole('button', { name: /Select a signal/ }).or(page.getByText('Select a signal')).first();
  await picker.waitFor({ timeout: 30_000 });
  await picker.click();
  await page.getByRole('option').filter({ hasText: new RegExp(`^\\s*${signal}\\b`) }).first().click();
  // The Data field is a code editor; the page keeps hidden ones for other dialogs.
  await page.locator('.cm-content:visible').first().click();
  await page.keyboard.type(JSON.stringify(input));
  await page.getByRole('button', { name: /^Submit$/ }).click();
}

test('a run in attention is found by SparkyState="attention" and continued with retryStep from Send a Signal', async (t) => {
  if (skipReason || !env || !browser) { t.skip(skipReason); return; }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-webui-attention-'));
  const marker = path.join(dir, 'fixed');
  const workflowId = `sparky-webui-attention-${Date.now().toString(36)}`;
  const handle = await startRun(env.client, {
    name: 'webui-attention',
    phases: [{ id: 'build', domains: [{ id: 'model', workstreams: [{ id: 'WS-05', steps: [
      { id: 'build', kind: 'shell', run: ['test', '-f', marker], retry: { maximumAttempts: 1 } }] }] }] }],
  }, workflowId);
  for (let i = 0; ; i++) {
    const listed = [];
    for await (const wf of env.client.workflow.list({ query: `SparkyState = 'attention'` })) listed.push(wf.workflowId);
    if (listed.includes(workflowId)) break;
    assert.ok(i < 240, 'the run never showed up as needing attention');
    await new Promise((r) => setTimeout(r, 250));
  }
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent('SparkyState="attention"')}`, { waitUntil: 'domcontentloaded' });
  const link = page.getByRole('link', { name: workflowId }).first();
  await link.waitFor({ timeout: 60_000 });
  await link.click();
  await page.waitForURL(/\/workflows\/sparky-webui-attention/, { timeout: 30_000 });
  await page.getByText('User Metadata', { exact: false }).first().click();
  await page.frameLocator('iframe').getByText(/needs attention: WS-05\/build failed/).first()
    .or(page.getByText(/needs attention: WS-05\/build failed/).first()).waitFor({ timeout: 60_000 });
  const shot = path.join(RESULTS, 'web-ui-attention.png');
  await page.screenshot({ path: shot, fullPage: false });
  const doc = path.join(DOC_IMAGES, path.basename(shot));
  if (process.env.SPARKY_UPDATE_SCREENSHOTS === '1' || !existsSync(doc)) copyFileSync(shot, doc);
  writeFileSync(marker, 'fixed');
  await sendSignal(page, 'retryStep', { step: 'WS-05/build', by: 'dana', comment: 'from the Web UI' });
  const result = await handle.result() as { state: string };
  assert.equal(result.state, 'completed');
  const s = await handle.query<RunStatus>('status');
  assert.deepEqual(s.decisions.map((d) => [d.action, d.by, d.surface, d.comment]), [['retryStep', 'dana', 'signal', 'from the Web UI']]);
});
