// `mtls-oauth token --grant token-exchange` (RFC 8693) and `--grant jwt-bearer` (RFC 7523) as a
// user runs them (the built CLI), against the real test IdP, whose extension grants
// (src/idp/grants.ts) issue certificate-bound tokens.

import assert from 'node:assert/strict';

import { after, before, describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { cachedEntry, type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';

const ASSERTION_ISSUER = 'https://assertions.example.test';

describe('token exchange and the JWT bearer grant (built CLI, test IdP with aliases)', () => {
  let fx: IdpFixture;
  let kong: string[];
  const signer = newKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = newKeyPairSync('ec', { namedCurve: 'P-256' });

  const assertion = (o: { key?: typeof signer.privateKey; aud?: string; iss?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'a1' })
      .setIssuer(o.iss ?? ASSERTION_ISSUER)
      .setSubject('alice')
      .setAudience(o.aud ?? fx.idp.issuer)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(o.key ?? signer.privateKey);

  before(async () => {
    const jwk = { ...(await exportJWK(signer.publicKey)), kid: 'a1', alg: 'ES256', use: 'sig' };
    fx = await idpFixture({
      aliases: true,
      prefix: 'e2e-exchange-',
      assertionIssuers: [{ issuer: ASSERTION_ISSUER, jwks: { keys: [jwk] } }],
    });
    kong = fx.args();
  });
  after(() => fx?.close());

  test('--subject-token cache: the cached token exchanged over mTLS, issued_token_type and binding checked', async () => {
    const first = await fx.run(['token', ...kong]);
    assert.equal(first.code, 0, first.stderr);
    const original = cachedEntry(fx.cacheDir, fx.idp).access_token;

    const r = await fx.run([
      'token',
      ...kong,
      '--grant',
      'token-exchange',
      '--subject-token',
      'cache',
      '--audience',
      'https://orders.example.test',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(r.stdout, /✓ issued_token_type: access_token/);
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    const exchanged = cachedEntry(fx.cacheDir, fx.idp);
    assert.notEqual(exchanged.access_token, original, 'a new token');
    assert.equal(exchanged.grant_type, 'token-exchange');
    assert.ok(!r.stdout.includes(original) && !r.stderr.includes(original), 'no token in full');
    // Sent to the alias (the token endpoint over mTLS), with the URN grant type.
    assert.ok(fx.idp.requests.some((q) => q.listener === 'mtls' && q.path === '/token' && q.clientCert));
    assert.deepEqual(fx.idp.serverErrors, []);
  });

  test('--subject-token - reads the token from stdin; an actor token; --json carries issued_token_type', async () => {
    const got = await fx.run(['token', ...kong, '--print', 'access-token', '--no-cache']);
    assert.equal(got.code, 0, got.stderr);
    const actor = await fx.run(['token', ...kong, '--print', 'access-token', '--no-cache']);
    const r = await fx.run(
      [
        'token',
        ...kong,
        '--json',
        '--no-cache',
        '--grant',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        '--subject-token',
        '-',
        '--actor-token',
        actor.stdout.trim(),
        '--actor-token-type',
        'access_token',
        '--requested-token-type',
        'access_token',
      ],
      { input: got.stdout },
    );
    assert.equal(r.code, 0, r.stderr);
    // The actor token as an argument warns: the process list shows it.
    assert.match(r.stderr, /an actor token given as an argument \(--actor-token\) is visible/);
    const doc = jsonOf(r);
    assert.equal(doc.ok, true);
    assert.equal(doc.result.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.ok(doc.checks.some((c: any) => c.name === 'issued_token_type' && c.status === 'pass'));
    assert.ok(doc.checks.some((c: any) => c.name === 'binding' && c.status === 'pass'));
  });

  test('a subject token the IdP does not know: invalid_grant, exit 4', async () => {
    const r = await fx.run(
      ['token', ...kong, '--no-cache', '--grant', 'token-exchange', '--subject-token', '-'],
      { input: 'not-a-token-of-this-idp' },
    );
    assertCleanFailure(r, 4, /invalid_grant/);
    assert.match(r.stderr, /subject_token is invalid or expired/);
  });

  test('bad inputs are usage errors (exit 2) before any token request', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--subject-token', '-'], /--subject-token belong to --grant token-exchange/],
      [['--grant', 'token-exchange'], /--grant token-exchange needs a subject token/],
      [
        ['--grant', 'token-exchange', '--subject-token', 'cache', '--subject-token-type', 'weird'],
        /--subject-token-type "weird" is neither a token type name nor a URI/,
      ],
      [
        ['--grant', 'token-exchange', '--subject-token', 'x', '--actor-token-type', 'jwt'],
        /--actor-token-type belongs with --actor-token/,
      ],
      [['--grant', 'jwt-bearer'], /--grant jwt-bearer needs a signed JWT assertion/],
      [['--assertion', 'x'], /--assertion belongs to --grant jwt-bearer/],
      [
        ['--grant', 'token-exchange', '--subject-token', '-', '--assertion', '-'],
        /all read stdin|belongs to --grant jwt-bearer/,
      ],
    ];
    const tokenRequests = () => fx.idp.requests.filter((q) => q.path === '/token').length;
    const before = tokenRequests();
    for (const [args, message] of cases) {
      const r = await fx.run(['token', ...kong, ...args], { input: '' });
      assertCleanFailure(r, 2, message);
    }
    assert.equal(tokenRequests(), before, 'no token request was sent');
  });

  test('--subject-token cache with nothing cached: NO_TOKEN, exit 2', async () => {
    const other = await idpFixture({ prefix: 'e2e-exchange-empty-' });
    try {
      const r = await other.run([
        'token',
        ...other.args(),
        '--grant',
        'token-exchange',
        '--subject-token',
        'cache',
      ]);
      assertCleanFailure(r, 2, /--subject-token cache: no cached access token for kong/);
      const j = await other.run([
        'token',
        ...other.args(),
        '--json',
        '--grant',
        'token-exchange',
        '--subject-token',
        'cache',
      ]);
      assert.equal(j.code, 2);
      assert.equal(jsonOf(j).error?.code, 'NO_TOKEN');
    } finally {
      await other.close();
    }
  });

  test('--grant jwt-bearer: a trusted assertion from stdin is traded for a bound token', async () => {
    const r = await fx.run(['token', ...kong, '--no-cache', '--grant', 'jwt-bearer', '--assertion', '-'], {
      input: await assertion(),
    });
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    assert.doesNotMatch(r.stderr, /visible to every user/, 'stdin: no process-list warning');
  });

  test('--grant jwt-bearer: a wrong signature or audience is invalid_grant, exit 4', async () => {
    for (const [jwt, why] of [
      [await assertion({ key: stranger.privateKey }), /signature verification failed/],
      [await assertion({ aud: 'https://elsewhere.example.test' }), /unexpected "aud" claim value/],
      [await assertion({ iss: 'https://untrusted.example.test' }), /are not trusted/],
    ] as const) {
      const r = await fx.run(['token', ...kong, '--no-cache', '--grant', 'jwt-bearer', '--assertion', '-'], {
        input: jwt,
      });
      assertCleanFailure(r, 4, /invalid_grant/);
      assert.match(r.stderr, why);
      assert.ok(!r.stderr.includes(jwt) && !r.stdout.includes(jwt), 'the assertion is not echoed');
    }
  });
});
