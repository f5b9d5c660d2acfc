// `mtls-oauth discover` as a user runs it (the built CLI in a child process): against the real
// test IdP with mtls_endpoint_aliases, and against broken documents served by a small local server.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf, runCli } from '../helpers/cli.ts';
import type { TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { makeTestPki } from '../helpers/pki.ts';
import { type Running, startHttpsServer, tempFiles } from '../helpers/tls-servers.ts';

describe('discover against the real IdP (oidc-provider with mtls_endpoint_aliases)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  before(async () => {
    fx = await idpFixture({ aliases: true });
    idp = fx.idp;
  });
  after(() => fx?.close());

  test('human output: each alias next to its plain endpoint, and which one is used', async () => {
    const r = await runCli(['discover', idp.issuer, '--ca', fx.files.ca]);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    const out = r.stdout;
    assert.match(out, new RegExp(`document +${idp.issuer}/\\.well-known/openid-configuration`));
    for (const [op, member] of [
      ['token', 'token_endpoint'],
      ['introspection', 'introspection_endpoint'],
      ['revocation', 'revocation_endpoint'],
    ]) {
      const alias = idp.aliases![member];
      assert.match(
        out,
        new RegExp(`mTLS alias +${alias.replace(/[.]/g, '\\.')} +used for: ${op} \\(mTLS alias\\)`),
      );
    }
    assert.match(out, /tls_client_auth ✓ +self_signed_tls_client_auth ✓/);
    assert.match(out, /Certificate-bound access tokens +yes/);
    assert.match(out, /kid test-rs256 +RSA 2048 +RS256 +sig/);
    assert.match(out, /✓ issuer: .* matches exactly/);
    assert.doesNotMatch(out, /✗/);
    // Discovery and JWKS are public: fetched from the plain host, without a client certificate.
    const seen = idp.requests.filter((q) => /well-known|jwks/.test(q.path));
    assert.ok(seen.length >= 2);
    assert.ok(seen.every((q) => q.listener === 'plain' && !q.clientCert));
  });

  test('--json: the document as received, the analysis and the JWKS summary', async () => {
    const r = await runCli(['discover', '--json'], {
      env: fx.env({ MTLS_OAUTH_ISSUER: idp.issuer, MTLS_OAUTH_CA: fx.files.ca }),
    });
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    assert.equal(j.command, 'discover');
    assert.equal(j.result.document.issuer, idp.issuer);
    assert.deepEqual(j.result.document.mtls_endpoint_aliases, idp.aliases);
    const token = j.result.analysis.endpoints.find((e: any) => e.operation === 'token');
    assert.deepEqual(token.withCert, { url: idp.aliases!.token_endpoint, via: 'alias' });
    assert.equal(token.withoutCert, idp.endpoints.token);
    assert.equal(j.result.analysis.clientAuth.token.tls_client_auth, true);
    assert.equal(j.result.analysis.certificateBoundAccessTokens, true);
    assert.deepEqual(
      j.result.jwks.keys.map((k: any) => k.kid),
      ['test-rs256', 'test-es256'],
    );
    assert.ok(j.checks.every((c) => c.status !== 'fail'));
    assert.ok(Array.isArray(j.tls) && j.tls.length >= 1, 'connections recorded');
  });

  test('a trailing "/" that the IdP does not have fails validation (exit 1)', async () => {
    const r = await runCli(['discover', `${idp.issuer}/`, '--ca', fx.files.ca]);
    assertCleanFailure(r, 1, /issuer: the document says "https:\/\/127\.0\.0\.1:\d+" but .* trailing "\/"/);
    assert.match(r.stderr, /hint: .*use exactly that as the issuer/);
    assert.match(r.stdout, /✗ issuer/);
  });

  test('without --ca: exit 3 and a hint about --ca', async () => {
    const r = await runCli(['discover', idp.issuer]);
    assertCleanFailure(r, 3, /not trusted|self-signed|unable to verify/i);
    assert.match(r.stderr, /--ca/);
  });
});

