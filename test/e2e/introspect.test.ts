// `mtls-oauth introspect` as a user runs it, against the real test IdP: the token from the cache,
// stdin or the argument; active and inactive answers; the binding check; --expect-* exit codes.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { makeIdpPki, type TestIdp } from '../helpers/idp.ts';
import { cachedEntry, type IdpFixture, idpFixture, intruderClient } from '../helpers/idp-fixture.ts';

describe('mtls-oauth introspect (built CLI, test IdP)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let kong: string[];
  let thumbprint: string;

  const run = (args: string[], input?: string) => fx.run(args, { input });
  const cachedToken = () => cachedEntry(fx.cacheDir, idp).access_token;

  before(async () => {
    const pki = await makeIdpPki();
    fx = await idpFixture({ pki, clients: [intruderClient(pki)], prefix: 'e2e-introspect-' });
    idp = fx.idp;
    kong = fx.args();
    thumbprint = createHash('sha256').update(idp.pki.client.x509.raw).digest('base64url');
    const t = await run(['token', ...kong, '--scope', 'api:read']);
    assert.equal(t.code, 0, t.stderr);
  });
  after(() => fx?.close());

  test('the cached access token: active, claims with ISO dates, cnf equal to our thumbprint, binding passes', async () => {
    const r = await run(['introspect', ...kong]);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(r.stdout, /^active: the IdP says the token is valid/);
    assert.match(r.stdout, /about the cached access token/);
    assert.match(r.stdout, /client_id\s+kong/);
    assert.match(r.stdout, /scope\s+api:read/);
    assert.match(r.stdout, /exp\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in /);
    assert.match(r.stdout, /iat\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s ago\)|iat\s+\S+Z \(0s ago\)/);
    assert.match(r.stdout, new RegExp(`cnf\\s+x5t#S256 ${thumbprint}`));
    assert.match(r.stdout, new RegExp(`✓ binding: bound to our certificate \\(x5t#S256 ${thumbprint}\\)`));
    assert.equal(r.stderr, '', 'no warnings for a cached token');
  });

  test('--json: the introspection response as received', async () => {
    const r = await run(['introspect', ...kong, '--json', '--expect-active']);
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.ok, true);
    assert.equal(env.command, 'introspect');
    assert.equal(env.result.active, true);
    assert.equal(env.result.cnf['x5t#S256'], thumbprint);
    assert.equal(typeof env.result.exp, 'number', 'as received: epoch seconds');
    assert.deepEqual(
      env.checks.map((c) => [c.name, c.status]),
      [
        ['binding', 'pass'],
        ['expect active', 'pass'],
      ],
    );
  });

  test('--expect-inactive on an active token: exit 1', async () => {
    const r = await run(['introspect', ...kong, '--expect-inactive']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ expect inactive: the IdP says active: true/);
    assertNoStack(r);
  });

  test('from stdin ("-"), also `token --print access-token` and `token --json --show-secrets`; an argument warns about the process list', async () => {
    const token = cachedToken();
    const s = await run(['introspect', '-', ...kong], `${token}\n`);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^active/);
    assert.match(s.stdout, /about the token from stdin/);
    assert.equal(s.stderr, '');

    const t = await run(['token', ...kong, '--json', '--show-secrets', '--no-cache']);
    const j = await run(['introspect', '-', ...kong, '--json'], t.stdout);
    assert.equal(jsonOf(j).result.active, true);
    const p = await run(['token', ...kong, '--print', 'access-token', '--no-cache']);
    assert.equal(jsonOf(await run(['introspect', '-', ...kong, '--json'], p.stdout)).result.active, true);

    // `token --json` without --show-secrets carries a fingerprint: piping it says so.
    const redacted = await run(['token', ...kong, '--json', '--no-cache']);
    assertCleanFailure(
      await run(['introspect', '-', ...kong], redacted.stdout),
      2,
      /stdin holds the access_token redacted \(sha256:[0-9a-f]{8}…\(\d+ chars\)\), not the token/,
    );

    const a = await run(['introspect', token, ...kong]);
    assert.equal(a.code, 0);
    assert.match(
      a.stderr,
      /warning: a token given as an argument is visible to every user of this machine in the process list; pipe it in with "-"/,
    );
    assert.ok(!a.stdout.includes(token), 'the token is not echoed');
  });

  test('an unknown token: inactive is an answer (exit 0), unless --expect-active (exit 1)', async () => {
    const r = await run(['introspect', '-', ...kong], 'not-a-real-token');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^inactive: the IdP says the token is not active/);
    assert.match(r.stdout, /- binding: the token is not active/);
    const e = await run(['introspect', '-', ...kong, '--expect-active', '--json'], 'not-a-real-token');
    assert.equal(e.code, 1);
    const env = jsonOf(e);
    assert.equal(env.ok, false);
    assert.deepEqual(env.result, { active: false });
    assert.equal(env.error!.code, 'CHECK_FAILED');
  });

  test('a token bound to another certificate: binding fails, exit 1', async () => {
    const t = await run(['token', ...fx.args('intruder', 'other'), '--print', 'access-token', '--no-cache']);
    assert.equal(t.code, 0, t.stderr);
    const r = await run(['introspect', '-', ...kong], t.stdout);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✗ binding: bound to another certificate: cnf.x5t#S256 is \S+, ours is /);
  });

  test('usage errors', async () => {
    assertCleanFailure(await run(['introspect', '-', ...kong], '  '), 2, /no token on stdin/);
    assertCleanFailure(
      await run(['introspect', ...kong, '--from-cache', 'refresh']),
      2,
      /no cached refresh token/,
    );
    assertCleanFailure(
      await run(['introspect', ...kong, '--from-cache', 'id']),
      2,
      /--from-cache must be "access" or "refresh"/,
    );
    assertCleanFailure(
      await run(['introspect', ...kong, '--expect-active', '--expect-inactive']),
      2,
      /contradict/,
    );
    assertCleanFailure(
      await run(['introspect', ...kong, '--token-type-hint', 'id_token']),
      2,
      /--token-type-hint/,
    );
    assertCleanFailure(
      await run(['introspect', ...kong, '--no-cache']),
      2,
      /--no-cache leaves no other source/,
    );
  });
});
