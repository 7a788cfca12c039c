// The Web UI link `sparky run` prints comes from where the server really is, never from a default
// nothing serves: with only a non-default TEMPORAL_ADDRESS, the dev server's convention (its Web UI on
// the gRPC port + 1000, which `sparky dev` follows too) when something answers there; SPARKY_UI_PORT
// when set; otherwise "unknown", saying where to set it. A real dev server with its Web UI (started as
// `sparky dev` starts it), the real CLI, and a plain TCP relay standing for a server whose port + 1000
// serves nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { startDevServer, type DevServer } from '../../host/dev-server.ts';
import { devServerPorts, PROJECT_ROOT, TEMPORAL_BIN } from '../../host/paths.ts';
import { freePort, portInUse } from '../../host/ports.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-webui-'));
const plan = path.join(dir, 'p.plan.yaml');
let server: DevServer | undefined;
let port = 0;
let relay: net.Server | undefined;
let relayPort = 0;

/** A free port whose + 1000 is free too (where the dev server puts its Web UI by default). */
async function portPair(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p + 1000 < 65536 && !(await portInUse(p + 1000))) return p;
  }
}

before(async () => {
  if (!existsSync(TEMPORAL_BIN)) return;
  writeFileSync(plan, 'name: webui\nphases:\n  - id: p\n    domains: [{ id: d, workstreams: [{ id: w, steps: [{ id: s, kind: shell, run: [uname] }] }] }]\n');
  port = await portPair();
  // No uiPort given: the convention decides it (host/paths.ts devServerPorts).
  server = await startDevServer({ port, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'server.log') });
  // The same server behind another port, whose + 1000 nobody serves.
  relayPort = await portPair();
  relay = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end); upstream.on('error', end);
  });
  await new Promise<void>((resolve) => relay!.listen(relayPort, '127.0.0.1', resolve));
});

after(async () => {
  relay?.close();
  await server?.stop();
});

const sparkyRun = (env: Record<string, string>) =>
  execa(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sparky.js'), 'run', plan], {
    cwd: dir, reject: false, stdin: 'ignore', timeout: 60_000,
    env: { SPARKY_DATA_DIR: dir, SPARKY_UI_URL: '', SPARKY_UI_PORT: '', SPARKY_TEMPORAL_PORT: '', ...env },
  });

test('the dev server\'s Web UI port follows its gRPC port (+ 1000) unless SPARKY_UI_PORT says otherwise', () => {
  assert.deepEqual(devServerPorts({}), { port: 7233, uiPort: 8233 });
  assert.deepEqual(devServerPorts({ SPARKY_TEMPORAL_PORT: '7300' }), { port: 7300, uiPort: 8300 });
  assert.deepEqual(devServerPorts({ SPARKY_TEMPORAL_PORT: '7300', SPARKY_UI_PORT: '9000' }), { port: 7300, uiPort: 9000 });
});

test('only TEMPORAL_ADDRESS set (not the default): the link is the Web UI that serves it, and it answers', async (t) => {
  if (!server) { t.skip('run `npm run setup` first: the Temporal CLI is missing'); return; }
  assert.equal(server.uiUrl, `http://127.0.0.1:${port + 1000}`, 'the dev server put its Web UI on the gRPC port + 1000');
  const started = await sparkyRun({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
  assert.equal(started.exitCode, 0, started.stderr);
  const id = /started (\S+)/.exec(started.stdout)![1];
  const link = /Web UI: +(\S+)/.exec(started.stdout)?.[1];
  assert.equal(link, `http://127.0.0.1:${port + 1000}/namespaces/default/workflows/${id}`);
  assert.doesNotMatch(started.stdout, /8233/);
  const page = await fetch(link!);
  assert.equal(page.status, 200, 'the printed link is served');
});

test('nothing serves the convention\'s port: no link, but where to set it; SPARKY_UI_PORT is taken as given', async (t) => {
  if (!server) { t.skip('run `npm run setup` first: the Temporal CLI is missing'); return; }
  const unknown = await sparkyRun({ TEMPORAL_ADDRESS: `127.0.0.1:${relayPort}` });
  assert.equal(unknown.exitCode, 0, unknown.stderr);
  assert.match(unknown.stdout, new RegExp(`Web UI: +unknown: nothing answers at http://127\\.0\\.0\\.1:${relayPort + 1000} .*set SPARKY_UI_URL .* or SPARKY_UI_PORT`));
  assert.doesNotMatch(unknown.stdout, /http:\/\/\S+\/workflows\//, 'no link to a page nothing serves');

  const given = await sparkyRun({ TEMPORAL_ADDRESS: `127.0.0.1:${relayPort}`, SPARKY_UI_PORT: String(port + 1000) });
  assert.equal(given.exitCode, 0, given.stderr);
  const id = /started (\S+)/.exec(given.stdout)![1];
  assert.match(given.stdout, new RegExp(`Web UI: +http://127\\.0\\.0\\.1:${port + 1000}/namespaces/default/workflows/${id}$`, 'm'));
});
