// The token, introspection and revocation calls (session.ts + token-endpoint.ts) against the real
// test IdP (oidc-provider over HTTPS with mTLS), plus small servers for answers no IdP gives on
// purpose (HTML, oversize bodies, 503, a bare WWW-Authenticate).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Settings } from '../../src/core/config.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { chooseEndpoint, type Operation, openSession, type Session } from '../../src/core/session.ts';
import {
  checkTokenBinding,
  grantParams,
  introspectToken,
  revokeToken,
  tokenRequest,
} from '../../src/core/token-endpoint.ts';
import { makeIdpPki, type PkiFiles, RESOURCE, type TestIdp } from '../helpers/idp.ts';
import {
  authorizationCode,
  type IdpFixture,
  idpFixture,
  intruderClient,
  jwtClient,
} from '../helpers/idp-fixture.ts';
import { makeTestPki } from '../helpers/pki.ts';
import { startHttpsServer } from '../helpers/tls-servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'token-endpoint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const x5t = (pem: string) =>
  createHash('sha256')
    .update(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))
    .digest('base64url');

/** Runs fn with a session, always closed. */
async function withSession<T>(
  settings: Settings,
  fn: (s: Session) => Promise<T>,
  ops?: Operation[],
): Promise<T> {
  const s = await openSession({ settings, operations: ops });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** The client_credentials grant at the session's token endpoint, with `extra` parameters. */
const clientCredentials = (s: Session, extra: Record<string, string> = {}) =>
  tokenRequest(s.client, s.endpoint('token').url, { grant_type: 'client_credentials', ...extra });

async function rejectsWith(p: Promise<unknown>, check: (e: MtlsOAuthError) => void) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MtlsOAuthError, `an MtlsOAuthError, got ${e}`);
    check(e);
    return true;
  });
}

