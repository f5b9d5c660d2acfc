// `mtls-oauth revoke` as a user runs it: revoke then introspect inactive (--verify and separately),
// and a 503 from the revocation endpoint (exit 4: the token may still be valid).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import type { TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture, type ServerFixture, serverFixture } from '../helpers/idp-fixture.ts';

describe('mtls-oauth revoke (built CLI, test IdP with aliases)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let kong: string[];
  const run = (args: string[], input?: string) => fx.run(args, { input });

  before(async () => {
    fx = await idpFixture({ aliases: true, prefix: 'e2e-revoke-' });
    idp = fx.idp;
    kong = fx.args();
  });
  after(() => fx?.close());

  test('revoke the cached token, then introspect says inactive', async () => {
    assert.equal((await run(['token', ...kong])).code, 0);
    assert.equal((await run(['introspect', ...kong, '--expect-active'])).code, 0);
    const r = await run(['revoke', ...kong]);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(
      r.stdout,
      new RegExp(
        `✓ revoked the cached access token \\S+…\\(\\d+ chars\\) at ${idp.aliases!.revocation_endpoint} \\(mtls alias\\)`,
      ),
    );
    assert.match(r.stdout, /✓ revocation: HTTP 200/);
    const i = await run(['introspect', ...kong, '--expect-inactive']);
    assert.equal(i.code, 0, i.stdout);
    assert.match(i.stdout, /^inactive/);
    assert.equal((await run(['introspect', ...kong, '--expect-active'])).code, 1);
    assert.ok(
      idp.requests.some((q) => q.listener === 'mtls' && q.path === '/token/revocation' && q.clientCert),
    );
  });

  test('--verify introspects afterwards; --json carries both answers', async () => {
    assert.equal((await run(['token', ...kong])).code, 0);
    const r = await run(['revoke', ...kong, '--verify', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.ok, true);
    assert.equal(env.command, 'revoke');
    assert.deepEqual(env.result, {
      status: 200,
      token_type_hint: 'access_token',
      introspection: { active: false },
    });
    assert.deepEqual(
      env.checks.map((c) => [c.name, c.status]),
      [
        ['revocation', 'pass'],
        ['revoked', 'pass'],
      ],
    );
  });

  test('a token from stdin', async () => {
    const t = await run(['token', ...kong, '--print', 'access-token', '--no-cache']);
    const token = t.stdout.trim();
    const r = await run(['revoke', '-', ...kong, '--verify'], token);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /revoked the token from stdin/);
    assert.ok(!r.stdout.includes(token));
  });

  test('no refresh token in the cache: a usage error', async () => {
    assertCleanFailure(
      await run(['revoke', ...kong, '--from-cache', 'refresh']),
      2,
      /no cached refresh token/,
    );
  });
});

describe('mtls-oauth revoke against an endpoint that answers 503', () => {
  let fx: ServerFixture;
  before(async () => {
    fx = await serverFixture(
      (_req, res) => res.writeHead(503, { 'retry-after': '120' }).end(),
      'e2e-revoke-503-',
    );
  });
  after(() => fx?.close());

  test('exit 4, and the message says the token may still be valid', async () => {
    const args = [
      'revoke',
      '-',
      '--revocation-endpoint',
      `${fx.server.url}/revoke`,
      '--client-id',
      'kong',
      '--ca',
      fx.ca,
    ];
    const r = await fx.run(args, { input: 'some-token' });
    assertCleanFailure(r, 4, /the IdP answered 503 .*the token was NOT revoked and may still be valid/);
    assert.match(r.stderr, /hint: retry later \(Retry-After: 120\)/);
    const j = await fx.run([...args, '--json'], { input: 'some-token' });
    assert.equal(j.code, 4);
    assert.equal(jsonOf(j).error!.code, 'REVOCATION_UNAVAILABLE');
  });
});
