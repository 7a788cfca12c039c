// workers/temporal-connection.ts: the one place Sparky's CLI and workers get the address, namespace and
// TLS settings from (Temporal's environment-configuration variables, plus short aliases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeConnection, temporalConnectionSettings } from '../../host/temporal-connection.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sparky-tls-'));
for (const f of ['client.pem', 'client-key.pem', 'ca.pem']) writeFileSync(path.join(dir, f), `PEM ${f}`);
const p = (f: string) => path.join(dir, f);

test('no TLS variables: plain TCP to TEMPORAL_ADDRESS (default 127.0.0.1:7233, namespace default)', () => {
  assert.deepEqual(temporalConnectionSettings({}), { address: '127.0.0.1:7233', namespace: 'default' });
  const s = temporalConnectionSettings({ TEMPORAL_ADDRESS: 'tmprl:7233', TEMPORAL_NAMESPACE: 'gpu' });
  assert.deepEqual(s, { address: 'tmprl:7233', namespace: 'gpu' });
  assert.equal(describeConnection(s), 'tmprl:7233');
});

test('mTLS from the environment-configuration names, and from the short aliases', () => {
  for (const env of [
    { TEMPORAL_TLS_CLIENT_CERT_PATH: p('client.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: p('client-key.pem'), TEMPORAL_TLS_SERVER_CA_CERT_PATH: p('ca.pem') },
    { TEMPORAL_TLS_CERT: p('client.pem'), TEMPORAL_TLS_KEY: p('client-key.pem'), TEMPORAL_TLS_CA: p('ca.pem') },
  ]) {
    const s = temporalConnectionSettings({ ...env, TEMPORAL_TLS_SERVER_NAME: 'localhost' });
    assert.equal(Buffer.from(s.tls!.clientCertPair!.crt).toString(), 'PEM client.pem');
    assert.equal(Buffer.from(s.tls!.clientCertPair!.key).toString(), 'PEM client-key.pem');
    assert.equal(Buffer.from(s.tls!.serverRootCACertificate!).toString(), 'PEM ca.pem');
    assert.equal(s.tls!.serverNameOverride, 'localhost');
    assert.match(describeConnection(s), /\(mTLS\)$/);
  }
  const data = temporalConnectionSettings({ TEMPORAL_TLS_CLIENT_CERT_DATA: 'C', TEMPORAL_TLS_CLIENT_KEY_DATA: 'K' });
  assert.equal(Buffer.from(data.tls!.clientCertPair!.crt).toString(), 'C');
});

test('TEMPORAL_TLS=true alone is server-only TLS; TEMPORAL_TLS=false switches it off', () => {
  assert.deepEqual(temporalConnectionSettings({ TEMPORAL_TLS: 'true' }).tls, {});
  assert.equal(temporalConnectionSettings({ TEMPORAL_TLS: 'false', TEMPORAL_TLS_CA: p('ca.pem') }).tls, undefined);
});

test('bad settings are errors that name the variable', () => {
  assert.throws(() => temporalConnectionSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: p('missing.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: p('client-key.pem') }),
    /TEMPORAL_TLS_CLIENT_CERT_PATH=.*missing\.pem: cannot read the client certificate \(ENOENT\)/);
  assert.throws(() => temporalConnectionSettings({ TEMPORAL_TLS_CERT: p('client.pem') }), /set both or neither/);
});