describe('against the test IdP with mtls_endpoint_aliases (plain host asks for no certificate)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let files: PkiFiles;
  let kong: Settings;
  before(async () => {
    const pki = await makeIdpPki();
    // Another client, registered for the `other` certificate: its tokens are bound to a certificate
    // that is not kong's.
    fx = await idpFixture({ pki, aliases: true, clients: [intruderClient(pki)] });
    ({ idp, files } = fx);
    kong = fx.settings();
  });
  after(() => fx?.close());

  test('client_credentials with the registered certificate: over the alias, bound, binding passes', async () => {
    await withSession(kong, async (s) => {
      assert.equal(s.credentials.method, 'tls_client_auth', 'the default with a certificate');
      assert.equal(s.idpBindsTokens, true);
      const ep = s.endpoint('token');
      assert.deepEqual(ep, { url: idp.aliases!.token_endpoint, via: 'mtls alias' });
      const before = idp.requests.length;
      const r = await tokenRequest(
        s.client,
        ep.url,
        grantParams({ grant: 'client_credentials', scope: 'api:read' }),
      );
      assert.equal(r.token.token_type, 'Bearer');
      assert.equal(r.token.scope, 'api:read');
      assert.deepEqual(
        r.checks.map((c) => [c.name, c.status]),
        [['expires_in', 'pass']],
      );
      const served = idp.requests.slice(before).filter((q) => q.path === '/token');
      assert.deepEqual(
        served.map((q) => [q.listener, q.clientCert, q.authorized]),
        [['mtls', true, true]],
        'the alias host served the token call, with our certificate',
      );
      assert.equal(r.http.connection?.clientCertSent?.x5tS256, x5t(idp.pki.client.cert));

      const b = await checkTokenBinding(s.client, r.token, {
        idpBinds: s.idpBindsTokens,
        introspectionEndpoint: s.endpoint('introspection').url,
      });
      assert.equal(b.status, 'pass', b.detail);
      assert.equal(b.source, 'introspection');
      assert.equal(b.boundTo, x5t(idp.pki.client.cert));
      // Discovery on the plain host (no certificate), every call with the certificate on the alias
      // host over one connection.
      assert.deepEqual(
        s.http.connections.map((c) => [c.target, c.withClientCert, c.requests]),
        [
          [`127.0.0.1:${idp.port}`, false, 1],
          [`127.0.0.1:${idp.mtlsPort}`, true, 2],
        ],
      );
    });
  });

  test('introspect: active with cnf.x5t#S256 equal to our thumbprint; revoke; then inactive', async () => {
    await withSession(kong, async (s) => {
      const { token } = await clientCredentials(s);
      const i = await introspectToken(
        s.client,
        s.endpoint('introspection').url,
        token.access_token,
        'access_token',
      );
      assert.equal(i.response.active, true);
      assert.equal((i.response.cnf as Record<string, string>)['x5t#S256'], s.identity!.x5tS256);
      assert.equal(s.identity!.x5tS256, x5t(idp.pki.client.cert));
      const r = await revokeToken(s.client, s.endpoint('revocation').url, token.access_token, 'access_token');
      assert.equal(r.status, 200);
      const after = await introspectToken(s.client, s.endpoint('introspection').url, token.access_token);
      assert.deepEqual(after.response, { active: false });
      const aliasPaths = idp.requests.filter((q) => q.listener === 'mtls').map((q) => q.path);
      for (const p of ['/token/introspection', '/token/revocation']) assert.ok(aliasPaths.includes(p), p);
    });
  });

  test('without discovery (endpoint flags only), an explicit introspection endpoint still shows the binding', async () => {
    const flags: Settings = {
      clientId: 'kong',
      cert: files.clientCert,
      key: files.clientKey,
      ca: files.ca,
      tokenEndpoint: idp.aliases!.token_endpoint,
      introspectionEndpoint: idp.aliases!.introspection_endpoint,
    };
    await withSession(
      flags,
      async (s) => {
        assert.equal(s.metadata, undefined);
        assert.equal(s.idpBindsTokens, undefined);
        assert.equal(
          s.cacheKey(),
          JSON.stringify([null, idp.aliases!.token_endpoint, 'kong']),
          'no issuer: the token endpoint and the client',
        );
        const { token } = await clientCredentials(s);
        const b = await checkTokenBinding(s.client, token, {
          idpBinds: s.idpBindsTokens,
          introspectionEndpoint: s.endpoint('introspection').url,
        });
        assert.equal(b.status, 'pass', b.detail);
        const none = await checkTokenBinding(s.client, token, { idpBinds: s.idpBindsTokens });
        assert.equal(none.status, 'skip');
      },
      ['token', 'introspection'],
    );
  });

  test('a token bound to another certificate fails the binding check (introspection)', async () => {
    const token = await withSession(
      fx.settings('intruder', 'other'),
      async (s) => (await clientCredentials(s)).token,
    );
    await withSession(kong, async (s) => {
      const b = await checkTokenBinding(s.client, token, {
        idpBinds: true,
        introspectionEndpoint: s.endpoint('introspection').url,
      });
      assert.equal(b.status, 'fail');
      assert.match(b.detail!, /bound to another certificate/);
      assert.equal(b.boundTo, x5t(idp.pki.other.cert));
    });
  });

  test('an unregistered certificate from the same CA: invalid_client, and the hint names its DN', async () => {
    await withSession(fx.settings('kong', 'other'), async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.kind, 'oauth');
        assert.equal(e.code, 'OAUTH_INVALID_CLIENT');
        assert.match(e.message, /token request failed: invalid_client.*\(HTTP 401\)/);
        assert.match(e.hint!, /subject DN "CN=intruder,OU=gateway,O=mtls-oauth tests"/);
        assert.match(e.hint!, /no SANs/);
        assert.match(e.hint!, /exactly/);
        assert.equal((e.details!.response as { error: string }).error, 'invalid_client');
        assert.equal(e.details!.status, 401);
      });
    });
  });

  test('the certificate of an untrusted CA: the hint says the IdP does not accept its issuer', async () => {
    await withSession(fx.settings('kong', 'foreign'), async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.code, 'OAUTH_INVALID_CLIENT');
        assert.match(
          e.hint!,
          /the issuer of your certificate \("CN=Untrusted CA,O=somewhere else"\) is not among the CAs it accepts/,
        );
      });
    });
  });

  test('no certificate configured, tls_client_auth: the plain endpoint (never an alias), and the hint says none was sent', async () => {
    const warnings: string[] = [];
    const s = await openSession({
      settings: { issuer: idp.issuer, clientId: 'kong', ca: files.ca, auth: 'tls_client_auth' },
      operations: ['token'],
      warn: (m) => warnings.push(m),
    });
    try {
      assert.match(warnings.join('\n'), /tls_client_auth without a client certificate/);
      assert.deepEqual(s.endpoint('token'), { url: idp.endpoints.token, via: 'endpoint' });
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.code, 'OAUTH_INVALID_CLIENT');
        assert.match(e.hint!, /no client certificate was sent \(none is configured\)/);
      });
    } finally {
      await s.close();
    }
  });

  test('the plain endpoint given directly (no CertificateRequest there): the hint says so, from the TLS record', async () => {
    await withSession(
      {
        clientId: 'kong',
        cert: files.clientCert,
        key: files.clientKey,
        ca: files.ca,
        tokenEndpoint: idp.endpoints.token,
      },
      async (s) => {
        assert.deepEqual(s.endpoint('token'), { url: idp.endpoints.token, via: 'setting' });
        await rejectsWith(clientCredentials(s), (e) => {
          assert.equal(e.code, 'OAUTH_INVALID_CLIENT');
          assert.match(e.hint!, /did not ask for a client certificate, so none was sent/);
          assert.equal((e.details!.tls as { clientCertRequested?: boolean }).clientCertRequested, false);
        });
      },
      ['token'],
    );
  });

  test('self_signed_tls_client_auth', async () => {
    await withSession(
      { ...fx.settings('self-signed', 'selfSigned'), auth: 'self_signed_tls_client_auth' },
      async (s) => {
        const { token } = await clientCredentials(s);
        const b = await checkTokenBinding(s.client, token, {
          idpBinds: true,
          introspectionEndpoint: s.endpoint('introspection').url,
        });
        assert.equal(b.status, 'pass', b.detail);
        assert.equal(b.boundTo, x5t(idp.pki.selfSigned.cert));
      },
    );
  });

  test('client_secret_basic without a certificate: the plain endpoint, an unbound token', async () => {
    await withSession(
      {
        issuer: idp.issuer,
        clientId: 'secret',
        clientSecret: idp.clients.secret.client_secret,
        ca: files.ca,
      },
      async (s) => {
        assert.equal(s.credentials.method, 'client_secret_basic');
        assert.equal(s.endpoint('token').via, 'endpoint');
        const { token } = await clientCredentials(s);
        const b = await checkTokenBinding(s.client, token, { idpBinds: true });
        assert.equal(b.status, 'skip');
      },
    );
  });

  test('authorization_code with PKCE, then the refresh grant with the refresh token', async () => {
    const redirectUri = 'http://127.0.0.1:49153/callback';
    const { code, verifier } = await authorizationCode(idp, redirectUri);
    await withSession(kong, async (s) => {
      const first = await tokenRequest(
        s.client,
        s.endpoint('token').url,
        grantParams({ grant: 'authorization_code', code, codeVerifier: verifier, redirectUri }),
      );
      assert.ok(first.token.refresh_token && first.token.id_token);
      const refreshed = await tokenRequest(
        s.client,
        s.endpoint('token').url,
        grantParams({ grant: 'refresh_token', refreshToken: first.token.refresh_token }),
      );
      assert.notEqual(refreshed.token.access_token, first.token.access_token);
      const i = await introspectToken(
        s.client,
        s.endpoint('introspection').url,
        refreshed.token.access_token,
      );
      assert.equal(i.response.active, true);
      assert.equal((i.response.cnf as Record<string, string>)['x5t#S256'], s.identity!.x5tS256);
    });
    // The refresh token works only for its client and certificate.
    assert.deepEqual(idp.serverErrors, []);
  });

  test('refresh grant with a bad refresh token: invalid_grant with its hint', async () => {
    await withSession(kong, async (s) => {
      await rejectsWith(
        tokenRequest(
          s.client,
          s.endpoint('token').url,
          grantParams({ grant: 'refresh_token', refreshToken: 'nope' }),
        ),
        (e) => {
          assert.equal(e.code, 'OAUTH_INVALID_GRANT');
          assert.match(e.hint!, /certificate-bound refresh token/);
        },
      );
    });
  });

  test('grant inputs are checked before any request', () => {
    assert.throws(() => grantParams({ grant: 'refresh_token' }), { code: 'MISSING_GRANT_INPUT' });
    assert.throws(() => grantParams({ grant: 'authorization_code', code: 'c' }), /--redirect-uri/);
    assert.throws(() => grantParams({ grant: 'password', username: 'u' }), /a password/);
    assert.deepEqual(
      grantParams({
        grant: 'client_credentials',
        scope: 's',
        resource: 'r',
        audience: 'a',
        extra: { scope: 'x', foo: 'bar' },
      }),
      { grant_type: 'client_credentials', scope: 'x', resource: 'r', audience: 'a', foo: 'bar' },
    );
  });

  test('RFC 8705 §5 endpoint choice: alias only with a certificate, flags win', () => {
    const metadata = {
      issuer: 'https://idp',
      token_endpoint: 'https://idp/token',
      introspection_endpoint: 'https://idp/introspect',
      mtls_endpoint_aliases: { token_endpoint: 'https://mtls.idp/token' },
    };
    assert.deepEqual(chooseEndpoint('token', { settings: {}, metadata, withClientCert: true }), {
      url: 'https://mtls.idp/token',
      via: 'mtls alias',
    });
    assert.deepEqual(chooseEndpoint('token', { settings: {}, metadata, withClientCert: false }), {
      url: 'https://idp/token',
      via: 'endpoint',
    });
    assert.deepEqual(chooseEndpoint('introspection', { settings: {}, metadata, withClientCert: true }), {
      url: 'https://idp/introspect',
      via: 'endpoint',
    });
    assert.deepEqual(
      chooseEndpoint('token', { settings: { tokenEndpoint: 'https://x/t' }, metadata, withClientCert: true }),
      { url: 'https://x/t', via: 'setting' },
    );
    assert.deepEqual(
      chooseEndpoint('token', {
        settings: { tokenEndpoint: 'https://x/t' },
        sources: { tokenEndpoint: 'profile "ci" in /p/mtls-oauth.json' },
        metadata,
        withClientCert: true,
      }),
      { url: 'https://x/t', via: 'setting', source: 'profile "ci" in /p/mtls-oauth.json' },
      'a setting is labelled with its real source, not "flag"',
    );
    assert.equal(chooseEndpoint('revocation', { settings: {}, metadata, withClientCert: true }), undefined);
    assert.deepEqual(
      chooseEndpoint('authorization', {
        settings: {},
        metadata: { ...metadata, authorization_endpoint: 'https://idp/auth' },
        withClientCert: true,
      }),
      { url: 'https://idp/auth', via: 'endpoint' },
    );
  });

  test('a session needs a client_id and an endpoint, and says so before any request', async () => {
    const before = idp.requests.length;
    await rejectsWith(openSession({ settings: { issuer: idp.issuer, ca: files.ca } }), (e) => {
      assert.equal(e.code, 'MISSING_CLIENT_ID');
      assert.equal(e.kind, 'usage');
    });
    await rejectsWith(
      openSession({ settings: { clientId: 'kong', ca: files.ca }, operations: ['token'] }),
      (e) => {
        assert.equal(e.code, 'NO_ENDPOINT');
        assert.match(e.message, /--issuer URL \(discovery\) or --token-endpoint URL/);
      },
    );
    await rejectsWith(openSession({ settings: { clientId: 'kong', auth: 'mtls' } }), (e) => {
      assert.equal(e.code, 'UNKNOWN_AUTH_METHOD');
    });
    assert.equal(idp.requests.length, before);
  });
});

