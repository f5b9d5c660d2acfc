// Messages that used to mislead (issue 12), as a user meets them through the built CLI against the
// real test IdP: a wrong --ca named and told apart from the client's own CA, a PEM file given as
// --p12, a key that is not the certificate's, and http:// to an HTTPS port.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure } from '../helpers/cli.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { makeTestPki } from '../helpers/pki.ts';

describe('messages that name what was given (built CLI, test IdP)', () => {
  let fx: IdpFixture;
  let other: { ca: string; cert: string; key: string };

  before(async () => {
    fx = await idpFixture({ prefix: 'e2e-messages-' });
    // Another PKI, as `certs init` makes one: its ca.crt issued the client certificate only.
    const pki = await makeTestPki();
    other = {
      ca: join(fx.home, 'other-ca.crt'),
      cert: join(fx.home, 'other.crt'),
      key: join(fx.home, 'other.key'),
    };
    writeFileSync(other.ca, pki.ca.cert);
    writeFileSync(other.cert, pki.client.cert);
    writeFileSync(other.key, pki.client.key, { mode: 0o600 });
  });
  after(() => fx?.close());

  const idp = () => ['--issuer', fx.idp.issuer, '--client-id', 'kong'];

  test('a wrong --ca is named, with its subject, unlike no --ca', async () => {
    const none = await fx.run([
      'token',
      ...idp(),
      '--cert',
      fx.files.clientCert,
      '--key',
      fx.files.clientKey,
    ]);
    assertCleanFailure(none, 3, /not trusted/);
    assert.doesNotMatch(none.stderr, /did not sign it|issued your client certificate/);

    const wrong = await fx.run([
      'token',
      ...idp(),
      '--cert',
      fx.files.clientCert,
      '--key',
      fx.files.clientKey,
      '--ca',
      other.ca,
    ]);
    assertCleanFailure(wrong, 3, /not trusted/);
    assert.match(
      wrong.stderr,
      new RegExp(`--ca ${other.ca} \\(CN=Test CA,O=mtls-oauth tests\\) did not sign it`),
    );
  });

  test("--ca that is the client certificate's own CA: said so", async () => {
    const r = await fx.run(['token', ...idp(), '--cert', other.cert, '--key', other.key, '--ca', other.ca]);
    assertCleanFailure(r, 3, /not trusted/);
    assert.match(
      r.stderr,
      /is the CA that issued your client certificate, not the one that issued the IdP's server certificate/,
    );
  });

  test('a PEM certificate or key given as --p12: use --cert/--key', async () => {
    const cert = await fx.run(['token', ...idp(), '--p12', fx.files.clientCert, '--ca', fx.files.ca]);
    assertCleanFailure(cert, 2, /is a PEM certificate, not a PKCS#12 file/);
    assert.match(cert.stderr, /--cert FILE --key FILE/);
    const key = await fx.run(['token', ...idp(), '--p12', fx.files.clientKey, '--ca', fx.files.ca]);
    assertCleanFailure(key, 2, /is a PEM private key, not a PKCS#12 file/);
  });

  test("a key that is not the certificate's: the hint names certs inspect with both files", async () => {
    const r = await fx.run([
      'token',
      ...idp(),
      '--cert',
      fx.files.clientCert,
      '--key',
      other.key,
      '--ca',
      fx.files.ca,
    ]);
    assertCleanFailure(r, 2, /does not belong to the certificate/);
    assert.match(r.stderr, new RegExp(`mtls-oauth certs inspect ${fx.files.clientCert} --key ${other.key}`));
    assert.doesNotMatch(r.stderr, /openssl/);
  });

  test('http:// to the HTTPS port: use https, and plain HTTP carries no client certificate', async () => {
    const plain = fx.idp.issuer.replace('https:', 'http:');
    const r = await fx.run(['token', '--issuer', plain, '--client-id', 'kong', ...fx.tlsArgs()]);
    assertCleanFailure(r, 3, /the port probably speaks TLS/);
    assert.match(r.stderr, /use https:\/\/.*plain HTTP carries no client certificate at all/);
  });

  test('a failure with more to show says -v shows it; a usage error and -v itself do not', async () => {
    const refused = ['token', ...idp(), '--cert', other.cert, '--key', other.key, '--ca', fx.files.ca];
    const r = await fx.run(refused);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /\nmore: run again with -v to see each request, the TLS handshake and the likely causes\n$/,
    );
    const v = await fx.run([...refused, '-v']);
    assert.equal(v.code, r.code);
    assert.doesNotMatch(v.stderr, /run again with -v/);
    const usage = await fx.run(['token', '--grant', 'bogus', ...idp()]);
    assertCleanFailure(usage, 2, /unknown grant/);
    assert.doesNotMatch(usage.stderr, /run again with -v/);
  });
});
