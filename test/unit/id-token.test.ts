import assert from 'node:assert/strict';
import { createHash, type KeyObject } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, type JSONWebKeySet, type JWK, SignJWT } from 'jose';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { type IdTokenValidationOptions, leftHalfHash, validateIdToken } from '../../src/core/id-token.ts';
import { newKeyPair } from '../../src/core/pki/keys.ts';

const ISSUER = 'https://idp.example/tenant';
const CLIENT = 'kong';
const NONCE = 'n-0S6_WzA2Mj';

type Key = { alg: string; kid: string; privateKey: KeyObject; jwk: JWK };

async function makeKey(alg: string, kid: string): Promise<Key> {
  // The project's generator (src/core/pki/keys.ts): exporting Node 20's own generated keys can hang.
  const { publicKey, privateKey } =
    alg === 'ES256'
      ? await newKeyPair('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? await newKeyPair('ed25519')
        : await newKeyPair('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, jwk };
}

const now = () => Math.floor(Date.now() / 1000);

async function sign(key: Key, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const t = now();
  const payload = { iss: ISSUER, sub: 'alice', aud: CLIENT, iat: t, exp: t + 300, nonce: NONCE, ...claims };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** Signs with exactly the given claims (no defaults). */
async function signRaw(key: Key, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function jwksOf(...keys: Key[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.jwk) };
}

/** A fetcher that returns the given sets in turn (the last one repeatedly) and counts calls. */
function fetcher(...sets: JSONWebKeySet[]) {
  const f = Object.assign(
    async () => {
      const set = sets[Math.min(f.calls, sets.length - 1)];
      f.calls++;
      return structuredClone(set);
    },
    { calls: 0 },
  );
  return f;
}

function opts(over: Partial<IdTokenValidationOptions> = {}): IdTokenValidationOptions {
  return { issuer: ISSUER, clientId: CLIENT, nonce: NONCE, fetchJwks: fetcher(jwksOf(rsa)), ...over };
}

/** Asserts an ID_TOKEN_INVALID whose failed checks are exactly `names` and whose message names them. */
async function rejects(p: Promise<unknown>, names: string[], detail?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MtlsOAuthError, `not an MtlsOAuthError: ${e}`);
    assert.equal(e.kind, 'check');
    assert.equal(e.code, 'ID_TOKEN_INVALID');
    const checks = e.details?.checks as Array<{ name: string; status: string; detail?: string }>;
    const failed = checks.filter((c) => c.status === 'fail');
    assert.deepEqual(
      failed.map((c) => c.name),
      names,
      e.message,
    );
    for (const n of names) assert.ok(e.message.includes(`${n}: `), `message names ${n}: ${e.message}`);
    if (detail) assert.match(e.message, detail);
    return true;
  });
}

let rsa: Key;
let rsaOther: Key;
let ec: Key;
let ed: Key;

before(async () => {
  rsa = await makeKey('RS256', 'rsa-1');
  rsaOther = await makeKey('RS256', 'rsa-2');
  ec = await makeKey('ES256', 'ec-1');
  ed = await makeKey('EdDSA', 'ed-1');
});

