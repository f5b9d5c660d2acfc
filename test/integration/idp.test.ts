// The reusable test IdP (test/helpers/idp.ts), exercised with plain node:https, not with the
// project's transport: this test must stay independent of the code the IdP is used to test.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import {
  KONG_SUBJECT,
  makeIdpPki,
  rfc4514Subject,
  startIdp,
  type TestIdp,
  writePkiFiles,
} from '../helpers/idp.ts';
import { makeCa } from '../helpers/pki.ts';

interface Res {
  status: number;
  body: string;
  json: any;
  protocol: string | null;
}

function call(
  url: string,
  o: { ca: string; cert?: string; key?: string; form?: Record<string, string>; auth?: string } = { ca: '' },
): Promise<Res> {
  const body = o.form ? new URLSearchParams(o.form).toString() : undefined;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (o.auth) headers.authorization = o.auth;
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: body ? 'POST' : 'GET', headers, ca: o.ca, cert: o.cert, key: o.key, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => {
          text += d;
        });
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            json,
            protocol: (res.socket as TLSSocket).getProtocol?.() ?? null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const x5t = (pem: string) =>
  createHash('sha256')
    .update(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))
    .digest('base64url');

describe('test IdP without aliases (the issuer host requests client certificates)', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startIdp();
  });
  after(() => idp.close());

  test('serves discovery over HTTPS trusted through its CA', async () => {
    const r = await call(`${idp.issuer}/.well-known/openid-configuration`, { ca: idp.pki.ca.cert });
    assert.equal(r.status, 200);
    assert.equal(r.json.issuer, idp.issuer);
    assert.match(idp.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(r.json.token_endpoint, idp.endpoints.token);
    assert.equal(r.json.tls_client_certificate_bound_access_tokens, true);
    for (const m of ['tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic']) {
      assert.ok(r.json.token_endpoint_auth_methods_supported.includes(m), m);
    }
    assert.ok(r.json.introspection_endpoint && r.json.revocation_endpoint);
    assert.equal(r.json.mtls_endpoint_aliases, undefined);
    assert.ok(idp.requests.some((q) => q.path === '/.well-known/openid-configuration' && !q.clientCert));
  });

  test('client_credentials with the registered certificate: a bound token, cnf in introspection', async () => {
    const tls = { ca: idp.pki.ca.cert, cert: idp.pki.client.cert, key: idp.pki.client.key };
    const t = await call(idp.endpoints.token, {
      ...tls,
      form: { grant_type: 'client_credentials', client_id: 'kong', scope: 'api:read' },
    });
    assert.equal(t.status, 200, t.body);
    assert.equal(t.json.token_type, 'Bearer');
    assert.equal(t.json.scope, 'api:read');
    assert.equal(t.protocol, 'TLSv1.3');
    const i = await call(idp.endpoints.introspection, {
      ...tls,
      form: { token: t.json.access_token, client_id: 'kong' },
    });
    assert.equal(i.status, 200, i.body);
    assert.equal(i.json.active, true);
    assert.equal(i.json.cnf['x5t#S256'], x5t(idp.pki.client.cert));
    const v = await call(idp.endpoints.revocation, {
      ...tls,
      form: { token: t.json.access_token, client_id: 'kong' },
    });
    assert.equal(v.status, 200);
    const i2 = await call(idp.endpoints.introspection, {
      ...tls,
      form: { token: t.json.access_token, client_id: 'kong' },
    });
    assert.equal(i2.json.active, false);
    assert.deepEqual(idp.serverErrors, []);
  });

  test('refuses an unregistered subject, an untrusted CA and a missing certificate, and says why', async () => {
    const form = { grant_type: 'client_credentials', client_id: 'kong' };
    const ca = idp.pki.ca.cert;
    const cases = [
      [{ cert: idp.pki.other.cert, key: idp.pki.other.key }, /subject value does not match/],
      [{ cert: idp.pki.foreign.cert, key: idp.pki.foreign.key }, /not verified/],
      [{}, /not provided/],
    ] as const;
    for (const [creds, why] of cases) {
      const before = idp.oauthErrors.length;
      const r = await call(idp.endpoints.token, { ca, ...creds, form });
      assert.equal(r.status, 401, r.body);
      assert.equal(r.json.error, 'invalid_client');
      const logged = idp.oauthErrors.slice(before);
      assert.equal(logged.length, 1);
      assert.match(logged[0].detail ?? '', why);
    }
  });

  test('self_signed_tls_client_auth and client_secret_basic clients', async () => {
    const s = await call(idp.endpoints.token, {
      ca: idp.pki.ca.cert,
      cert: idp.pki.selfSigned.cert,
      key: idp.pki.selfSigned.key,
      form: { grant_type: 'client_credentials', client_id: idp.clients.selfSigned.client_id },
    });
    assert.equal(s.status, 200, s.body);
    const { client_id, client_secret } = idp.clients.secret;
    const b = await call(idp.endpoints.token, {
      ca: idp.pki.ca.cert,
      auth: `Basic ${Buffer.from(`${client_id}:${client_secret}`).toString('base64')}`,
      form: { grant_type: 'client_credentials' },
    });
    assert.equal(b.status, 200, b.body);
  });

  test('authorization code with PKCE through the dev login forms, any loopback port', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const redirectUri = 'http://127.0.0.1:49152/callback';
    const u = new URL(idp.endpoints.authorization);
    for (const [k, v] of Object.entries({
      client_id: 'kong',
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid offline_access api:read',
      state: 'state-1',
      nonce: 'nonce-1',
      prompt: 'consent',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }))
      u.searchParams.set(k, v);
    const back = new URL(await idp.authorize(u.href, { login: 'bob' }));
    assert.equal(`${back.origin}${back.pathname}`, redirectUri);
    assert.equal(back.searchParams.get('state'), 'state-1');
    assert.equal(back.searchParams.get('iss'), idp.issuer);
    const t = await call(idp.endpoints.token, {
      ca: idp.pki.ca.cert,
      cert: idp.pki.client.cert,
      key: idp.pki.client.key,
      form: {
        grant_type: 'authorization_code',
        client_id: 'kong',
        code: back.searchParams.get('code')!,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      },
    });
    assert.equal(t.status, 200, t.body);
    assert.ok(t.json.id_token && t.json.refresh_token);
    const claims = JSON.parse(Buffer.from(t.json.id_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'bob');
    assert.equal(claims.nonce, 'nonce-1');

    const denied = new URL(await idp.authorize(u.href, { deny: true }));
    assert.equal(denied.searchParams.get('error'), 'access_denied');
  });
});

