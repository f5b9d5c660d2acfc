// `--auth client_secret_jwt` (RFC 7523 §2.2, OIDC Core §9): a client assertion signed with HMAC
// SHA-256 keyed with the client secret, accepted by the real oidc-provider IdP for a client
// registered with token_endpoint_auth_method client_secret_jwt.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';

describe('mtls-oauth token --auth client_secret_jwt (built CLI)', () => {
  let fx: IdpFixture;
  const secret = randomBytes(32).toString('base64url');

  before(async () => {
    fx = await idpFixture({
      prefix: 'e2e-secret-jwt-',
      clients: [
        {
          client_id: 'secret-jwt',
          client_secret: secret,
          token_endpoint_auth_method: 'client_secret_jwt',
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          scope: 'api:read',
        },
      ],
    });
  });
  after(() => fx?.close());

  const args = ['token', '--client-id', 'secret-jwt', '--auth', 'client_secret_jwt', '--no-cache'];

  test('an HS256 client assertion keyed with the secret is accepted: a token', async () => {
    const r = await fx.run([...args, '--issuer', fx.idp.issuer, '--ca', fx.files.ca, '--json'], {
      env: { MTLS_OAUTH_CLIENT_SECRET: secret },
    });
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    const doc = jsonOf(r);
    assert.equal(doc.ok, true);
    assert.equal(doc.result.token_type, 'Bearer');
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the secret is never printed');
  });

  test('a wrong secret: the IdP refuses the assertion, invalid_client, exit 4', async () => {
    const r = await fx.run([...args, '--issuer', fx.idp.issuer, '--ca', fx.files.ca], {
      env: { MTLS_OAUTH_CLIENT_SECRET: randomBytes(32).toString('base64url') },
    });
    assertCleanFailure(r, 4, /token request failed: invalid_client/);
    assert.ok(fx.idp.oauthErrors.some((e) => e.error === 'invalid_client'));
  });

  test('without a secret: a usage error before any request (exit 2)', async () => {
    const r = await fx.run([...args, '--issuer', fx.idp.issuer, '--ca', fx.files.ca]);
    assertCleanFailure(r, 2, /client_secret_jwt needs a client secret/);
  });
});