test('discover an issuer with a path (OIDC location found first)', async (t) => {
  const { idp, files, close } = await idpFixture({ aliases: true, path: '/tenant' });
  t.after(close);
  const r = await runCli(['discover', idp.issuer, '--ca', files.ca, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = jsonOf(r);
  assert.equal(j.result.location, 'oidc');
  assert.equal(j.result.documentUrl, `${idp.issuer}/.well-known/openid-configuration`);
});

describe('discover against broken documents', () => {
  const fixtures = new URL('../../fixtures/discovery/', import.meta.url);
  let server: Running;
  let files: ReturnType<typeof tempFiles>;
  let routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {};
  const json = (text: string) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(text);
  };
  /** A fixture with its example origin replaced by the local server's. */
  const fixture = (name: string) =>
    readFileSync(new URL(`${name}.json`, fixtures), 'utf8').replaceAll('https://idp.example.com', server.url);
  const discover = (...args: string[]) =>
    runCli(['discover', server.url, '--ca', files.path('ca.crt'), ...args]);

  before(async () => {
    const pki = await makeTestPki();
    files = tempFiles({ 'ca.crt': pki.ca.cert });
    server = await startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      handler: (req, res) => {
        res.on('error', () => {});
        const route = routes[req.url ?? ''];
        if (route) route(req, res);
        else res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>');
      },
    });
  });
  after(async () => {
    await server.close();
    files.remove();
  });

  const OIDC = '/.well-known/openid-configuration';

  test('issuer mismatch: exit 1, both issuers named', async () => {
    routes = { [OIDC]: json(fixture('broken-issuer-mismatch')) };
    const r = await discover();
    assertCleanFailure(
      r,
      1,
      /the document says "https:\/\/evil\.example\.net" but "https:\/\/127\.0\.0\.1:\d+" was asked for/,
    );
    const j = jsonOf(await discover('--json'));
    assert.equal(j.ok, false);
    assert.equal(j.error?.code, 'DISCOVERY_INVALID');
    assert.equal(j.result.document.issuer, 'https://evil.example.net', 'the document as received');
    assert.deepEqual(
      j.checks.filter((c) => c.status === 'fail').map((c) => c.name),
      ['issuer'],
    );
  });

  test('issuer with a trailing slash the user did not type: exit 1', async () => {
    routes = { [OIDC]: json(fixture('broken-issuer-trailing-slash')) };
    assertCleanFailure(await discover(), 1, /differ only in the trailing "\/"/);
  });

  test('missing members: exit 1, each named', async () => {
    routes = { [OIDC]: json(fixture('broken-missing-fields')) };
    const r = await discover();
    assertCleanFailure(
      r,
      1,
      /required members: missing "token_endpoint", "response_types_supported", "jwks_uri"/,
    );
  });

  test('http endpoints on a non-loopback host: exit 1', async () => {
    routes = { [OIDC]: json(fixture('broken-http-endpoints')) };
    const r = await discover();
    assertCleanFailure(
      r,
      1,
      /"token_endpoint" uses http:\/\/ on a non-loopback host: http:\/\/idp\.example\.com\/token/,
    );
  });

  test('members of the wrong type: exit 1, no crash', async () => {
    routes = { [OIDC]: json(fixture('broken-wrong-types')) };
    const r = await discover();
    assertCleanFailure(
      r,
      1,
      /"token_endpoint_auth_methods_supported" must be an array of strings, got string/,
    );
  });

  test('not an object: exit 1', async () => {
    routes = { [OIDC]: json('["issuer"]') };
    assertCleanFailure(await discover(), 1, /must be a JSON object, got array/);
  });

  test('HTML instead of JSON: exit 3, status, content type and body start shown', async () => {
    routes = {
      [OIDC]: (_req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<!doctype html><title>Sign in</title>'),
    };
    const r = await discover();
    assertCleanFailure(r, 3, /HTTP 200 with text\/html.* instead of JSON: "<!doctype html><title>Sign in/);
    assert.match(r.stderr, /hint: .*issuer/);
    assert.equal(jsonOf(await discover('--json')).error?.code, 'NOT_JSON');
  });

  test('a 10 MB body: exit 3, stopped at the size limit', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    routes = {
      [OIDC]: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        let sent = 0;
        const pump = () => {
          while (sent < 10 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end('{}');
        };
        pump();
      },
    };
    const r = await discover('--json');
    assert.equal(r.code, 3, r.stderr);
    assertNoStack(r);
    const j = jsonOf(r);
    assert.equal(j.error?.code, 'RESPONSE_TOO_LARGE');
    assert.match(j.error!.message, /larger than \d+ bytes/);
  });

  test('no document anywhere: exit 3, every location tried is named', async () => {
    routes = {};
    const r = await discover();
    assertCleanFailure(
      r,
      3,
      /no discovery document for https:\/\/127\.0\.0\.1:\d+: .*openid-configuration → HTTP 404; .*oauth-authorization-server → HTTP 404/,
    );
  });

  test('a valid Keycloak-like realm with aliases on another host: exit 0, warnings only', async () => {
    routes = { [`/realms/demo${OIDC}`]: json(fixture('keycloak-realm')) };
    const r = await runCli(['discover', `${server.url}/realms/demo`, '--ca', files.path('ca.crt')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /mTLS alias +https:\/\/mtls\.idp\.example\.com\/realms\/demo\/protocol\/openid-connect\/token +used for: token \(mTLS alias\)/,
    );
    assert.match(r.stdout, /! JWKS: /, 'the JWKS 404 is a warning');
    assert.match(r.stdout, /alias registration_endpoint/);
  });

  test('an RFC 8414 document under a path, at the inserted location', async () => {
    routes = { '/.well-known/oauth-authorization-server/tenant': json(fixture('oauth-minimal')) };
    const r = await runCli(['discover', `${server.url}/tenant`, '--ca', files.path('ca.crt'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.result.location, 'rfc8414');
    assert.deepEqual(
      j.result.attempts.map((a: any) => a.status),
      [404, 200],
    );
    assert.ok(j.checks.some((c) => c.name === 'mTLS client authentication' && c.status === 'warn'));
  });

  test('usage errors: no issuer, not a URL, plain http', async () => {
    assertCleanFailure(await runCli(['discover']), 2, /give the issuer/);
    assertCleanFailure(await runCli(['discover', 'idp.example.com']), 2, /not a URL/);
    assertCleanFailure(await runCli(['discover', 'http://idp.example.com']), 2, /must be an https:\/\/ URL/);
  });
});
