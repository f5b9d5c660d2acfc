// The smoke run (src/core/smoke.ts) in-process against the real test IdP: the plan, each step's
// verdict, skips, expected failures, the connections made (one per host and identity), where each
// request went (mTLS aliases), the refresh grant, and "unreachable".

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Settings } from '../../src/core/config.ts';
import {
  parseExpectFail,
  parseSteps,
  planSteps,
  refreshTokenFor,
  runSmoke,
  type SmokeReport,
  STEPS,
} from '../../src/core/smoke/index.ts';
import { cacheKey, TokenCache } from '../../src/core/token-cache.ts';
import type { TestIdp } from '../helpers/idp.ts';
import { authorizationCode, type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { closedPort } from '../helpers/tls-servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'smoke-int-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const statuses = (r: SmokeReport) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]));
const step = (r: SmokeReport, name: string) => {
  const s = r.steps.find((x) => x.name === name);
  assert.ok(s, `step ${name} in ${r.steps.map((x) => x.name).join(',')}`);
  return s;
};

/** The steps of a run without --api (the api steps need an API: test/e2e/smoke-api.test.ts). */
/** The default plan: no api steps without an API, no fapi2 step without --security-profile. */
const WITHOUT_API = STEPS.filter((s) => !s.startsWith('api') && s !== 'fapi2');
describe('the plan', () => {
  test('--steps parsing: names, "all", unknown names are usage errors', () => {
    assert.deepEqual(parseSteps('token, introspect'), ['token', 'introspect']);
    assert.deepEqual(parseSteps('all'), [...STEPS]);
    assert.throws(() => parseSteps('token,bogus'), { code: 'BAD_STEPS', kind: 'usage' });
    assert.throws(() => parseSteps(' , '), { code: 'BAD_STEPS' });
  });

  test('--expect-fail parsing', () => {
    assert.deepEqual(parseExpectFail(['token=invalid_client', 'introspect-after-revoke']), [
      { step: 'token', error: 'invalid_client' },
      { step: 'introspect-after-revoke' },
    ]);
    assert.throws(() => parseExpectFail(['nope=x']), { code: 'BAD_EXPECT_FAIL' });
    assert.throws(() => parseExpectFail(['token=']), { code: 'BAD_EXPECT_FAIL' });
    assert.throws(() => parseExpectFail(['token', 'token=invalid_client']), { code: 'BAD_EXPECT_FAIL' });
  });

  test('chosen steps bring the steps they need; discovery only with an issuer', () => {
    const withIssuer: Settings = { issuer: 'https://idp.example' };
    const noIssuer: Settings = { tokenEndpoint: 'https://idp.example/token' };
    assert.deepEqual(planSteps(undefined, withIssuer), WITHOUT_API);
    assert.deepEqual(
      planSteps(parseSteps('all'), withIssuer),
      WITHOUT_API,
      '--steps all: no api step without an API',
    );
    assert.deepEqual(planSteps(undefined, noIssuer), WITHOUT_API.slice(1));
    assert.deepEqual(planSteps(['introspect'], withIssuer), ['discovery', 'token', 'introspect']);
    assert.deepEqual(planSteps(['introspect-after-revoke'], noIssuer), [
      'token',
      'revoke',
      'introspect-after-revoke',
    ]);
    assert.deepEqual(planSteps(['tls'], withIssuer), ['discovery', 'tls']);
    assert.throws(() => planSteps(['discovery'], noIssuer), { code: 'MISSING_ISSUER' });
  });
});

