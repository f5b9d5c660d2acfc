// FAPI 2.0 readiness (docs/fapi2.md): `discover --security-profile fapi2` against the real
// oidc-provider IdP configured for the profile (src/idp/server.ts `fapi2`: PAR required, only the
// code response type, tls_client_auth / private_key_jwt, PS256/ES256/EdDSA, certificate-bound
// tokens, iss) and against the default test IdP, which fails check by check; and `login
// --security-profile fapi2`, which runs the flow the profile requires and says what the IdP met.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, jsonOf, runCli } from '../helpers/cli.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { completeLogin, startLogin } from '../helpers/user-agent.ts';

/** Not a speed assertion: a CLI that hangs is killed after this and the test fails. */
const HANG_GUARD_MS = 60_000;

const FAPI2_CHECKS = [
  'fapi2.password_grant',
  'fapi2.sender_constrained',
  'fapi2.client_auth',
  'fapi2.response_type',
  'fapi2.par_offered',
  'fapi2.par_required',
  'fapi2.pkce_s256',
  'fapi2.iss_response',
  'fapi2.signing_algs',
];

const statusOf = (checks: Array<{ name: string; status: string }>) =>
  Object.fromEntries(checks.filter((c) => c.name.startsWith('fapi2.')).map((c) => [c.name, c.status]));

