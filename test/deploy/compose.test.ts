// docker-compose.yml validated offline, plus the structural promises docs/deploy.md makes about it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../../host/paths.ts';
import { searchAttributeSpecs, SPARKY_SEARCH_ATTRIBUTES } from '../../common/search-attributes.ts';

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
  assert.match(doc.services.postgresql.image, /^postgres/);
});

test('the compose stack runs the Temporal server that scripts/cluster builds, from the same config file', () => {
  const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Record<string, any>> };
  const script = readFileSync(path.join(PROJECT_ROOT, 'scripts', 'cluster'), 'utf8');
  const pin = (name: string) => script.match(new RegExp(`^${name}=v(\\S+)`, 'm'))?.[1];
  const server = pin('TEMPORAL_SERVER_VERSION'); const ui = pin('TEMPORAL_UI_VERSION');
  assert.ok(server && ui, 'scripts/cluster pins the server and UI versions');
  assert.equal(doc.services['temporal-schema'].image, `temporalio/admin-tools:\${TEMPORAL_SERVER_VERSION:-${server}}`);
  // Four services, one container each, every one the server image at the pinned version with the one config file.
  const services = { temporal: 'frontend', 'temporal-history': 'history', 'temporal-matching': 'matching', 'temporal-worker': 'worker' };
  for (const [name, service] of Object.entries(services)) {
    const svc = doc.services[name];
    assert.equal(svc.image, `temporalio/server:\${TEMPORAL_SERVER_VERSION:-${server}}`, name);
    assert.equal(svc.environment.TEMPORAL_SERVICES, service, name);
    assert.equal(svc.environment.TEMPORAL_SERVER_CONFIG_FILE_PATH, '/etc/temporal/sparky/temporal.yaml', name);
    assert.deepEqual(svc.volumes, ['./deploy/temporal:/etc/temporal/sparky:ro'], name);
  }
  assert.equal(doc.services['temporal-ui'].image, `temporalio/ui:\${TEMPORAL_UI_VERSION:-${ui}}`);
  // The schema job runs the script scripts/cluster runs; admin-tools registers Sparky's search attributes.
  assert.match(doc.services['temporal-schema'].command.join(' '), /\/etc\/temporal\/sparky\/schema\.sh/);
  assert.match(script, /deploy\/temporal\/schema\.sh/);
  const registered = [...doc.services['admin-tools'].command.join(' ').matchAll(/for a in ([\w= ]+);/g)][0]?.[1].trim().split(/\s+/);
  assert.deepEqual(registered, searchAttributeSpecs(), 'admin-tools registers every search attribute with its type');
  assert.equal(registered?.length, SPARKY_SEARCH_ATTRIBUTES.length);
});
