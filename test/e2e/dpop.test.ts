// DPoP (RFC 9449) as a user runs it (the built CLI) against the real test IdP: proofs with the
// token requests of `token`, `login` and `login --device`'s polls, the use_dpop_nonce retry, the
// `dpop` check (token_type DPoP and cnf.jkt = our key's thumbprint, from a JWT access token or
// introspection), DPoP beside mTLS and alone, and an IdP that ignores the proof.

import assert from 'node:assert/strict';

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { tlsClientAuthClient } from '../../src/idp/clients.ts';
import type { ResourceServer } from '../../src/idp/resource-server.ts';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { makeIdpPki } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { startTestApi } from '../helpers/resource-api.ts';

/**
 * kong's certificate, registered without certificate-bound tokens: oidc-provider refuses to bind
 * one token both ways ("multiple proof-of-possession mechanisms"), so mTLS authenticates the client
 * and DPoP binds the token.
 */
async function dpopIdp(o: {
  dpopNonce?: boolean;
  jwtAccessTokens?: boolean;
  middleware?: any[];
  prefix: string;
}) {
  const pki = await makeIdpPki();
  return idpFixture({
    ...o,
    pki,
    aliases: !o.dpopNonce,
    clients: [
      {
        ...tlsClientAuthClient('kong-dpop', pki.client.x509),
        tls_client_certificate_bound_access_tokens: false,
      },
    ],
  });
}

import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { completeLogin, startLogin } from '../helpers/user-agent.ts';

const check = (r: { stdout: string }, name: string) => jsonOf(r as any).checks.find((c) => c.name === name);