describe('validateIdToken: good tokens', () => {
  it('passes a good RS256 token and names every check', async () => {
    const f = fetcher(jwksOf(rsa, ec));
    const r = await validateIdToken(await sign(rsa), opts({ fetchJwks: f }));
    assert.equal(r.claims.sub, 'alice');
    assert.equal(r.header.alg, 'RS256');
    assert.equal(r.jwksFetches, 1);
    assert.equal(f.calls, 1);
    assert.deepEqual(
      r.checks.map((c) => c.name),
      ['alg', 'signature', 'iss', 'aud', 'azp', 'sub', 'exp', 'iat', 'nonce', 'at_hash', 'c_hash'],
    );
    assert.ok(r.checks.every((c) => c.status === 'pass' || c.status === 'skip'));
    assert.equal(r.checks.find((c) => c.name === 'nonce')?.status, 'pass');
    assert.equal(r.checks.find((c) => c.name === 'at_hash')?.status, 'skip');
  });

  it('passes ES256 and EdDSA tokens with a correct at_hash and c_hash', async () => {
    const accessToken = 'at-2YotnFZFEjr1zCsicMWpAA';
    const code = 'code-SplxlOBeZQQYbYS6WxSbIA';
    for (const key of [ec, ed, rsa]) {
      const token = await sign(key, {
        at_hash: leftHalfHash(accessToken, key.alg),
        c_hash: leftHalfHash(code, key.alg),
      });
      const r = await validateIdToken(
        token,
        opts({ fetchJwks: fetcher(jwksOf(rsa, ec, ed)), accessToken, code }),
      );
      assert.equal(r.checks.find((c) => c.name === 'at_hash')?.status, 'pass', key.alg);
      assert.equal(r.checks.find((c) => c.name === 'c_hash')?.status, 'pass', key.alg);
    }
  });

  it('computes at_hash as OIDC Core says: left half of the hash for the alg, base64url', () => {
    // OIDC Core A.3 example: access token jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y, RS256 -> 77QmUPtjPfzWtF2AnpK9RQ
    assert.equal(
      leftHalfHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y', 'RS256'),
      '77QmUPtjPfzWtF2AnpK9RQ',
    );
    const sha384 = createHash('sha384').update('x').digest();
    assert.equal(leftHalfHash('x', 'ES384'), sha384.subarray(0, 24).toString('base64url'));
    const sha512 = createHash('sha512').update('x').digest();
    assert.equal(leftHalfHash('x', 'EdDSA'), sha512.subarray(0, 32).toString('base64url'));
  });

  it('rejects audiences the client does not trust, even with azp the client id; --trusted-audience admits one', async () => {
    const token = await sign(rsa, { aud: [CLIENT, 'https://api.example'], azp: CLIENT });
    await rejects(
      validateIdToken(token, opts()),
      ['aud'],
      /"https:\/\/api\.example", which this client does not trust/,
    );
    const r = await validateIdToken(token, opts({ trustedAudiences: ['https://api.example'] }));
    assert.equal(r.checks.find((c) => c.name === 'aud')?.status, 'pass');
    assert.equal(r.checks.find((c) => c.name === 'azp')?.status, 'pass');
    await rejects(
      validateIdToken(
        await sign(rsa, { aud: [CLIENT, 'https://api.example', 'evil'], azp: CLIENT }),
        opts({ trustedAudiences: ['https://api.example'] }),
      ),
      ['aud'],
      /"evil"/,
    );
  });

  it('time claims must be dates between 2000 and 2200: 1e308, NaN-like, negative and tiny values fail', async () => {
    const t = now();
    await rejects(
      validateIdToken(await sign(rsa, { exp: 1e308 }), opts()),
      ['exp'],
      /not a date between 2000 and 2200/,
    );
    await rejects(validateIdToken(await sign(rsa, { iat: -1 }), opts()), ['iat']);
    await rejects(validateIdToken(await sign(rsa, { nbf: 5 }), opts()), ['nbf']);
    await rejects(validateIdToken(await sign(rsa, { auth_time: 1e20 }), opts()), ['auth_time']);
    const ok = await validateIdToken(await sign(rsa, { auth_time: t - 10 }), opts());
    assert.equal(ok.checks.find((c) => c.name === 'auth_time')?.status, 'pass');
  });

  it('tolerates clock skew within the window', async () => {
    const t = now();
    const token = await sign(rsa, { exp: t - 60, iat: t + 60 });
    await validateIdToken(token, opts());
    await rejects(validateIdToken(token, opts({ maxAgeSkewSec: 10 })), ['exp', 'iat']);
  });

  it('tries each key when the token has no kid and several keys fit', async () => {
    const token = await new SignJWT({ nonce: NONCE })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setSubject('alice')
      .setAudience(CLIENT)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(rsaOther.privateKey);
    const r = await validateIdToken(token, opts({ fetchJwks: fetcher(jwksOf(rsa, rsaOther)) }));
    assert.equal(r.checks.find((c) => c.name === 'signature')?.status, 'pass');
  });
});