for (const aliases of [true, false]) {
  describe(`against the test IdP, aliases ${aliases ? 'on' : 'off'}`, () => {
    let fx: IdpFixture;
    let idp: TestIdp;
    let kong: Settings;
    before(async () => {
      fx = await idpFixture({ aliases });
      idp = fx.idp;
      kong = fx.settings();
    });
    after(() => fx?.close());

    test('every step passes with the registered certificate; one connection per host and identity', async () => {
      const seen = idp.requests.length;
      const progress: string[] = [];
      const r = await runSmoke({ settings: kong, onStep: (s) => progress.push(s) });
      assert.equal(r.ok, true, JSON.stringify(r.steps, null, 2));
      assert.deepEqual(
        statuses(r),
        Object.fromEntries(WITHOUT_API.map((s) => [s, 'pass'])),
        JSON.stringify(r.steps, null, 2),
      );
      assert.deepEqual(progress, WITHOUT_API);
      assert.equal(r.unreachable, undefined);
      assert.equal(r.identity?.subject, idp.clients.kong.subjectDn);
      assert.match(step(r, 'binding').detail, /bound to our certificate/);
      assert.match(step(r, 'introspect').detail, /^active/);
      assert.match(step(r, 'introspect-after-revoke').detail, /inactive/);
      for (const s of r.steps) assert.ok(s.timeMs >= 0);

      // Discovery without a certificate, everything else with it: one connection each (with aliases:
      // two hosts; without: one host, two identities).
      assert.equal(r.connections.length, 2, JSON.stringify(r.connections.map((c) => c.target)));
      assert.equal(r.connections.filter((c) => c.withClientCert).length, 1);
      const mine = idp.requests.slice(seen);
      const calls = mine.filter((q) => q.method === 'POST');
      // token, binding's introspection, introspect, revoke, introspect again
      assert.equal(calls.length, 5);
      for (const q of calls) {
        assert.equal(q.listener, aliases ? 'mtls' : 'plain', q.path);
        assert.equal(q.clientCert, true);
      }
      if (aliases) assert.equal(r.endpoints.token?.via, 'mtls alias');
      // The token is in the report only shortened.
      const response = step(r, 'token').data?.response as { access_token: string };
      assert.match(response.access_token, /…\(\d+ chars\)$/);
      assert.deepEqual(idp.serverErrors, []);
    });

    test('discovery and tls alone need no client_id', async () => {
      const { clientId: _id, ...noClient } = kong;
      const r = await runSmoke({ settings: noClient, steps: ['discovery', 'tls'] });
      assert.deepEqual(statuses(r), { discovery: 'pass', tls: 'pass' });
      assert.match(step(r, 'tls').detail, /client certificate requested.*sent CN=kong/);
      assert.equal(r.connections.length, 2);
    });

    test('--show-secrets keeps the token whole in the report', async () => {
      const r = await runSmoke({ settings: kong, steps: ['token'], showSecrets: true });
      const response = step(r, 'token').data?.response as { access_token: string };
      assert.doesNotMatch(response.access_token, /…/);
    });

    test('an unregistered certificate fails at the token step; later steps are skipped', async () => {
      const r = await runSmoke({ settings: fx.settings('kong', 'other') });
      assert.equal(r.ok, false);
      assert.deepEqual(statuses(r), {
        discovery: 'pass',
        tls: 'pass',
        token: 'fail',
        binding: 'skip',
        introspect: 'skip',
        revoke: 'skip',
        'introspect-after-revoke': 'skip',
      });
      const t = step(r, 'token');
      assert.equal(t.error?.oauthError, 'invalid_client');
      assert.equal(t.error?.code, 'OAUTH_INVALID_CLIENT');
      assert.match(t.hint ?? '', /CN=intruder/);
      assert.equal(step(r, 'binding').detail, 'needs token');
      assert.equal(r.unreachable, undefined, 'the IdP answered');
    });

    test('--expect-fail token=invalid_client turns that refusal into a pass', async () => {
      const other = fx.settings('kong', 'other');
      const r = await runSmoke({ settings: other, expectFail: [{ step: 'token', error: 'invalid_client' }] });
      assert.equal(r.ok, true, JSON.stringify(r.steps, null, 2));
      const t = step(r, 'token');
      assert.equal(t.status, 'pass');
      assert.match(t.detail, /^failed as expected: .*invalid_client/);
      assert.deepEqual(t.expected, { step: 'token', error: 'invalid_client', met: true });
      assert.equal(step(r, 'introspect').detail, 'needs token, which failed as expected');
      // The error code form matches too.
      const byCode = await runSmoke({
        settings: other,
        steps: ['token'],
        expectFail: [{ step: 'token', error: 'OAUTH_INVALID_CLIENT' }],
      });
      assert.equal(byCode.ok, true);
      // Another error does not.
      const wrong = await runSmoke({
        settings: other,
        steps: ['token'],
        expectFail: [{ step: 'token', error: 'invalid_grant' }],
      });
      assert.equal(wrong.ok, false);
      assert.match(
        step(wrong, 'token').detail,
        /expected to fail with invalid_grant, but failed with invalid_client/,
      );
      // And success, when a failure was expected, fails.
      const accepted = await runSmoke({ settings: kong, steps: ['token'], expectFail: [{ step: 'token' }] });
      assert.equal(accepted.ok, false);
      assert.match(step(accepted, 'token').detail, /^expected to fail, but it succeeded/);
      assert.equal(step(accepted, 'token').error?.code, 'EXPECTED_FAILURE');
    });

    test('no client certificate: the TLS probe warns that one was asked for, the token fails', async () => {
      const { cert: _c, key: _k, ...noCert } = kong;
      const warnings: string[] = [];
      const r = await runSmoke({
        settings: { ...noCert, auth: 'tls_client_auth' },
        warn: (m) => warnings.push(m),
      });
      assert.match(warnings.join('\n'), /without a client certificate/);
      // Without a certificate calls go to the plain endpoints, which ask for one only without aliases.
      assert.equal(step(r, 'tls').status, aliases ? 'pass' : 'warn', step(r, 'tls').detail);
      assert.equal(step(r, 'token').status, 'fail');
      assert.equal(step(r, 'token').error?.oauthError, 'invalid_client');
    });
  });
}

