// The one reading of the Worker Versioning variables (workers/deployment.ts versioningFromEnv): versioned
// by default, unversioned only with SPARKY_UNVERSIONED=1, and contradictory or malformed settings are
// errors that name the fix rather than a quiet guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { versioningFromEnv } from '../../workers/deployment.ts';

test('versioned by default: deployment sparky, the code\'s own build, made current only when the deployment has none', () => {
  assert.deepEqual(versioningFromEnv({}), { versioned: true, name: 'sparky', makeCurrent: 'if-none' });
  assert.deepEqual(versioningFromEnv({ SPARKY_DEPLOYMENT: '', SPARKY_UNVERSIONED: '0' }), { versioned: true, name: 'sparky', makeCurrent: 'if-none' });
  assert.deepEqual(versioningFromEnv({ SPARKY_DEPLOYMENT: 'ops', SPARKY_MAKE_CURRENT: '1' }), { versioned: true, name: 'ops', makeCurrent: 'always' });
  assert.deepEqual(versioningFromEnv({ SPARKY_MAKE_CURRENT: '0' }), { versioned: true, name: 'sparky', makeCurrent: 'never' });
  // An earlier build served for draining takes no new runs unless asked.
  assert.deepEqual(versioningFromEnv({ SPARKY_BUILD_ID: 'build-0123456789abcdef' }), { versioned: true, name: 'sparky', buildId: 'build-0123456789abcdef', makeCurrent: 'never' });
  assert.equal((versioningFromEnv({ SPARKY_BUILD_ID: 'build-0123456789abcdef', SPARKY_MAKE_CURRENT: '1' }) as { makeCurrent: string }).makeCurrent, 'always');
});

test('unversioned only when asked, and never together with settings of a versioned worker', () => {
  assert.deepEqual(versioningFromEnv({ SPARKY_UNVERSIONED: '1' }), { versioned: false });
  assert.deepEqual(versioningFromEnv({ SPARKY_UNVERSIONED: '1', SPARKY_MAKE_CURRENT: '0' }), { versioned: false });
  assert.throws(() => versioningFromEnv({ SPARKY_UNVERSIONED: '1', SPARKY_DEPLOYMENT: 'sparky' }),
    /SPARKY_UNVERSIONED=1 asks for an unversioned worker, but SPARKY_DEPLOYMENT asks for a versioned one: unset one or the other/);
  assert.throws(() => versioningFromEnv({ SPARKY_UNVERSIONED: '1', SPARKY_BUILD_ID: 'build-0123456789abcdef', SPARKY_MAKE_CURRENT: '1' }),
    /but SPARKY_BUILD_ID and SPARKY_MAKE_CURRENT=1 ask for a versioned one/);
});

test('malformed values are errors naming the fix', () => {
  assert.throws(() => versioningFromEnv({ SPARKY_UNVERSIONED: 'yes' }), /SPARKY_UNVERSIONED=yes: use 1 or 0 \(or leave it unset\)/);
  assert.throws(() => versioningFromEnv({ SPARKY_MAKE_CURRENT: 'true' }), /SPARKY_MAKE_CURRENT=true: use 1 or 0/);
  assert.throws(() => versioningFromEnv({ SPARKY_BUILD_ID: 'v2' }), /SPARKY_BUILD_ID=v2 is not a build id: use build-<16 hex digits>, as `sparky status` or `temporal worker deployment describe --name sparky` prints it/);
});
