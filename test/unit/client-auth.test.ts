import assert from 'node:assert/strict';

import { describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import {
  algFor,
  assertionSigner,
  authenticate,
  defaultAuthMethod,
  parseAuthMethod,
} from '../../src/core/client-auth.ts';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';

const endpoint = 'https://idp.example/token';

describe('client authentication', () => {
  it('sends client_id in the body for certificate methods (RFC 8705 §2) and uses the certificate', async () => {
    for (const method of ['tls_client_auth', 'self_signed_tls_client_auth'] as const) {
      const r = await authenticate({ clientId: 'kong', method }, endpoint, {
        grant_type: 'client_credentials',
      });
      assert.deepEqual(r.form, { grant_type: 'client_credentials', client_id: 'kong' });
      assert.deepEqual(r.headers, {});
      assert.equal(r.withClientCert, true);
    }
  });

  it('form-encodes id and secret inside Basic (RFC 6749 §2.3.1)', async () => {
    const r = await authenticate(
      { clientId: 'a b:c', method: 'client_secret_basic', clientSecret: 'p&ss wörd' },
      endpoint,
      { scope: undefined },
    );
    assert.deepEqual(r.form, {});
    const decoded = Buffer.from(r.headers.authorization.replace(/^Basic /, ''), 'base64').toString();
    assert.equal(decoded, 'a+b%3Ac:p%26ss+w%C3%B6rd');
    assert.equal(r.withClientCert, false);
  });

  it('puts the secret in the body for client_secret_post and refuses a missing secret', async () => {
    const r = await authenticate(
      { clientId: 'x', method: 'client_secret_post', clientSecret: 's' },
      endpoint,
      {},
    );
    assert.deepEqual(r.form, { client_id: 'x', client_secret: 's' });
    await assert.rejects(
      authenticate({ clientId: 'x', method: 'client_secret_basic' }, endpoint, {}),
      /needs a client secret/,
    );
  });

  it('signs a private_key_jwt assertion for the endpoint', async () => {
    const { privateKey, publicKey } = newKeyPairSync('ec', { namedCurve: 'P-256' });
    const sign = await assertionSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const r = await authenticate(
      { clientId: 'kong', method: 'private_key_jwt', signAssertion: sign },
      endpoint,
      {},
    );
    assert.equal(r.form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.equal(decodeProtectedHeader(r.form.client_assertion).alg, 'ES256');
    const { payload } = await jwtVerify(r.form.client_assertion, publicKey, {
      audience: endpoint,
      issuer: 'kong',
    });
    assert.equal(payload.sub, 'kong');
    assert.ok(payload.jti);
  });

  it('signs a client_secret_jwt assertion with HS256 keyed with the secret (RFC 7523 §2.2, OIDC Core §9)', async () => {
    const secret = 'a-client-secret-of-at-least-32-bytes!';
    const r = await authenticate(
      { clientId: 'c', method: 'client_secret_jwt', clientSecret: secret },
      endpoint,
      {
        grant_type: 'client_credentials',
      },
    );
    assert.equal(r.form.client_id, 'c');
    assert.equal(r.form.client_assertion_type, 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    assert.equal(r.form.client_secret, undefined, 'the secret itself is not sent');
    assert.equal(r.withClientCert, false);
    assert.equal(decodeProtectedHeader(r.form.client_assertion).alg, 'HS256');
    const { payload } = await jwtVerify(r.form.client_assertion, new TextEncoder().encode(secret), {
      audience: endpoint,
      issuer: 'c',
      subject: 'c',
    });
    assert.ok(payload.jti && payload.exp! > payload.iat!);
    await assert.rejects(
      authenticate({ clientId: 'c', method: 'client_secret_jwt' }, endpoint, {}),
      /client_secret_jwt needs a client secret/,
    );
  });

  it('chooses a default and rejects unknown methods', () => {
    assert.equal(
      defaultAuthMethod({ hasCertificate: true, hasSecret: true, hasSigningKey: false }),
      'tls_client_auth',
    );
    assert.equal(
      defaultAuthMethod({ hasCertificate: false, hasSecret: true, hasSigningKey: false }),
      'client_secret_basic',
    );
    assert.throws(() => parseAuthMethod('mtls'), /unknown client authentication method "mtls"/);
  });
});

describe('algFor: the JWS algorithm of a signing key', () => {
  const rsa = newKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ec = newKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  it('RSA: RS256, unless the receiver takes PS256 and not RS256 (FAPI 2.0 §5.4.1)', () => {
    assert.equal(algFor(rsa), 'RS256');
    assert.equal(algFor(rsa, ['RS256', 'PS256', 'ES256']), 'RS256');
    assert.equal(algFor(rsa, ['PS256', 'ES256', 'EdDSA']), 'PS256');
    assert.equal(
      algFor(rsa, ['ES256']),
      'RS256',
      'nothing RSA accepted: RS256, and the IdP says why it refuses',
    );
  });
  it('EC and Ed25519 keys have one algorithm each', () => {
    assert.equal(algFor(ec, ['PS256']), 'ES256');
    assert.equal(algFor(newKeyPairSync('ed25519').privateKey), 'EdDSA');
  });
});