describe('test IdP with mtls_endpoint_aliases', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startIdp({ aliases: true, path: '/tenant' });
  });
  after(() => idp.close());

  test('advertises aliases on a second host; the plain host does not ask for certificates', async () => {
    const d = await call(`${idp.issuer}/.well-known/openid-configuration`, { ca: idp.pki.ca.cert });
    assert.equal(d.json.issuer, idp.issuer);
    assert.match(idp.issuer, /\/tenant$/);
    assert.deepEqual(d.json.mtls_endpoint_aliases, idp.aliases);
    assert.equal(d.json.token_endpoint, idp.endpoints.token);
    assert.notEqual(new URL(d.json.mtls_endpoint_aliases.token_endpoint).port, String(idp.port));

    const tls = { ca: idp.pki.ca.cert, cert: idp.pki.client.cert, key: idp.pki.client.key };
    const form = { grant_type: 'client_credentials', client_id: 'kong' };
    const plain = await call(idp.endpoints.token, { ...tls, form });
    assert.equal(plain.status, 401, 'no certificate reaches the plain host');
    const alias = await call(idp.aliases!.token_endpoint, { ...tls, form });
    assert.equal(alias.status, 200, alias.body);
    const served = idp.requests.filter((r) => r.path === '/tenant/token');
    assert.deepEqual(
      served.map((r) => [r.listener, r.clientCert]),
      [
        ['plain', false],
        ['mtls', true],
      ],
    );
  });

  test('RFC 8414 location under a path issuer is a 404 (only the OIDC form exists here)', async () => {
    const r = await call(`${idp.url}/.well-known/oauth-authorization-server/tenant`, { ca: idp.pki.ca.cert });
    assert.equal(r.status, 404);
  });
});

test('TLS 1.2 only, and JWT access tokens carrying cnf', async (t) => {
  const idp = await startIdp({ tls12: true, jwtAccessTokens: true });
  t.after(() => idp.close());
  const r = await call(idp.endpoints.token, {
    ca: idp.pki.ca.cert,
    cert: idp.pki.client.cert,
    key: idp.pki.client.key,
    form: { grant_type: 'client_credentials', client_id: 'kong', scope: 'api:read' },
  });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.protocol, 'TLSv1.2');
  const [header, payload] = r.json.access_token
    .split('.')
    .slice(0, 2)
    .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  assert.equal(header.typ, 'at+jwt');
  assert.equal(payload.aud, idp.resource);
  assert.equal(payload.cnf['x5t#S256'], x5t(idp.pki.client.cert));
});

test('the IdP computes RFC 4514 subjects as openssl does (it is the referee for dn.ts)', async (t) => {
  const pki = await makeIdpPki();
  const odd = await makeCa('CN=Odd CA');
  const tricky = await odd.issue({ subject: 'CN=a\\,b,OU=gate\\;way <1>,O=Example\\, Inc.,C=US' });
  // Multi-valued RDN: RFC 4514 allows its attributes in any order; openssl prints them reversed.
  const multi = await odd.issue({ subject: 'CN=kong+UID=x\\+y,O=Example' });
  const dir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files = writePkiFiles(pki, dir);
  const opensslSubject = (file: string) =>
    execFileSync('openssl', ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'], {
      encoding: 'utf8',
    })
      .trim()
      .replace(/^subject=/, '');
  assert.equal(rfc4514Subject(pki.client.x509), KONG_SUBJECT);
  assert.equal(rfc4514Subject(pki.client.cert), opensslSubject(files.clientCert));
  assert.equal(rfc4514Subject(pki.selfSigned.x509), opensslSubject(files.selfSignedCert));
  const trickyFile = join(dir, 'tricky.crt');
  writeFileSync(trickyFile, tricky.cert);
  assert.equal(rfc4514Subject(tricky.x509), opensslSubject(trickyFile));
  assert.equal(rfc4514Subject(tricky.x509), 'CN=a\\,b,OU=gate\\;way \\<1\\>,O=Example\\, Inc.,C=US');
  const multiFile = join(dir, 'multi.crt');
  writeFileSync(multiFile, multi.cert);
  assert.equal(rfc4514Subject(multi.x509), 'CN=kong+UID=x\\+y,O=Example');
  assert.equal(opensslSubject(multiFile), 'UID=x\\+y+CN=kong,O=Example');
});

test('close() frees the port', async () => {
  const idp = await startIdp({ aliases: true });
  await call(`${idp.issuer}/.well-known/openid-configuration`, { ca: idp.pki.ca.cert });
  await idp.close();
  await assert.rejects(call(`${idp.issuer}/.well-known/openid-configuration`, { ca: idp.pki.ca.cert }), {
    code: 'ECONNREFUSED',
  });
  await assert.rejects(call(idp.aliases!.token_endpoint, { ca: idp.pki.ca.cert }), { code: 'ECONNREFUSED' });
});
