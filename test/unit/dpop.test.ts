// DPoP proofs (RFC 9449 §4.2): what a proof carries and what it must not, checked with jose as
// the referee (signature against the embedded public key, RFC 7638 thumbprint).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import { createDpopSigner, jktOf } from '../../src/core/dpop.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';

describe('DPoP proofs', () => {
  test('a proof: typ dpop+jwt, the public key only, htm/htu without query, a fresh jti, verifiable', async () => {
    const signer = await createDpopSigner();
    const proof = await signer.proof({ method: 'post', url: 'https://idp.example/token?x=1#f' });
    const header = decodeProtectedHeader(proof);
    assert.equal(header.typ, 'dpop+jwt');
    assert.equal(header.alg, 'ES256');
    const jwk = header.jwk as JWK;
    assert.equal(jwk.d, undefined, 'no private member in the header');
    assert.equal(await calculateJwkThumbprint(jwk, 'sha256'), signer.jkt);
    const { payload } = await jwtVerify(proof, await importJWK(jwk, 'ES256'));
    assert.equal(payload.htm, 'POST');
    assert.equal(payload.htu, 'https://idp.example/token');
    assert.equal(payload.nonce, undefined);
    assert.equal(payload.ath, undefined);
    const again = await signer.proof({ method: 'POST', url: 'https://idp.example/token' });
    assert.notEqual((await jwtVerify(again, await importJWK(jwk, 'ES256'))).payload.jti, payload.jti);
  });

  test('ath is the token hash; a nonce is kept per origin', async () => {
    const signer = await createDpopSigner();
    signer.rememberNonce('https://idp.example/token', 'n-1');
    const proof = await signer.proof({ method: 'GET', url: 'https://idp.example/me', accessToken: 'tok' });
    const claims = JSON.parse(Buffer.from(proof.split('.')[1], 'base64url').toString());
    assert.equal(claims.nonce, 'n-1');
    assert.equal(claims.ath, createHash('sha256').update('tok').digest('base64url'));
    const elsewhere = await signer.proof({ method: 'GET', url: 'https://api.example/orders' });
    assert.equal(JSON.parse(Buffer.from(elsewhere.split('.')[1], 'base64url').toString()).nonce, undefined);
  });

  test('a key from a file: its algorithm and thumbprint; a DH key is refused', async () => {
    const ed = newKeyPairSync('ed25519');
    const signer = await createDpopSigner(
      Buffer.from(ed.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    );
    assert.equal(signer.alg, 'EdDSA');
    assert.equal(
      signer.jkt,
      await calculateJwkThumbprint(ed.publicKey.export({ format: 'jwk' }) as JWK, 'sha256'),
    );
    const x = newKeyPairSync('x25519');
    await assert.rejects(
      createDpopSigner(Buffer.from(x.privateKey.export({ type: 'pkcs8', format: 'pem' }))),
      (e) => e instanceof MtlsOAuthError && e.kind === 'usage',
    );
  });

  test('jktOf reads cnf.jkt and nothing else', () => {
    assert.equal(jktOf({ cnf: { jkt: 'abc' } }), 'abc');
    assert.equal(jktOf({ cnf: { 'x5t#S256': 'abc' } }), undefined);
    assert.equal(jktOf({ cnf: 'abc' }), undefined);
    assert.equal(jktOf(undefined), undefined);
  });
});
