// `mtls-oauth login --request-object` (RFC 9101): the authorization request as a JWT signed with
// --signing-key, whose public JWK is registered for the client at the real oidc-provider IdP
// (jwks), sent through the browser or pushed by PAR (RFC 9126).

import assert from 'node:assert/strict';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { assertCleanFailure, jsonOf, runCli } from '../helpers/cli.ts';
import { KONG_SUBJECT } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { completeLogin, startLogin } from '../helpers/user-agent.ts';

/** Not a speed assertion: a CLI that hangs is killed after this and the test fails. */
const HANG_GUARD_MS = 60_000;

/** An EC P-256 key pair: the private half as a PEM file (0600), the public half as a JWK. */
function signingKey(file: string) {
  const pair = newKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { ...pair.publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256' };
}

describe('login --request-object against the real IdP (a client with a registered jwks)', () => {
  let fx: IdpFixture;
  let keyDir: string;
  let registered: string;
  let unregistered: string;

  before(async () => {
    // The keys exist before the IdP that registers the public one.
    keyDir = mkdtempSync(join(tmpdir(), 'e2e-request-object-'));
    registered = join(keyDir, 'registered.pem');
    unregistered = join(keyDir, 'unregistered.pem');
    const jwk = signingKey(registered);
    signingKey(unregistered);
    fx = await idpFixture({
      aliases: true,
      prefix: 'mtls-oauth-jar-',
      clients: [
        {
          client_id: 'jar-client',
          application_type: 'native',
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: KONG_SUBJECT,
          tls_client_certificate_bound_access_tokens: true,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: ['http://127.0.0.1/callback'],
          scope: 'openid',
          jwks: { keys: [jwk] },
          request_object_signing_alg: 'ES256',
        },
      ],
    });
  });
  after(async () => {
    await fx?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const args = (key: string, ...extra: string[]) => [
    'login',
    '--no-browser',
    '--json',
    '--request-object',
    '--signing-key',
    key,
    ...fx.args('jar-client'),
    ...extra,
  ];

  async function loginWith(a: string[]) {
    const run = startLogin(a, fx.env(), HANG_GUARD_MS);
    const url = new URL(await run.url);
    const { response } = await completeLogin(fx.idp, url.href, { login: 'alice' });
    return { url, response, r: await run.done };
  }

  test('through the browser: client_id and a signed request object carrying the whole request', async () => {
    const { url, response, r } = await loginWith(args(registered));
    assert.equal(response.status, 200);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request']);
    const jwt = url.searchParams.get('request')!;
    const header = decodeProtectedHeader(jwt);
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'oauth-authz-req+jwt');
    const claims = decodeJwt(jwt);
    assert.equal(claims.iss, 'jar-client');
    assert.equal(claims.aud, fx.idp.issuer);
    assert.equal(claims.response_type, 'code');
    assert.equal(claims.code_challenge_method, 'S256');
    assert.match(String(claims.redirect_uri), /^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    assert.ok(claims.state && claims.nonce && claims.exp && claims.jti);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    assert.equal(j.checks.find((c) => c.name === 'request_object')?.status, 'pass');
  });

  test('pushed by PAR: the browser gets only client_id and request_uri', async () => {
    const { url, r } = await loginWith(args(registered, '--par'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const j = jsonOf(r);
    assert.equal(j.checks.find((c) => c.name === 'request_object')?.status, 'pass');
    assert.equal(j.checks.find((c) => c.name === 'par')?.status, 'pass');
    assert.equal(j.result.par.endpoint.url, fx.idp.aliases!.pushed_authorization_request_endpoint);
  });

  test('signed with a key the IdP does not know: the PAR endpoint refuses it, exit 4 with a hint', async () => {
    const r = await runCli(args(unregistered, '--par'), { env: fx.env(), timeoutMs: HANG_GUARD_MS });
    assert.equal(r.code, 4, r.stderr);
    const e = jsonOf(r).error!;
    assert.equal(e.code, 'OAUTH_INVALID_REQUEST_OBJECT');
    assert.match(e.hint!, /register the public key of --signing-key/);
  });

  test('--request-object without --signing-key: exit 2 before anything is sent', async () => {
    const r = await runCli(['login', '--no-browser', '--request-object', ...fx.args('jar-client')], {
      env: fx.env(),
      timeoutMs: HANG_GUARD_MS,
    });
    assertCleanFailure(r, 2, /--request-object needs a signing key/);
  });
});
