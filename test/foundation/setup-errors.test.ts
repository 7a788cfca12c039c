// Bad set-up conditions get messages a person can act on: no Python, a port already taken, the
// Temporal CLI missing. (A half-installed .tools is repaired by re-running scripts/setup: it checks
// each binary's recorded version and size before trusting it.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { startDevServer } from '../../host/dev-server.ts';

test('setup without Python says so and how to fix it', async () => {
  const r = await execa('bash', [path.join(PROJECT_ROOT, 'scripts', 'setup')], {
    reject: false, all: true, env: { PYTHON: '/nonexistent/python3' },
  });
  assert.equal(r.exitCode, 1);
  assert.match(r.all ?? '', /python3 not found.*install Python 3\.10\+.*PYTHON=/s);
});

test('a taken gRPC or UI port is named, with how to find the holder and pick another', async () => {
  const holder = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => holder.once('listening', r));
  const port = (holder.address() as net.AddressInfo).port;
  try {
    await assert.rejects(startDevServer({ port, uiPort: port + 1 }), (err: Error) => {
      assert.match(err.message, new RegExp(`port ${port} \\(Temporal gRPC\\).*already taken`));
      assert.match(err.message, /ss -ltnp/);
      assert.match(err.message, /SPARKY_TEMPORAL_PORT/);
      return true;
    });
    await assert.rejects(startDevServer({ port: port + 2, uiPort: port }), /Temporal Web UI.*already taken.*SPARKY_UI_PORT/s);
  } finally {
    holder.close();
  }
});

test('a missing Temporal CLI points at npm run setup', async () => {
  const r = await execa(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['-e',
    "import('./host/dev-server.ts').then((m) => m.startDevServer({ port: 1, uiPort: 2 })).catch((e) => { console.log(e.message); })"],
  { cwd: PROJECT_ROOT, reject: false, all: true, env: { SPARKY_TEMPORAL_BIN: '/nonexistent/temporal' } });
  assert.match(r.all ?? '', /Temporal CLI is not installed at \/nonexistent\/temporal: run `npm run setup`/);
});