describe('validateIdToken: signature and algorithm', () => {
  it('rejects a bad signature (another key under the same kid)', async () => {
    const forged = await sign({ ...rsaOther, kid: rsa.kid });
    await rejects(validateIdToken(forged, opts()), ['signature'], /does not verify/);
  });

  it('rejects a tampered payload', async () => {
    const [h, , s] = (await sign(rsa)).split('.');
    const payload = b64({
      iss: ISSUER,
      sub: 'mallory',
      aud: CLIENT,
      exp: now() + 300,
      iat: now(),
      nonce: NONCE,
    });
    await rejects(validateIdToken(`${h}.${payload}.${s}`, opts()), ['signature']);
  });

  it('rejects alg "none" (hand-crafted, no signature)', async () => {
    const claims = { iss: ISSUER, sub: 'alice', aud: CLIENT, exp: now() + 300, iat: now(), nonce: NONCE };
    const f = fetcher(jwksOf(rsa));
    for (const token of [
      `${b64({ alg: 'none' })}.${b64(claims)}.`,
      `${b64({ alg: 'none', kid: rsa.kid })}.${b64(claims)}.`,
    ]) {
      await rejects(validateIdToken(token, opts({ fetchJwks: f })), ['alg'], /none/);
    }
    assert.equal(f.calls, 0, 'no key is even looked up');
  });

  it('rejects HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const { createHmac } = await import('node:crypto');
    const { importJWK } = await import('jose');
    const pem = await exportSPKI((await importJWK(rsa.jwk, 'RS256')) as CryptoKey);
    const claims = { iss: ISSUER, sub: 'alice', aud: CLIENT, exp: now() + 300, iat: now(), nonce: NONCE };
    const input = `${b64({ alg: 'HS256', kid: rsa.kid })}.${b64(claims)}`;
    const sig = createHmac('sha256', pem).update(input).digest('base64url');
    await rejects(validateIdToken(`${input}.${sig}`, opts()), ['alg'], /HS256/);
  });

  it('rejects an algorithm outside a narrowed allow-list', async () => {
    await rejects(validateIdToken(await sign(rsa), opts({ allowedAlgs: ['ES256'] })), ['alg']);
  });

  it('refuses to allow-list none or HS* at all (usage error)', async () => {
    for (const algs of [['none'], ['RS256', 'HS256'], []]) {
      await assert.rejects(
        validateIdToken(await sign(rsa), opts({ allowedAlgs: algs })),
        (e: unknown) =>
          e instanceof MtlsOAuthError && e.kind === 'usage' && e.code === 'ID_TOKEN_ALG_FORBIDDEN',
      );
    }
  });

  it('refetches the JWKS once on an unknown kid and succeeds when the new key is there', async () => {
    const f = fetcher(jwksOf(rsa), jwksOf(rsa, rsaOther));
    const r = await validateIdToken(await sign(rsaOther), opts({ fetchJwks: f }));
    assert.equal(f.calls, 2);
    assert.equal(r.jwksFetches, 2);
    assert.match(r.checks.find((c) => c.name === 'signature')?.detail ?? '', /refetching/);
  });

  it('fails after one refetch when the kid is still unknown', async () => {
    const f = fetcher(jwksOf(rsa));
    await rejects(validateIdToken(await sign(rsaOther), opts({ fetchJwks: f })), ['signature'], /rsa-2/);
    assert.equal(f.calls, 2, 'fetched exactly twice');
  });

  it('passes a failing JWKS fetch through unchanged', async () => {
    const boom = new MtlsOAuthError('network', 'CONNECTION_REFUSED', 'jwks unreachable');
    await assert.rejects(
      validateIdToken(await sign(rsa), opts({ fetchJwks: async () => Promise.reject(boom) })),
      (e) => e === boom,
    );
  });

  it('reports a JWKS that is not a JWK Set', async () => {
    await rejects(
      validateIdToken(
        await sign(rsa),
        opts({ fetchJwks: async () => ({ nope: 1 }) as unknown as JSONWebKeySet }),
      ),
      ['signature'],
      /JWKS/,
    );
  });

  it('rejects what is not a compact JWS, and encrypted (JWE) ID tokens', async () => {
    await rejects(validateIdToken('not-a-jwt', opts()), ['format']);
    await rejects(validateIdToken('a.b.c.d.e', opts()), ['format'], /JWE/);
    await rejects(validateIdToken(`${b64({ alg: 'RS256' })}.x`, opts()), ['format']);
  });
});