describe('other IdP setups', () => {
  test('JWT access tokens: binding from the JWT; this IdP cannot introspect them, which the run reports', async (t) => {
    const fx = await idpFixture({ aliases: true, jwtAccessTokens: true });
    t.after(fx.close);
    const settings = fx.settings();
    const r = await runSmoke({ settings });
    assert.equal(step(r, 'binding').status, 'pass');
    assert.deepEqual(step(r, 'binding').data?.source, 'jwt');
    assert.equal(step(r, 'introspect').status, 'fail');
    assert.equal(step(r, 'introspect').error?.code, 'TOKEN_INACTIVE');
    // A pipeline that knows this can say so.
    const known = await runSmoke({
      settings,
      steps: ['binding', 'introspect'],
      expectFail: [{ step: 'introspect', error: 'TOKEN_INACTIVE' }],
    });
    assert.equal(known.ok, true, JSON.stringify(known.steps, null, 2));
  });

  test('endpoints from flags (no issuer): no discovery step; an absent introspection endpoint is skipped', async (t) => {
    const { idp, files, close } = await idpFixture({});
    t.after(close);
    const settings: Settings = {
      clientId: 'kong',
      cert: files.clientCert,
      key: files.clientKey,
      ca: files.ca,
      tokenEndpoint: idp.endpoints.token,
      revocationEndpoint: idp.endpoints.revocation,
    };
    const r = await runSmoke({ settings });
    assert.deepEqual(statuses(r), {
      tls: 'pass',
      token: 'pass',
      binding: 'skip', // opaque token, no metadata saying the IdP binds, no introspection endpoint
      introspect: 'skip',
      revoke: 'pass',
      'introspect-after-revoke': 'skip',
    });
    assert.equal(r.ok, true);
    assert.match(step(r, 'introspect').detail, /no introspection endpoint/);
    // Named explicitly, the missing endpoint fails the step.
    const explicit = await runSmoke({ settings, steps: ['introspect'] });
    assert.equal(step(explicit, 'introspect').status, 'fail');
    assert.equal(step(explicit, 'introspect').error?.code, 'NO_ENDPOINT');
  });

  test('refresh_token grant: from a variable or the cache; the refresh token survives the run', async (t) => {
    const fx = await idpFixture({ aliases: true });
    t.after(fx.close);
    const { idp, files } = fx;
    const settings = fx.settings();
    // A refresh token from the authorization-code flow, as `login` would get it.
    const redirectUri = 'http://127.0.0.1:49152/callback';
    const { code, verifier } = await authorizationCode(idp, redirectUri);
    const { HttpClient } = await import('../../src/core/transport/http-client.ts');
    const { loadClientIdentity } = await import('../../src/core/transport/identity.ts');
    const { tokenRequest, grantParams } = await import('../../src/core/token-endpoint.ts');
    const identity = await loadClientIdentity(settings);
    const http = new HttpClient({ identity, ca: files.ca });
    const first = await tokenRequest(
      { http, identity, credentials: { clientId: 'kong', method: 'tls_client_auth' } },
      idp.aliases!.token_endpoint,
      grantParams({ grant: 'authorization_code', code, codeVerifier: verifier, redirectUri }),
    ).finally(() => http.close());
    const refresh = first.token.refresh_token!;
    assert.ok(refresh);

    // From an environment variable.
    const viaEnv = refreshTokenFor({ envVar: 'RT', env: { RT: refresh }, settings });
    assert.equal(viaEnv.token, refresh);
    assert.throws(() => refreshTokenFor({ envVar: 'RT', env: {}, settings }), { code: 'NO_REFRESH_TOKEN' });
    const r1 = await runSmoke({ settings, grant: 'refresh_token', refreshToken: viaEnv });
    assert.equal(r1.ok, true, JSON.stringify(r1.steps, null, 2));
    assert.match(step(r1, 'token').detail, /^refresh_token: /);

    // From the cache: the run revokes the access token, not the refresh token, so it runs again.
    const cache = new TokenCache({ file: join(dir, 'refresh-cache', 'tokens.json') });
    const key = cacheKey({ issuer: idp.issuer, tokenEndpoint: idp.endpoints.token, clientId: 'kong' });
    cache.set(key, { client_id: 'kong', issuer: idp.issuer, refresh_token: refresh, obtained_at: 1 });
    for (let i = 0; i < 2; i++) {
      const rt = refreshTokenFor({ cache, settings });
      assert.equal(rt.cached?.key, key);
      const r = await runSmoke({ settings, grant: 'refresh_token', refreshToken: rt, cache });
      assert.equal(r.ok, true, JSON.stringify(r.steps, null, 2));
    }
    assert.ok(cache.get(key)?.refresh_token);
    assert.throws(
      () => refreshTokenFor({ cache: new TokenCache({ file: join(dir, 'none.json') }), settings }),
      {
        code: 'NO_REFRESH_TOKEN',
      },
    );
  });

  test('password grant: a deprecation warning, and the IdP (which has no password grant) refuses', async (t) => {
    const fx = await idpFixture({ aliases: true });
    t.after(fx.close);
    const settings = fx.settings();
    const warnings: string[] = [];
    // Missing inputs are usage errors before any request.
    await assert.rejects(runSmoke({ settings, grant: 'password', username: 'alice' }), {
      code: 'MISSING_GRANT_INPUT',
    });
    const r = await runSmoke({
      settings,
      grant: 'password',
      username: 'alice',
      password: 'secret',
      warn: (m) => warnings.push(m),
    });
    assert.match(warnings.join('\n'), /deprecated.*RFC 9700/);
    assert.equal(step(r, 'token').status, 'fail');
    assert.equal(step(r, 'token').error?.oauthError, 'unsupported_grant_type');
  });

  test('an IdP that cannot be reached: the first step fails and the report says unreachable', async () => {
    const port = await closedPort();
    const r = await runSmoke({
      settings: { issuer: `https://127.0.0.1:${port}`, clientId: 'kong' },
    });
    assert.equal(r.ok, false);
    assert.equal(step(r, 'discovery').status, 'fail');
    assert.equal(r.unreachable?.code, 'CONNECTION_REFUSED');
    assert.equal(r.unreachable?.step, 'discovery');
    assert.ok(r.steps.slice(1).every((s) => s.status === 'skip'));
  });

  test('usage errors come before any request', async () => {
    await assert.rejects(runSmoke({ settings: { clientId: 'kong' } }), {
      code: 'NO_ENDPOINT',
      kind: 'usage',
    });
    await assert.rejects(runSmoke({ settings: { issuer: 'https://127.0.0.1:1' } }), {
      code: 'MISSING_CLIENT_ID',
    });
    await assert.rejects(
      runSmoke({
        settings: { issuer: 'https://127.0.0.1:1', clientId: 'kong' },
        steps: ['discovery'],
        expectFail: [{ step: 'revoke' }],
      }),
      { code: 'BAD_EXPECT_FAIL' },
    );
    await assert.rejects(
      runSmoke({ settings: { issuer: 'https://127.0.0.1:1', clientId: 'kong' }, grant: 'refresh_token' }),
      { code: 'MISSING_GRANT_INPUT' },
    );
  });
});