describe('against the test IdP without aliases, with JWT access tokens', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let files: PkiFiles;
  before(async () => {
    const pki = await makeIdpPki();
    fx = await idpFixture({
      pki,
      jwtAccessTokens: true,
      clients: [jwtClient(join(dir, 'signing.pem')), intruderClient(pki)],
    });
    ({ idp, files } = fx);
  });
  after(() => fx?.close());

  test('a JWT access token: binding read from its cnf, no introspection needed', async () => {
    await withSession(fx.settings(), async (s) => {
      assert.equal(
        s.endpoint('token').via,
        'endpoint',
        'no aliases: the plain endpoint with the certificate',
      );
      const { token } = await clientCredentials(s, { resource: RESOURCE });
      const before = idp.requests.length;
      const b = await checkTokenBinding(s.client, token, {
        idpBinds: s.idpBindsTokens,
        introspectionEndpoint: s.endpoint('introspection').url,
      });
      assert.equal(b.status, 'pass', b.detail);
      assert.equal(b.source, 'jwt');
      assert.equal(idp.requests.length, before, 'no request for a JWT');
    });
  });

  test('a JWT bound to another certificate fails, and one checked without a certificate warns', async () => {
    const token = await withSession(
      fx.settings('intruder', 'other'),
      async (s) => (await clientCredentials(s, { resource: RESOURCE })).token,
    );
    await withSession(fx.settings(), async (s) => {
      const b = await checkTokenBinding(s.client, token, { idpBinds: true });
      assert.equal(b.status, 'fail');
      assert.match(
        b.detail!,
        new RegExp(`cnf.x5t#S256 is ${x5t(idp.pki.other.cert)}, ours is ${x5t(idp.pki.client.cert)}`),
      );
    });
    await withSession({ issuer: idp.issuer, clientId: 'x', ca: files.ca }, async (s) => {
      const b = await checkTokenBinding(s.client, token, { idpBinds: true });
      assert.equal(b.status, 'warn');
      assert.match(b.detail!, /no client certificate was used/);
    });
  });

  test('private_key_jwt signed with --signing-key', async () => {
    await withSession(
      { issuer: idp.issuer, clientId: 'jwt-client', signingKey: join(dir, 'signing.pem'), ca: files.ca },
      async (s) => {
        assert.equal(
          s.credentials.method,
          'private_key_jwt',
          'the default with a signing key and no certificate',
        );
        const { token } = await clientCredentials(s, { resource: RESOURCE });
        assert.equal(token.token_type, 'Bearer');
      },
    );
  });

  test('--assertion-audience: the issuer is taken; an audience the IdP does not answer to is invalid_client', async () => {
    const jwt = {
      issuer: idp.issuer,
      clientId: 'jwt-client',
      signingKey: join(dir, 'signing.pem'),
      ca: files.ca,
    };
    await withSession({ ...jwt, assertionAudience: 'issuer' }, async (s) => {
      assert.equal(s.credentials.assertionAudience, idp.issuer);
      const { token } = await clientCredentials(s, { resource: RESOURCE });
      assert.equal(token.token_type, 'Bearer');
    });
    await withSession({ ...jwt, assertionAudience: 'https://somebody-else.example/token' }, async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.kind, 'oauth');
        assert.equal((e.details!.response as { error: string }).error, 'invalid_client');
      });
    });
  });
});