describe('validateIdToken: claims', () => {
  it('rejects a wrong aud', async () => {
    await rejects(validateIdToken(await sign(rsa, { aud: 'someone-else' }), opts()), ['aud'], /kong/);
  });

  it('rejects several audiences without azp, and an azp that is not the client id', async () => {
    await rejects(
      validateIdToken(await sign(rsa, { aud: [CLIENT, 'other'] }), opts({ trustedAudiences: ['other'] })),
      ['azp'],
    );
    await rejects(validateIdToken(await sign(rsa, { azp: 'other' }), opts()), ['azp']);
  });

  it('rejects a wrong iss, a trailing slash included', async () => {
    await rejects(validateIdToken(await sign(rsa, { iss: 'https://evil.example' }), opts()), ['iss']);
    await rejects(validateIdToken(await sign(rsa, { iss: `${ISSUER}/` }), opts()), ['iss'], /tenant\/"/);
    await rejects(validateIdToken(await sign(rsa), opts({ issuer: `${ISSUER}/` })), ['iss']);
  });

  it('rejects a wrong or missing nonce', async () => {
    await rejects(validateIdToken(await sign(rsa, { nonce: 'other-nonce' }), opts()), ['nonce']);
    const t = now();
    const noNonce = await signRaw(rsa, { iss: ISSUER, sub: 'a', aud: CLIENT, iat: t, exp: t + 60 });
    await rejects(validateIdToken(noNonce, opts()), ['nonce'], /missing/);
    const r = await validateIdToken(noNonce, opts({ nonce: undefined }));
    assert.equal(r.checks.find((c) => c.name === 'nonce')?.status, 'skip');
  });

  it('rejects an expired token', async () => {
    const t = now();
    await rejects(
      validateIdToken(await sign(rsa, { exp: t - 3600, iat: t - 3700 }), opts()),
      ['exp', 'iat'],
      /expired/,
    );
    await rejects(validateIdToken(await sign(rsa, { exp: t - 3600 }), opts()), ['exp']);
  });

  it('rejects an iat in the future', async () => {
    await rejects(
      validateIdToken(await sign(rsa, { iat: now() + 3600, exp: now() + 7200 }), opts()),
      ['iat'],
      /future/,
    );
  });

  it('rejects missing sub, exp or iat', async () => {
    const t = now();
    const token = await signRaw(rsa, { iss: ISSUER, aud: CLIENT, nonce: NONCE });
    await rejects(validateIdToken(token, opts()), ['sub', 'exp', 'iat']);
    await rejects(
      validateIdToken(
        await signRaw(rsa, { iss: ISSUER, aud: CLIENT, sub: 'a', nonce: NONCE, iat: t, exp: 'tomorrow' }),
        opts(),
      ),
      ['exp'],
    );
  });

  it('rejects a token not yet valid (nbf)', async () => {
    await rejects(validateIdToken(await sign(rsa, { nbf: now() + 3600 }), opts()), ['nbf']);
  });

  it('rejects a bad at_hash and a bad c_hash', async () => {
    const token = await sign(rsa, {
      at_hash: leftHalfHash('another-token', 'RS256'),
      c_hash: 'AAAAAAAAAAAAAAAAAAAAAA',
    });
    await rejects(validateIdToken(token, opts({ accessToken: 'the-access-token', code: 'the-code' })), [
      'at_hash',
      'c_hash',
    ]);
    const r = await validateIdToken(token, opts());
    assert.equal(r.checks.find((c) => c.name === 'at_hash')?.status, 'skip', 'nothing to compare with');
  });

  it('uses the given clock', async () => {
    const token = await sign(rsa);
    await rejects(validateIdToken(token, opts({ now: new Date(Date.now() + 24 * 3600 * 1000) })), [
      'exp',
      'iat',
    ]);
  });

  it('lists every check in details, failed ones and passed ones', async () => {
    await assert.rejects(validateIdToken(await sign(rsa, { aud: 'x', nonce: 'y' }), opts()), (e: unknown) => {
      const checks = (e as MtlsOAuthError).details?.checks as Array<{ name: string; status: string }>;
      assert.equal(checks.find((c) => c.name === 'signature')?.status, 'pass');
      assert.equal(checks.find((c) => c.name === 'iss')?.status, 'pass');
      assert.equal(checks.find((c) => c.name === 'aud')?.status, 'fail');
      assert.equal(checks.find((c) => c.name === 'nonce')?.status, 'fail');
      assert.match((e as Error).message, /^ID token rejected: aud: .*; nonce: /);
      return true;
    });
  });
});
