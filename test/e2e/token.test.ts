// `mtls-oauth token` as a user runs it (the built CLI), against the real test IdP with
// mtls_endpoint_aliases: output, --json envelope, exit codes, secrets, the cache, the grants.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import type { PkiFiles, TestIdp } from '../helpers/idp.ts';
import {
  authorizationCode,
  authorizationCodeGrantArgs,
  cachedEntry,
  type IdpFixture,
  idpFixture,
  jwtClient,
  type ServerFixture,
  serverFixture,
} from '../helpers/idp-fixture.ts';

describe('mtls-oauth token (built CLI, test IdP with aliases)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let files: PkiFiles;
  let kong: string[];

  const cacheFile = () => join(fx.cacheDir, 'tokens.json');
  const cached = () => cachedEntry(fx.cacheDir, idp);
  const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string) =>
    fx.run(args, { env: extraEnv, input });

  before(async () => {
    fx = await idpFixture({ aliases: true, prefix: 'e2e-token-' });
    ({ idp, files } = fx);
    kong = fx.args();
  });
  after(() => fx?.close());

  test('client_credentials: human output, binding passes, token as a fingerprint, cached 0600', async () => {
    const r = await run(['token', ...kong, '--scope', 'api:read']);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(
      r.stdout,
      new RegExp(
        `✓ token for kong \\(tls_client_auth\\) from ${idp.aliases!.token_endpoint} \\(mtls alias\\)`,
      ),
    );
    assert.match(r.stdout, /token type\s+Bearer/);
    assert.match(r.stdout, /scope\s+api:read/);
    assert.match(r.stdout, /expires\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (9m \d+s|10m)\)/);
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    const entry = cached();
    assert.equal(statSync(cacheFile()).mode & 0o777, 0o600);
    assert.ok(entry.access_token.length > 20);
    assert.equal(entry.scope, 'api:read');
    assert.equal(entry.grant_type, 'client_credentials');
    assert.equal(entry.x5t_s256, createHash('sha256').update(idp.pki.client.x509.raw).digest('base64url'));
    assert.ok(
      !r.stdout.includes(entry.access_token) && !r.stderr.includes(entry.access_token),
      'token not in full',
    );
    // The fingerprint: the start of the token's SHA-256 (sha256sum's hex), none of its characters.
    const hash = createHash('sha256').update(entry.access_token).digest('hex').slice(0, 8);
    assert.match(
      r.stdout,
      new RegExp(`access token\\s+sha256:${hash}…\\(${entry.access_token.length} chars\\)`),
    );
    // The alias host served the token call.
    assert.ok(idp.requests.some((q) => q.listener === 'mtls' && q.path === '/token' && q.clientCert));
  });

  test('-v shows the exchange without secrets; --show-secrets shows them', async () => {
    const r = await run(['token', ...kong, '-v']);
    assert.equal(r.code, 0, r.stderr);
    const token = cached().access_token;
    assert.match(r.stderr, new RegExp(`> POST ${idp.aliases!.token_endpoint}`));
    assert.match(r.stderr, /client certificate sent: CN=kong/);
    assert.match(r.stderr, /"access_token":"sha256:[0-9a-f]{8}…\(\d+ chars\)"/);
    assert.ok(!r.stderr.includes(token) && !r.stdout.includes(token), 'no full token with -v');

    const shown = await run(['token', ...kong, '-v', '--show-secrets']);
    assert.equal(shown.code, 0, shown.stderr);
    const token2 = cached().access_token;
    assert.ok(shown.stdout.includes(token2), 'full token on stdout with --show-secrets');
    assert.ok(shown.stderr.includes(token2), 'and in the -v log');
  });

  test('--json: one envelope with the token response (tokens as fingerprints), the checks and the connections', async () => {
    const r = await run(['token', ...kong, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const env = jsonOf(r);
    assert.equal(env.ok, true);
    assert.equal(env.command, 'token');
    assert.deepEqual(Object.keys(env.result).sort(), ['access_token', 'expires_in', 'token_type']);
    const token = cached().access_token;
    assert.match(env.result.access_token, /^sha256:[0-9a-f]{8}…\(\d+ chars\)$/);
    assert.ok(!r.stdout.includes(token), 'not in full without --show-secrets');
    assert.equal(env.result.token_type, 'Bearer');
    assert.deepEqual(
      env.checks.map((c) => [c.name, c.status]),
      [
        ['binding', 'pass'],
        ['expires_in', 'pass'],
      ],
    );
    assert.ok(Array.isArray(env.tls));
    const mtls = env.tls.find((c: any) => c.target === `127.0.0.1:${idp.mtlsPort}`);
    assert.equal(mtls.withClientCert, true);
    assert.equal(mtls.clientCertSent.subject, 'CN=kong,OU=gateway,O=mtls-oauth tests');
    assert.equal(env.error, undefined);

    const shown = await run(['token', ...kong, '--json', '--show-secrets']);
    assert.equal(jsonOf(shown).result.access_token, cached().access_token, 'in full with --show-secrets');
  });

  test('--print access-token / header: only that on stdout, in full; --print with --json is refused', async () => {
    const bare = await run(['token', ...kong, '--print', 'access-token']);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(bare.stdout, `${cached().access_token}\n`);
    const header = await run(['token', ...kong, '--print', 'header']);
    assert.equal(header.code, 0, header.stderr);
    assert.equal(header.stdout, `Authorization: Bearer ${cached().access_token}\n`);
    // The bare token pipes into introspect.
    const i = await run(['introspect', '-', ...kong, '--no-cache'], {}, bare.stdout);
    assert.equal(i.code, 0, i.stderr);
    assert.match(i.stdout, /active/);

    assertCleanFailure(
      await run(['token', ...kong, '--print', 'token']),
      2,
      /--print must be access-token or header/,
    );
    const both = await run(['token', ...kong, '--print', 'header', '--json']);
    assert.equal(both.code, 2);
    assert.equal(jsonOf(both).error!.code, 'BAD_ARGUMENTS');
    assert.match(jsonOf(both).error!.message, /--print and --json both choose what stdout carries/);
  });

  test('an unregistered certificate of the same CA: exit 4, invalid_client, the hint names its DN', async () => {
    const args = ['token', ...fx.args('kong', 'other')];
    const r = await run(args);
    assertCleanFailure(r, 4, /error: token request failed: invalid_client: .*\(HTTP 401\)/);
    assert.match(r.stderr, /hint: .*subject DN "CN=intruder,OU=gateway,O=mtls-oauth tests".*exactly/);

    const j = await run([...args, '--json']);
    assert.equal(j.code, 4);
    const env = jsonOf(j);
    assert.equal(env.ok, false);
    assert.equal(env.error!.code, 'OAUTH_INVALID_CLIENT');
    assert.match(env.error!.hint!, /CN=intruder/);
    assert.equal(env.error!.details.status, 401);
    assert.equal(env.error!.details.response.error, 'invalid_client');
    assert.equal(env.tls.clientCertSent.subject, 'CN=intruder,OU=gateway,O=mtls-oauth tests');
  });

  test('no certificate with tls_client_auth: a warning, exit 4, and the hint says none was sent', async () => {
    const r = await run([
      'token',
      '--issuer',
      idp.issuer,
      '--client-id',
      'kong',
      '--ca',
      files.ca,
      '--auth',
      'tls_client_auth',
    ]);
    assertCleanFailure(r, 4, /invalid_client/);
    assert.match(r.stderr, /warning: tls_client_auth without a client certificate/);
    assert.match(r.stderr, /hint: no client certificate was sent \(none is configured\)/);
  });

  test('self_signed_tls_client_auth', async () => {
    const r = await run([
      'token',
      ...fx.args('self-signed', 'selfSigned'),
      '--auth',
      'self_signed_tls_client_auth',
      '--no-cache',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    assert.doesNotMatch(r.stdout, /cached in/);
  });

  test('password grant: warns (RFC 9700 §2.4), takes the password from the environment, never prints it', async () => {
    const password = 'correct-horse-battery-staple';
    const r = await run(['token', ...kong, '--grant', 'password', '--username', 'alice', '-v'], {
      MTLS_OAUTH_PASSWORD: password,
    });
    // oidc-provider has no password grant: the IdP's refusal is the expected answer.
    assertCleanFailure(r, 4, /unsupported_grant_type/);
    assert.match(
      r.stderr,
      /warning: the resource owner password credentials grant is deprecated: RFC 9700 .*§2\.4/,
    );
    assert.match(r.stderr, /> grant_type=password&username=alice&password=\*\*\*\(28 chars\)/);
    assert.ok(!r.stderr.includes(password) && !r.stdout.includes(password));

    const noTty = await run(['token', ...kong, '--grant', 'password', '--username', 'alice']);
    assertCleanFailure(noTty, 2, /no terminal to ask/);
    assert.match(noTty.stderr, /MTLS_OAUTH_PASSWORD/);
  });

  test('authorization_code, then refresh_token from the cache (tokens rotated in place)', async () => {
    const a = await run(['token', ...kong, ...(await authorizationCodeGrantArgs(idp))]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /refresh token\s+sha256:[0-9a-f]{8}…\(\d+ chars\)/);
    assert.match(a.stdout, /id token\s+sha256:[0-9a-f]{8}…\(\d+ chars\)/);
    assert.match(
      a.stderr,
      /warning: an authorization code given as an argument \(--code\) is visible .* process list; use --code - and pipe it in/,
    );
    assert.match(a.stderr, /warning: a PKCE code verifier given as an argument \(--code-verifier\)/);
    const first = cached();
    assert.ok(first.refresh_token && first.id_token);
    assert.equal(first.grant_type, 'authorization_code');

    const r = await run(['token', ...kong, '--grant', 'refresh_token']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    const second = cached();
    assert.notEqual(second.access_token, first.access_token, 'the new access token is cached');
    assert.equal(second.grant_type, 'refresh_token');
    // oidc-provider does not rotate a confidential client's refresh token: the old one is kept.
    assert.equal(second.refresh_token, first.refresh_token);
    assert.equal(second.id_token !== undefined, true);

    // From stdin instead of the cache.
    const s = await run(
      ['token', ...kong, '--grant', 'refresh_token', '--refresh-token', '-', '--no-cache'],
      {},
      `${first.refresh_token}\n`,
    );
    assert.equal(s.code, 0, s.stderr);
  });

  test('--code - reads the code from stdin (no process-list warning); one value per run from stdin', async () => {
    const redirectUri = 'http://127.0.0.1:49154/callback';
    const { code, verifier } = await authorizationCode(idp, redirectUri);
    const grant = ['--grant', 'authorization_code', '--redirect-uri', redirectUri, '--no-cache'];
    const twice = await run(['token', ...kong, ...grant, '--code', '-', '--code-verifier', '-'], {}, code);
    assertCleanFailure(
      twice,
      2,
      /--code and --code-verifier all read stdin \("-"\), and stdin holds one value per run/,
    );

    const r = await run(
      ['token', ...kong, ...grant, '--code', '-', '--code-verifier', verifier],
      {},
      `${code}\n`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /authorization code given as an argument/);
    assert.match(r.stderr, /a PKCE code verifier given as an argument/);
    assert.ok(!r.stdout.includes(code) && !r.stderr.includes(code));

    const { code: code2, verifier: verifier2 } = await authorizationCode(idp, redirectUri);
    const v = await run(['token', ...kong, ...grant, '--code', code2, '--code-verifier', '-'], {}, verifier2);
    assert.equal(v.code, 0, v.stderr);
    assert.doesNotMatch(v.stderr, /code verifier given as an argument/);
    assertCleanFailure(
      await run(['token', ...kong, ...grant, '--code', '-', '--code-verifier', verifier2], {}, ''),
      2,
      /stdin is empty: expected an authorization code/,
    );
  });

  test('a cache file others can read is refused with a warning, and not read', async () => {
    await run(['token', ...kong]);
    chmodSync(cacheFile(), 0o644);
    try {
      const r = await run(['introspect', ...kong]);
      assertCleanFailure(r, 2, /no cached access token/);
      assert.match(
        r.stderr,
        /warning: token cache .*tokens\.json has mode 0644, readable by others than you: not used/,
      );
      const t = await run(['token', ...kong]);
      assert.equal(t.code, 0, 'the token command still works');
      assert.doesNotMatch(t.stdout, /cached in/);
      assert.equal(statSync(cacheFile()).mode & 0o777, 0o644, 'the refused file is not rewritten');
    } finally {
      chmodSync(cacheFile(), 0o600);
    }
  });

  test('usage errors: exit 2 before any request', async () => {
    const before = idp.requests.length;
    assertCleanFailure(await run(['token', ...kong, '--grant', 'implicit']), 2, /unknown grant "implicit"/);
    assertCleanFailure(
      await run(['token', ...kong, '--code', 'x']),
      2,
      /--code.*belong to --grant authorization_code/,
    );
    assertCleanFailure(await run(['token', ...kong, '-p', 'novalue']), 2, /expected key=value/);
    assertCleanFailure(await run(['token', '--issuer', idp.issuer, '--ca', files.ca]), 2, /no client_id/);
    assertCleanFailure(
      await run(['token', ...kong, '--grant', 'authorization_code', '--code', 'x']),
      2,
      /needs the redirect URI/,
    );
    assert.equal(
      idp.requests.filter((q) => q.path === '/token').length,
      idp.requests.slice(0, before).filter((q) => q.path === '/token').length,
    );
  });

  test('--help ends with examples', async () => {
    const r = await run(['token', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n\s+\$ mtls-oauth token/);
  });
});

describe('mtls-oauth token against endpoints that do not answer OAuth', () => {
  let fx: ServerFixture;
  before(async () => {
    fx = await serverFixture((req, res) => {
      if (req.url === '/login')
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Sign in</html>');
      else res.writeHead(200, { 'content-type': 'application/json' }).end(`"${'x'.repeat(2 * 1024 * 1024)}"`);
    }, 'e2e-token-bad-');
  });
  after(() => fx?.close());

  test('an HTML page: exit 3 with the status, content type and body start; an oversize body: exit 3', async () => {
    const base = ['token', '--client-id', 'kong', '--ca', fx.ca, '--auth', 'none'];
    const html = await fx.run([...base, '--token-endpoint', `${fx.server.url}/login`]);
    assertCleanFailure(html, 3, /HTTP 200 with text\/html instead of JSON: "<html>Sign in<\/html>"/);
    assert.match(html.stderr, /hint: /);
    const big = await fx.run([...base, '--token-endpoint', `${fx.server.url}/big`, '--json']);
    assert.equal(big.code, 3);
    assert.equal(jsonOf(big).error!.code, 'RESPONSE_TOO_LARGE');
  });
});

describe('mtls-oauth token --auth private_key_jwt (built CLI)', () => {
  let fx: IdpFixture;
  let signingKey: string;
  let keyDir: string;

  before(async () => {
    // The client's key exists before the IdP that registers it (and so before the fixture's home).
    keyDir = mkdtempSync(join(tmpdir(), 'e2e-token-jwt-key-'));
    signingKey = join(keyDir, 'signing.pem');
    fx = await idpFixture({ prefix: 'e2e-token-jwt-', clients: [jwtClient(signingKey)] });
  });
  after(async () => {
    await fx?.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  /** `token` as jwt-client with its signing key, without the issuer and the token cache. */
  const jwtArgs = () => [
    'token',
    '--client-id',
    'jwt-client',
    '--signing-key',
    signingKey,
    '--ca',
    fx.files.ca,
    '--no-cache',
  ];

  test('a client assertion signed with --signing-key: a token, twice (cold and warm code cache)', async () => {
    const args = [...jwtArgs(), '--issuer', fx.idp.issuer, '--json'];
    for (const round of [1, 2]) {
      const r = await fx.run(args);
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assertNoStack(r);
      const doc = jsonOf(r);
      assert.equal(doc.ok, true);
      assert.equal(doc.result.token_type, 'Bearer');
    }
  });

  test('--assertion-audience issuer works; without an issuer, or with a bad value, a usage error', async () => {
    const base = jwtArgs();
    const ok = await fx.run([...base, '--issuer', fx.idp.issuer, '--assertion-audience', 'issuer']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /✓ token for jwt-client \(private_key_jwt\)/);

    const noIssuer = await fx.run([
      ...base,
      '--token-endpoint',
      `${fx.idp.issuer}/token`,
      '--assertion-audience',
      'issuer',
    ]);
    assertCleanFailure(noIssuer, 2, /--assertion-audience issuer needs the issuer/);
    const bad = await fx.run([...base, '--issuer', fx.idp.issuer, '--assertion-audience', 'the idp']);
    assertCleanFailure(bad, 2, /"assertionAudience" must be "endpoint", "issuer" or an http\(s\) URL/);
  });
});
