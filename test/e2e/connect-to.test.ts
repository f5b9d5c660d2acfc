// --connect-to HOST:PORT:HOST2:PORT2 (curl's meaning): the test IdP listens on 127.0.0.1 but calls
// itself https://idp.test:PORT, with a server certificate for idp.test only, as a new IdP node does
// before DNS points at it. Every network command reaches it through the one connector, with SNI and
// the certificate check on idp.test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, jsonOf } from '../helpers/cli.ts';
import { makeIdpPki } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';

describe('--connect-to', () => {
  let fx: IdpFixture;
  let port: string;
  let mapping: string;
  before(async () => {
    const pki = await makeIdpPki();
    pki.server = await pki.ca.issue({ subject: 'CN=idp.test', profile: 'server', sans: 'dns:idp.test' });
    fx = await idpFixture({ pki, publicHost: 'idp.test', prefix: 'e2e-connect-to-' });
    port = new URL(fx.idp.issuer).port;
    mapping = `idp.test:${port}:127.0.0.1:${port}`;
    assert.equal(fx.idp.issuer, `https://idp.test:${port}`);
  });
  after(() => fx?.close());

  test('discover, token, introspect, revoke, tls and smoke reach idp.test at 127.0.0.1, certificate checked for idp.test', async () => {
    const discover = await fx.run([
      'discover',
      fx.idp.issuer,
      '--ca',
      fx.files.ca,
      '--connect-to',
      mapping,
      '--json',
    ]);
    assert.equal(discover.code, 0, discover.stderr);
    assert.equal(jsonOf(discover).result.document.issuer, fx.idp.issuer);

    const token = await fx.run(['token', ...fx.args(), '--connect-to', mapping, '-v']);
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout, /✓ binding/);
    assert.ok(
      token.stderr.includes(`connection to idp.test:${port} at 127.0.0.1:${port} (--connect-to)`),
      token.stderr,
    );

    // The same mapping from the environment; introspect and revoke use the token cached above.
    const env = { MTLS_OAUTH_CONNECT_TO: mapping };
    const introspect = await fx.run(['introspect', ...fx.args(), '--expect-active'], { env });
    assert.equal(introspect.code, 0, introspect.stderr);
    const revoke = await fx.run(['revoke', ...fx.args(), '--verify'], { env });
    assert.equal(revoke.code, 0, revoke.stderr);

    const tls = await fx.run(
      ['tls', `${fx.idp.issuer}/.well-known/openid-configuration`, ...fx.tlsArgs(), '--json'],
      {
        env,
      },
    );
    assert.equal(tls.code, 0, tls.stderr);
    const record = jsonOf(tls).tls[0];
    assert.equal(record.target, `idp.test:${port}`);
    assert.equal(record.connectedTo, `127.0.0.1:${port}`);
    assert.equal(record.servername, 'idp.test');
    assert.equal(record.verified, true);

    const smoke = await fx.run(['smoke', ...fx.args()], { env });
    assert.equal(smoke.code, 0, `${smoke.stdout}\n${smoke.stderr}`);
  });

  test('an empty PORT or HOST2/PORT2 matches any port and keeps the request own', async () => {
    const r = await fx.run([
      'discover',
      fx.idp.issuer,
      '--ca',
      fx.files.ca,
      '--connect-to',
      'idp.test::127.0.0.1:',
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('a certificate for another name: the hostname-mismatch error (exit 3), not a silent connection', async () => {
    const url = `https://other.test:${port}/.well-known/openid-configuration`;
    const r = await fx.run([
      'tls',
      url,
      ...fx.tlsArgs(),
      '--connect-to',
      `other.test:${port}:127.0.0.1:${port}`,
      '--json',
    ]);
    assert.equal(r.code, 3, r.stderr);
    const out = jsonOf(r);
    assert.equal(out.error?.code, 'TLS_HOSTNAME_MISMATCH');
    assert.match(out.error?.message ?? '', /not valid for other\.test; it names dns:idp\.test/);
  });

  test('a malformed value is a usage error (exit 2) before anything is sent', async () => {
    const before = fx.idp.requests.length;
    for (const bad of [
      'idp.test:443',
      'idp.test:443:127.0.0.1',
      'idp.test:99999:127.0.0.1:443',
      'a:1:b:2,',
      '::1:443:x:1',
    ]) {
      const r = await fx.run(['discover', fx.idp.issuer, '--ca', fx.files.ca, '--connect-to', bad]);
      assertCleanFailure(r, 2, /--connect-to ".*"/);
      assert.match(r.stderr, /hint: the form is HOST:PORT:HOST2:PORT2/);
    }
    const json = await fx.run(['token', ...fx.args(), '--connect-to', 'nonsense', '--json']);
    assert.equal(json.code, 2);
    assert.equal(jsonOf(json).error?.code, 'BAD_CONNECT_TO');
    assert.equal(fx.idp.requests.length, before);
  });
});
