// `mtls-oauth call` as a user runs it, against the real test IdP and the protected API that
// enforces the binding as Kong does (src/idp/resource-server.ts via test/helpers/resource-api.ts):
// the bound token with our certificate (200), without a certificate and with another one (401,
// WWW-Authenticate explained), --expect-status as the exit code, bad input, and an API that does not
// enforce the binding caught by the negative proofs.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ResourceServer } from '../../src/idp/resource-server.ts';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { cachedEntry, type IdpFixture, idpFixture, serverFixture } from '../helpers/idp-fixture.ts';
import { startTestApi } from '../helpers/resource-api.ts';

describe('mtls-oauth call (built CLI, test IdP, binding-enforcing API)', () => {
  let fx: IdpFixture;
  let api: ResourceServer;
  let lax: ResourceServer;
  let kong: string[];
  let thumbprint: string;
  const run = (args: string[], input?: string) => fx.run(args, { input });
  const token = () => cachedEntry(fx.cacheDir, fx.idp).access_token as string;

  before(async () => {
    fx = await idpFixture({ aliases: true, prefix: 'e2e-call-' });
    api = await startTestApi(fx.idp);
    lax = await startTestApi(fx.idp, { enforceBinding: false });
    kong = fx.args();
    thumbprint = createHash('sha256').update(fx.idp.pki.client.x509.raw).digest('base64url');
    const t = await run(['token', ...kong, '--api', `${api.url}/orders`]);
    assert.equal(t.code, 0, t.stderr);
    // token ends with the ready-to-run call line for the configured API.
    assert.match(
      t.stdout,
      new RegExp(`next: mtls-oauth call ${api.url}/orders --issuer ${fx.idp.issuer} --client-id kong`),
    );
  });
  after(async () => {
    await api?.close();
    await lax?.close();
    await fx?.close();
  });

  test('the bound token with our certificate: 200, the binding shown, the token redacted', async () => {
    const r = await run(['call', `${api.url}/orders`, ...kong, '--expect-status', '200']);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(r.stdout, /^HTTP 200 {2}GET https:\/\/127\.0\.0\.1:\d+\/orders/);
    assert.match(r.stdout, new RegExp(`token bound to\\s+x5t#S256 ${thumbprint}`));
    assert.match(r.stdout, new RegExp(`certificate sent\\s+x5t#S256 ${thumbprint}`));
    assert.match(r.stdout, /"binding": "enforced"/);
    assert.match(r.stdout, /exp\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in /, 'claim times as dates');
    assert.match(r.stdout, /client certificate sent: CN=kong/, 'the TLS story of the API connection');
    assert.match(r.stdout, /✓ expect status: expected 200, the API answered 200/);
    assert.ok(!r.stdout.includes(token()) && !r.stderr.includes(token()), 'the token is not printed');
    assert.equal(api.requests.at(-1)?.certificate, thumbprint);
  });

  test('--json: status, body, binding and the TLS record of the call', async () => {
    const r = await run([
      'call',
      `${api.url}/x`,
      ...kong,
      '--json',
      '-X',
      'post',
      '-H',
      'X-Trace: 1',
      '-d',
      '{"a":1}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.ok, true);
    assert.equal(env.command, 'call');
    assert.equal(env.result.status, 200);
    assert.equal(env.result.request.method, 'POST');
    assert.equal(env.result.body.received_bytes, 7);
    assert.deepEqual(env.result.binding, {
      presented: thumbprint,
      token: thumbprint,
      tokenSource: 'cached',
      match: true,
    });
    assert.ok(!r.stdout.includes(token()), 'the token is redacted under --json');
    assert.ok(Array.isArray(env.tls) && env.tls.length > 0);
  });

  test('--no-cert --expect-status 401: the API refuses the token without its certificate; WWW-Authenticate explained', async () => {
    const r = await run(['call', `${api.url}/orders`, ...kong, '--no-cert', '--expect-status', '401']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP 401/);
    assert.match(r.stdout, /certificate sent\s+none/);
    assert.match(r.stdout, /must refuse it — and it did/);
    assert.match(
      r.stdout,
      /refused: WWW-Authenticate Bearer realm="mtls-oauth test API", error="invalid_token"/,
    );
    assert.match(r.stdout, /invalid_token: the API refused the token itself: .*RFC 8705 §3/);
    assert.match(
      r.stdout,
      /the API says: the access token is certificate-bound and no client certificate was presented/,
    );
    assert.equal(api.requests.at(-1)?.certificate, undefined, 'no certificate reached the API');
  });

  test('--as another certificate (same CA, and a CA of its own) --expect-status 401: refused', async () => {
    for (const who of ['other', 'foreign'] as const) {
      const r = await run([
        'call',
        `${api.url}/orders`,
        ...kong,
        '--as',
        fx.files[`${who}Cert`],
        '--key',
        fx.files[`${who}Key`],
        '--expect-status',
        '401',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const env = jsonOf(r);
      assert.equal(env.result.status, 401);
      assert.equal(env.result.binding.match, false);
      assert.equal(env.result.challenge.error, 'invalid_token');
      assert.match(env.result.challenge.explanation, /not sent with the certificate it is bound to/);
      assert.match(env.result.request.negativeProof, /with another certificate/);
    }
  });

  test('--expect-status differs: exit 1 with API_STATUS', async () => {
    const r = await run([
      'call',
      `${api.url}/orders`,
      ...kong,
      '--no-cert',
      '--expect-status',
      '2xx',
      '--json',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.ok, false);
    assert.equal(env.error?.code, 'API_STATUS');
    assert.equal(env.checks[0].status, 'fail');
  });

  test('an API that does not enforce the binding: the negative proof fails and says why', async () => {
    const r = await run(['call', `${lax.url}/orders`, ...kong, '--no-cert', '--expect-status', '401']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /it did NOT: the API does not enforce the binding/);
    assert.match(r.stderr, /error: the API answered HTTP 200, expected 401/);
    assert.match(r.stderr, /does not enforce RFC 8705 §3/);
  });

  test('--token - reads the token from stdin', async () => {
    const r = await run(['call', `${api.url}/`, ...fx.tlsArgs(), '--token', '-', '--json'], token());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonOf(r).result.status, 200);
  });

  test('bad input: -d @missing-file, a bad header, a bad --expect-status, plain http: exit 2, clear', async () => {
    assertCleanFailure(
      await run(['call', `${api.url}/`, ...kong, '-d', '@missing.json']),
      2,
      /cannot read the request body \(-d @FILE\) missing\.json/,
    );
    assertCleanFailure(await run(['call', `${api.url}/`, ...kong, '-H', 'no colon']), 2, /is not a header/);
    assertCleanFailure(
      await run(['call', `${api.url}/`, ...kong, '-H', 'Authorization: Bearer x']),
      2,
      /sets this header itself/,
    );
    assertCleanFailure(
      await run(['call', `${api.url}/`, ...kong, '--expect-status', 'ok']),
      2,
      /not an HTTP status/,
    );
    assertCleanFailure(await run(['call', 'http://example.com/', ...kong]), 2, /only over https/);
    assertCleanFailure(await run(['call', ...kong]), 2, /no URL to call/);
  });
});

describe('mtls-oauth call: what comes from the network is escaped', () => {
  test('control characters in WWW-Authenticate and the body never reach the terminal raw', async () => {
    const fx = await serverFixture((_req, res) => {
      res.writeHead(401, {
        'content-type': 'text/plain',
        'www-authenticate': 'Bearer error="invalid_token", error_description="bad\x9b2Jtoken"',
      });
      res.end('gone\x1b[2J\x07 away');
    }, 'e2e-call-hostile-');
    try {
      const r = await fx.run(['call', `${fx.server.url}/`, '--token', '-', '--ca', fx.ca], {
        input: 'an-opaque-token-from-stdin-0123456789',
      });
      assert.equal(r.code, 0, r.stderr);
      for (const out of [r.stdout, r.stderr]) {
        assert.ok(!/[\x1b\x07\x9b]/.test(out), `no raw control character in ${JSON.stringify(out)}`);
      }
      assert.match(r.stdout, /gone\\x1b\[2J\\x07 away/);
      assert.match(r.stdout, /the API says: bad\\x9b2Jtoken/);
      assert.match(r.stdout, /invalid_token: the API refused the token itself/);
      assert.match(r.stdout, /token bound to\s+unknown/);
      assert.ok(!r.stdout.includes('an-opaque-token-from-stdin'), 'the token is not printed');
    } finally {
      await fx.close();
    }
  });
});