describe('FAPI 2.0 readiness of an IdP configured for the profile', () => {
  let fx: IdpFixture;
  before(async () => {
    fx = await idpFixture({ aliases: true, fapi2: true, prefix: 'mtls-oauth-fapi2-' });
  });
  after(() => fx?.close());

  test('discover --security-profile fapi2: every check passes, each naming its clause; exit 0', async () => {
    const r = await fx.run([
      'discover',
      fx.idp.issuer,
      '--ca',
      fx.files.ca,
      '--security-profile',
      'fapi2',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    assert.equal(j.result.security_profile, 'fapi2');
    const fapi = j.checks.filter((c) => c.name.startsWith('fapi2.'));
    assert.deepEqual(
      fapi.map((c) => c.name),
      FAPI2_CHECKS,
    );
    for (const c of fapi) {
      assert.equal(c.status, 'pass', `${c.name}: ${c.detail}`);
      assert.match(c.detail!, /\(FAPI 2\.0 Security Profile §5\.\d/);
    }
    const human = await fx.run([
      'discover',
      fx.idp.issuer,
      '--ca',
      fx.files.ca,
      '--security-profile',
      'fapi2',
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /fapi2\.par_required: require_pushed_authorization_requests: true/);
  });

  test('smoke --security-profile fapi2: a fapi2 step with the metadata and the token checked, passing; exit 0', async () => {
    const r = await fx.run(['smoke', ...fx.args(), '--security-profile', 'fapi2', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const step = jsonOf(r).result.steps.find((s: any) => s.name === 'fapi2');
    assert.equal(step.status, 'pass');
    assert.match(step.detail, /the 11 requirements of the FAPI 2\.0 Security Profile checked are met/);
    const names = step.checks.map((c: any) => c.name);
    assert.deepEqual(names, [...FAPI2_CHECKS, 'fapi2.bound_token', 'fapi2.client_auth']);
    // --steps names fewer: the profile's step comes along, with discovery.
    const few = await fx.run(['smoke', ...fx.args(), '--steps', 'tls', '--security-profile', 'fapi2']);
    assert.equal(few.code, 0, few.stdout + few.stderr);
    assert.match(few.stdout, /^ {2}fapi2 +✓ pass .*met \(the metadata only: no token was checked\)$/m);
  });

  test('login --security-profile fapi2: PAR, S256, iss and a certificate-bound token, all met; exit 0', async () => {
    const run = startLogin(
      ['login', '--no-browser', '--json', '--security-profile', 'fapi2', ...fx.args()],
      fx.env(),
      HANG_GUARD_MS,
    );
    const url = new URL(await run.url);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    await completeLogin(fx.idp, url.href, { login: 'alice' });
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.deepEqual(statusOf(j.checks), {
      'fapi2.par': 'pass',
      'fapi2.pkce_s256': 'pass',
      'fapi2.iss_response': 'pass',
      'fapi2.bound_token': 'pass',
      'fapi2.client_auth': 'pass',
    });
    assert.equal(j.result.par.reason, 'profile');
    assert.equal(j.result.par.endpoint.url, fx.idp.aliases!.pushed_authorization_request_endpoint);
  });
});

describe('FAPI 2.0 readiness of the default test IdP', () => {
  let fx: IdpFixture;
  const secret = randomBytes(32).toString('base64url');
  before(async () => {
    fx = await idpFixture({
      prefix: 'mtls-oauth-fapi2-default-',
      clients: [
        {
          // A client the profile does not allow: a shared secret, no certificate.
          client_id: 'web-secret',
          client_secret: secret,
          application_type: 'native',
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: ['http://127.0.0.1/callback'],
          scope: 'openid',
        },
      ],
    });
  });
  after(() => fx?.close());

  test('discover --security-profile fapi2 fails check by check: FAPI2_NOT_MET, exit 1', async () => {
    const r = await fx.run([
      'discover',
      fx.idp.issuer,
      '--ca',
      fx.files.ca,
      '--security-profile',
      'fapi2',
      '--json',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, false);
    assert.equal(j.error?.code, 'FAPI2_NOT_MET');
    assert.deepEqual(statusOf(j.checks), {
      'fapi2.password_grant': 'pass',
      'fapi2.sender_constrained': 'pass',
      'fapi2.client_auth': 'fail',
      'fapi2.response_type': 'fail',
      'fapi2.par_offered': 'pass',
      'fapi2.par_required': 'fail',
      'fapi2.pkce_s256': 'pass',
      'fapi2.iss_response': 'pass',
      'fapi2.signing_algs': 'fail',
    });
    const detail = (name: string) => j.checks.find((c) => c.name === name)!.detail!;
    assert.match(detail('fapi2.client_auth'), /client_secret_basic.*§5\.3\.2\.1 item 6/);
    assert.match(detail('fapi2.response_type'), /"code id_token".*§5\.3\.2\.2 item 1/);
    assert.match(detail('fapi2.par_required'), /§5\.3\.2\.2 item 3/);
    assert.match(detail('fapi2.signing_algs'), /RS256.*§5\.4\.1/);
    assert.match(
      j.error!.message,
      /4 FAPI 2\.0 Security Profile requirements not met: client_auth, response_type, par_required, signing_algs/,
    );
  });

  test('smoke --security-profile fapi2 fails at the fapi2 step, naming what is not met; the rest runs; exit 1', async () => {
    const junit = `${fx.home}/fapi2.xml`;
    const r = await fx.run(['smoke', ...fx.args(), '--security-profile', 'fapi2', '--junit', junit]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^ {2}fapi2 +✗ fail .*FAPI 2\.0 Security Profile requirements? not met: .*par_required/m,
    );
    assert.match(r.stdout, /^ {2}revoke +✓ pass/m);
    const plain = await fx.run(['smoke', ...fx.args()]);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.doesNotMatch(plain.stdout, /fapi2/);
    const noIssuer = await fx.run([
      'smoke',
      '--token-endpoint',
      `${fx.idp.issuer}/token`,
      '--client-id',
      'kong',
      '--security-profile',
      'fapi2',
    ]);
    assertCleanFailure(noIssuer, 2, /--security-profile needs --issuer URL/);
  });

  test('without --security-profile the same document passes discover (exit 0)', async () => {
    const r = await fx.run(['discover', fx.idp.issuer, '--ca', fx.files.ca, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      jsonOf(r).checks.some((c) => c.name.startsWith('fapi2.')),
      false,
    );
  });

  test('login --security-profile fapi2 with a secret client: PAR forced, but no bound token and a shared secret: exit 1', async () => {
    const run = startLogin(
      [
        'login',
        '--no-browser',
        '--json',
        '--security-profile',
        'fapi2',
        '--issuer',
        fx.idp.issuer,
        '--client-id',
        'web-secret',
        '--ca',
        fx.files.ca,
      ],
      fx.env({ MTLS_OAUTH_CLIENT_SECRET: secret }),
      HANG_GUARD_MS,
    );
    const url = new URL(await run.url);
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    await completeLogin(fx.idp, url.href, { login: 'alice' });
    const r = await run.done;
    assert.equal(r.code, 1, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.error?.code, 'FAPI2_NOT_MET');
    assert.deepEqual(statusOf(j.checks), {
      'fapi2.par': 'pass',
      'fapi2.pkce_s256': 'pass',
      'fapi2.iss_response': 'pass',
      'fapi2.bound_token': 'fail',
      'fapi2.client_auth': 'fail',
    });
  });

  test('an unknown profile: exit 2', async () => {
    const r = await runCli(['discover', fx.idp.issuer, '--ca', fx.files.ca, '--security-profile', 'fapi3'], {
      env: fx.env(),
    });
    assertCleanFailure(r, 2, /unknown security profile "fapi3"/);
  });
});