describe('DPoP (built CLI, test IdP with aliases, opaque tokens)', () => {
  let fx: IdpFixture;
  let bearerOnly = false;

  before(async () => {
    fx = await dpopIdp({
      prefix: 'e2e-dpop-',
      middleware: [
        async (ctx: any, next: () => Promise<void>) => {
          await next();
          // An IdP that ignores the proof and answers a plain Bearer token.
          if (bearerOnly && ctx.path === '/token' && ctx.body?.token_type) {
            ctx.body = { ...ctx.body, token_type: 'Bearer' };
          }
        },
      ],
    });
  });
  after(() => fx?.close());

  test('token --dpop, the client authenticated by its certificate: the token bound to the DPoP key (from introspection)', async () => {
    const r = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop']);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(r.stdout, /token type\s+DPoP/);
    assert.match(
      r.stdout,
      /- binding: the introspection response is bound to a DPoP key \(cnf\.jkt\), not to the certificate/,
    );
    assert.match(r.stdout, /✓ dpop: bound to our DPoP key \(cnf\.jkt [\w-]{43}, from the introspection\)/);
  });

  test('--dpop-key: the proof key is the one given (its RFC 7638 thumbprint is cnf.jkt)', async () => {
    const key = newKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(fx.home, 'dpop.pem');
    writeFileSync(file, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const jkt = await calculateJwkThumbprint(key.publicKey.export({ format: 'jwk' }) as JWK, 'sha256');
    const r = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop-key', file, '--json', '--no-cache']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(check(r, 'dpop')?.status, 'pass');
    assert.match(check(r, 'dpop')?.detail ?? '', new RegExp(`cnf\\.jkt ${jkt}`));
  });

  test('DPoP alone (client_secret_basic, no certificate): the token is bound to the key', async () => {
    const r = await fx.run(
      [
        'token',
        '--issuer',
        fx.idp.issuer,
        '--client-id',
        'secret',
        '--ca',
        fx.files.ca,
        '--dpop',
        '--json',
        '--no-cache',
      ],
      { env: { MTLS_OAUTH_CLIENT_SECRET: fx.idp.clients.secret.client_secret } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(check(r, 'dpop')?.status, 'pass');
    assert.equal(check(r, 'binding')?.status, 'skip');
    assert.equal(jsonOf(r).result.token_type, 'DPoP');
  });

  test('MTLS_OAUTH_DPOP in the environment turns it on too', async () => {
    const r = await fx.run(['token', ...fx.args('kong-dpop'), '--json', '--no-cache'], {
      env: { MTLS_OAUTH_DPOP: '1' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(check(r, 'dpop')?.status, 'pass');
  });

  test('an IdP that answers Bearer to a DPoP request: the dpop check fails, exit 1', async () => {
    bearerOnly = true;
    try {
      const r = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop', '--no-cache']);
      assert.equal(r.code, 1, r.stderr);
      assertNoStack(r);
      assert.match(r.stdout, /✗ dpop: the IdP answered token_type "Bearer", not DPoP/);
    } finally {
      bearerOnly = false;
    }
  });

  test('login --dpop: the code exchanged with a proof; the login report has the dpop check', async () => {
    const run = startLogin(
      ['login', '--no-browser', '--dpop', '--json', ...fx.args('kong-dpop')],
      fx.env(),
      60_000,
    );
    await completeLogin(fx.idp, await run.url);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(check(r, 'dpop')?.status, 'pass');
    assert.equal(check(r, 'binding')?.status, 'skip');
  });

  test('kong, registered for certificate-bound tokens, with --dpop: the IdP refuses to bind both ways, exit 4', async () => {
    const r = await fx.run(['token', ...fx.args('kong'), '--dpop', '--no-cache']);
    assertCleanFailure(r, 4, /invalid_request: multiple proof-of-posession mechanisms are not allowed/);
  });

  test('a --dpop-key that is not a key: BAD_KEY, exit 2, before any request', async () => {
    const file = join(fx.home, 'not-a-key.pem');
    writeFileSync(file, 'hello\n');
    const r = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop-key', file]);
    assertCleanFailure(r, 2, /DPoP key/);
    const missing = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop-key', join(fx.home, 'nope.pem')]);
    assertCleanFailure(missing, 2, /DPoP key/);
  });
});

describe('DPoP against an IdP that demands a nonce, with JWT access tokens', () => {
  let fx: IdpFixture;
  before(async () => {
    fx = await dpopIdp({ dpopNonce: true, jwtAccessTokens: true, prefix: 'e2e-dpop-nonce-' });
  });
  after(() => fx?.close());

  test('use_dpop_nonce: retried once with the DPoP-Nonce, shown as a check; cnf.jkt read from the JWT', async () => {
    const r = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop', '-v']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /✓ dpop nonce: the IdP asked for a DPoP nonce \(use_dpop_nonce\); the request was sent again with it/,
    );
    assert.match(r.stdout, /✓ dpop: bound to our DPoP key \(cnf\.jkt [\w-]{43}, from the JWT access token\)/);
    // Two token requests went out, the first answered 400.
    assert.equal((r.stderr.match(/> POST \S+\/token/g) ?? []).length, 2, r.stderr);
  });
});

describe('DPoP at the API: call with the proof, and an API that demands a nonce (built CLI, test IdP and API)', () => {
  let fx: IdpFixture;
  let api: ResourceServer;

  before(async () => {
    fx = await dpopIdp({ prefix: 'e2e-dpop-api-' });
    // The API of src/idp/resource-server.ts, introspecting as kong, demanding a DPoP nonce.
    api = await startTestApi(fx.idp, { dpopNonce: true });
  });
  after(async () => {
    await api?.close();
    await fx?.close();
  });

  test('token --dpop, then call: the cached key proves possession (ath), the nonce retried once', async () => {
    const t = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop']);
    assert.equal(t.code, 0, t.stderr);
    const r = await fx.run(['call', `${api.url}/orders`, ...fx.args('kong-dpop'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    const j = jsonOf(r);
    assert.equal(j.result.status, 200);
    assert.equal(j.result.dpopNonceRetry, true);
    assert.equal(j.result.binding.dpop.match, true);
    assert.equal(j.result.body.dpop.jkt, j.result.binding.dpop.boundTo);
    const human = await fx.run(['call', `${api.url}/orders`, ...fx.args('kong-dpop')]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /DPoP proof by +jkt [\w-]{43}, sent again with the nonce the API asked for/);
    assert.match(human.stdout, /= the proof is by the token's key/);
  });

  test('a proof by another key: the API refuses the stolen DPoP token', async () => {
    const t = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop']);
    assert.equal(t.code, 0, t.stderr);
    const key = newKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = join(fx.home, 'other-dpop.pem');
    writeFileSync(other, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const r = await fx.run([
      'call',
      `${api.url}/orders`,
      ...fx.args('kong-dpop'),
      '--dpop-key',
      other,
      '--expect-status',
      '401',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /the token is bound to another DPoP key/);
    assert.match(r.stdout, /≠ the proof is not by the token's key: .* — and it did/);
    assert.match(r.stdout, /invalid_dpop_proof/);
  });

  test('a DPoP-bound token whose key is not at hand: DPOP_KEY_MISSING, exit 2, nothing sent', async () => {
    const key = newKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = join(fx.home, 'dpop-kept.pem');
    writeFileSync(file, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const t = await fx.run(['token', ...fx.args('kong-dpop'), '--dpop-key', file]);
    assert.equal(t.code, 0, t.stderr);
    const before = api.requests.length;
    // The cache keeps only the thumbprint of a key given as a file: without the file, no proof.
    const r = await fx.run(['call', `${api.url}/orders`, ...fx.args('kong-dpop')]);
    assertCleanFailure(r, 2, /the token is bound to a DPoP key \(cnf\.jkt [\w-]{43}\) that is not at hand/);
    assert.equal(api.requests.length, before);
    const ok = await fx.run(['call', `${api.url}/orders`, ...fx.args('kong-dpop'), '--dpop-key', file]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('smoke --api --dpop: accepted with the proof, refused without one and with another key; certificate proofs skipped', async () => {
    const r = await fx.run([
      'smoke',
      ...fx.args('kong-dpop'),
      '--api',
      `${api.url}/orders`,
      '--dpop',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const steps = Object.fromEntries(jsonOf(r).result.steps.map((s: any) => [s.name, s]));
    assert.equal(steps.binding.status, 'pass');
    assert.match(steps.binding.detail, /bound to our DPoP key/);
    assert.equal(steps.api.status, 'pass');
    assert.match(
      steps.api.detail,
      /and a DPoP proof of our key \(sent again with the nonce the API asked for\)/,
    );
    assert.equal(steps['api-without-cert'].status, 'skip');
    assert.equal(steps['api-other-cert'].status, 'skip');
    assert.equal(steps['api-without-proof'].status, 'pass');
    assert.match(
      steps['api-without-proof'].detail,
      /refused as a Bearer token, without a DPoP proof: HTTP 401/,
    );
    assert.equal(steps['api-other-key'].status, 'pass');
    assert.match(steps['api-other-key'].detail, /refused with a proof by another key .*invalid_dpop_proof/);
  });

  test('smoke --api --dpop against an API that does not check DPoP: the stolen token works, exit 1', async () => {
    const lax = await startTestApi(fx.idp, { enforceBinding: false });
    try {
      const r = await fx.run(['smoke', ...fx.args('kong-dpop'), '--api', `${lax.url}/orders`, '--dpop']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assertNoStack(r);
      assert.match(
        r.stdout,
        /api-without-proof +✗ fail .*it does not enforce the DPoP binding \(RFC 9449 §7\.1\)/,
      );
      assert.match(r.stdout, /proof_of_possession_dpop: strict/);
    } finally {
      await lax.close();
    }
  });
});
