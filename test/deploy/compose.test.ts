// docker-compose.yml validated offline, plus the structural promises docs/deploy.md makes about it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../host/paths.ts';

const file = path.join(PROJECT_ROOT, 'docker-compose.yml');

async function composeBinary(): Promise<string[] | undefined> {
  for (const argv of [['docker-compose'], ['docker', 'compose']]) {
    const r = await execa(argv[0], [...argv.slice(1), 'version'], { reject: false });
    if (r.exitCode === 0) return argv;
  }
  return undefined;
}

test('docker-compose.yml passes `docker-compose config -q`', async (t) => {
  const compose = await composeBinary();
  if (!compose) { t.skip('neither docker-compose nor `docker compose` is installed (apt-get install docker-compose)'); return; }
  const r = await execa(compose[0], [...compose.slice(1), '-f', file, 'config', '-q'], { reject: false, all: true, cwd: PROJECT_ROOT });
  assert.equal(r.exitCode, 0, r.all);
});

test('every service has a real health check, GPU services reserve their device, Prometheus scrapes them', () => {
  const doc = parse(readFileSync(file, 'utf8')) as { services: Record<string, Record<string, any>> };
  for (const [name, svc] of Object.entries(doc.services)) {
    assert.ok(svc.healthcheck?.test, `${name} has no health check`);
    assert.doesNotMatch(JSON.stringify(svc.healthcheck.test), /\b(true|exit 0)\b"?\]?$/, `${name}'s health check checks nothing`);
  }
  for (const name of ['inference-gpu0', 'gpu-worker-0']) {
    const devices = doc.services[name].deploy.resources.reservations.devices;
    assert.deepEqual(devices, [{ driver: 'nvidia', device_ids: ['0'], capabilities: ['gpu'] }]);
  }
  const prometheus = readFileSync(path.join(PROJECT_ROOT, 'deploy', 'prometheus.yml'), 'utf8');
  for (const target of ['cpu-worker:9464', 'gpu-worker-0:9464', 'inference-gpu0:9465', 'temporal:8000']) assert.match(prometheus, new RegExp(target));
  assert.match(doc.services.temporal.image, /^temporalio\/auto-setup/);
  assert.match(doc.services.postgresql.image, /^postgres/);
});
