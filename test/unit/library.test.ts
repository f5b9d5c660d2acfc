// The built library entry (dist/index.js, what `import 'mtls-oauth'` loads) exposes the engine.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';

test('dist/index.js exports the engine and it works without the CLI', async () => {
  const lib = await import(new URL('../../dist/index.js', import.meta.url).href);
  for (const name of [
    'openSession',
    'tokenRequest',
    'discover',
    'HttpClient',
    'createTestPki',
    'MtlsOAuthError',
  ]) {
    assert.equal(typeof lib[name], 'function', name);
  }
  const pki = await lib.createTestPki({});
  const cert = new X509Certificate(pki.client.pem);
  assert.ok(cert.verify(pki.ca.certificate.publicKey), 'the client certificate is signed by the CA');
  assert.equal(lib.x5tS256(cert).length, 43);
  assert.deepEqual(lib.formatDn(lib.parseDn('CN=kong,O=Example')), 'CN=kong,O=Example');
});