describe('answers that are not OAuth', () => {
  let pki: Awaited<ReturnType<typeof makeTestPki>>;
  let server: Awaited<ReturnType<typeof startHttpsServer>>;
  let caFile: string;
  const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/html': (res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>Sign in</p>'),
    '/big': (res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`),
    '/busy': (res) => res.writeHead(503, { 'retry-after': '30' }).end(),
    '/challenge': (res) =>
      res
        .writeHead(401, {
          'www-authenticate': 'Bearer error="invalid_client", error_description="no \\"cert\\""',
        })
        .end(),
    '/gateway': (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>'),
    '/no-token': (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"token_type":"Bearer"}'),
    '/no-active': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"sub":"x"}'),
  };
  before(async () => {
    pki = await makeTestPki();
    server = await startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      handler: (req, res) => {
        req.resume();
        req.on('end', () => (routes[req.url ?? ''] ?? ((r) => r.writeHead(404).end()))(res));
      },
    });
    caFile = join(dir, 'plain-ca.crt');
    writeFileSync(caFile, pki.ca.cert);
  });
  after(() => server.close());

  const settings = (path: string): Settings => ({
    clientId: 'kong',
    ca: caFile,
    tokenEndpoint: `${server.url}${path}`,
    introspectionEndpoint: `${server.url}${path}`,
    revocationEndpoint: `${server.url}${path}`,
  });

  test('an HTML page: NOT_JSON with the status, the content type and the start of the body', async () => {
    await withSession(settings('/html'), async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.kind, 'network');
        assert.equal(e.code, 'NOT_JSON');
        assert.match(e.message, /HTTP 200 with text\/html instead of JSON: "<!doctype html><p>Sign in<\/p>"/);
      });
    });
  });

  test('an oversize body: RESPONSE_TOO_LARGE', async () => {
    await withSession(settings('/big'), async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.code, 'RESPONSE_TOO_LARGE');
      });
    });
  });

  test('revocation answered 503: the token may still be valid', async () => {
    await withSession(settings('/busy'), async (s) => {
      await rejectsWith(revokeToken(s.client, s.endpoint('revocation').url, 'tok'), (e) => {
        assert.equal(e.code, 'REVOCATION_UNAVAILABLE');
        assert.equal(e.kind, 'oauth');
        assert.match(e.message, /may still be valid/);
        assert.match(e.hint!, /Retry-After: 30/);
      });
    });
  });

  test('an OAuth error only in WWW-Authenticate is still an OAuth error', async () => {
    await withSession(settings('/challenge'), async (s) => {
      await rejectsWith(introspectToken(s.client, s.endpoint('introspection').url, 'tok'), (e) => {
        assert.equal(e.code, 'OAUTH_INVALID_CLIENT');
        assert.match(e.message, /invalid_client: no "cert" \(HTTP 401\)/);
      });
    });
  });

  test('a gateway error page: HTTP_ERROR (network), not an OAuth error', async () => {
    await withSession(settings('/gateway'), async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.kind, 'network');
        assert.equal(e.code, 'HTTP_ERROR');
        assert.match(e.message, /HTTP 502 .*Bad Gateway/);
      });
    });
  });

  test('200 without access_token, and introspection without active: clear errors', async () => {
    await withSession(settings('/no-token'), async (s) => {
      await rejectsWith(clientCredentials(s), (e) => {
        assert.equal(e.code, 'BAD_TOKEN_RESPONSE');
        assert.match(e.message, /has no access_token/);
      });
    });
    await withSession(settings('/no-active'), async (s) => {
      await rejectsWith(introspectToken(s.client, s.endpoint('introspection').url, 'tok'), (e) => {
        assert.equal(e.code, 'BAD_INTROSPECTION_RESPONSE');
      });
    });
  });
});
