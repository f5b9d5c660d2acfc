// `mtls-oauth login` as a person runs it, without a browser: the built CLI in a child process with
// --no-browser, and the test as the user agent (test/helpers/user-agent.ts) against the real
// oidc-provider IdP (test/helpers/idp.ts, with mtls_endpoint_aliases): it reads the URL the CLI
// prints on stderr, logs in and consents at the IdP, and follows the redirect to the loopback
// callback. Attacks and faults are played the same way: forged callbacks, a foreign Host, a wrong
// iss, the IdP's error response, no callback at all, Ctrl-C, a busy port, and ID tokens tampered
// with on the way out of the IdP.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import {
  assertCleanFailure,
  assertLoginAfterOneTurnedAway,
  assertNoStack,
  jsonOf,
  runCli,
} from '../helpers/cli.ts';
import { KONG_SUBJECT, type TestIdp } from '../helpers/idp.ts';
import { cachedEntry, type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import {
  callbackUrl,
  completeLogin,
  flowOf,
  getLoopback,
  startLogin as startUserAgentLogin,
} from '../helpers/user-agent.ts';

/** Not a speed assertion: a CLI that hangs is killed after this and the test fails. */
const HANG_GUARD_MS = 60_000;

const startLogin = (args: string[], env: NodeJS.ProcessEnv) => startUserAgentLogin(args, env, HANG_GUARD_MS);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

const tokenPosts = (idp: TestIdp) =>
  idp.requests.filter((q) => q.method === 'POST' && /\/token$/.test(q.path.split('?')[0]));

/** How the IdP's responses are tampered with (ID token tests); undefined: not at all. */
type Tamper = (body: Record<string, any>, path: string) => Promise<void> | void;

/** A redirect URI on localhost, as many IdPs register it (a fixed port: localhost gets no port leeway). */
const LOCALHOST_PORT = 20_000 + (process.pid % 20_000);
const LOCALHOST_REDIRECT = `http://localhost:${LOCALHOST_PORT}/callback`;

describe('login against the real IdP (oidc-provider with mtls_endpoint_aliases)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let tamper: Tamper | undefined;

  before(async () => {
    // Koa middleware in front of oidc-provider's routes: the ID token tests rewrite the token
    // response (and the JWKS) on their way out, as a broken or malicious IdP would send them.
    const rewrite = async (ctx: any, next: () => Promise<void>) => {
      await next();
      if (tamper && ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
        await tamper(ctx.body, ctx.path);
      }
    };
    // kong6: the kong client registered with the IPv6 loopback redirect URI, for --ipv6.
    const kong6 = {
      client_id: 'kong6',
      application_type: 'native',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: KONG_SUBJECT,
      tls_client_certificate_bound_access_tokens: true,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://[::1]/callback'],
      scope: 'openid',
    };
    fx = await idpFixture({
      aliases: true,
      middleware: [rewrite],
      clients: [kong6, { ...kong6, client_id: 'kong-localhost', redirect_uris: [LOCALHOST_REDIRECT] }],
      prefix: 'mtls-oauth-login-',
    });
    idp = fx.idp;
  });
  after(() => fx?.close());

  let runs = 0;
  /** A fresh cache directory per run. */
  function env(): { env: NodeJS.ProcessEnv; cacheDir: string } {
    const cacheDir = join(fx.home, `cache-${++runs}`);
    return { env: fx.env({ MTLS_OAUTH_CACHE_DIR: cacheDir }), cacheDir };
  }
  const args = (...extra: string[]) => ['login', '--no-browser', ...fx.args(), ...extra];
  const cached = (cacheDir: string) => cachedEntry(cacheDir, idp);

  test('the whole flow: logged in, code exchanged at the mTLS alias, ID token valid, token bound, cached', async () => {
    const { env: e, cacheDir } = env();
    const postsBefore = tokenPosts(idp).length;
    const run = startLogin(args(), e);
    const url = await run.url;

    // The URL is on stderr on a line of its own; nothing is on stdout yet.
    assert.ok(run.stderr().split('\n').includes(url));
    const authz = new URL(url);
    assert.equal(`${authz.origin}${authz.pathname}`, idp.endpoints.authorization);
    const q = authz.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'kong');
    assert.equal(q.get('scope'), 'openid');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('nonce')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const { redirect, response } = await completeLogin(idp, url, { login: 'alice' });
    assert.equal(response.status, 200);
    assert.match(response.body, /Login succeeded/);
    assert.equal(response.headers['referrer-policy'], 'no-referrer');
    assert.equal(redirect.searchParams.get('iss'), idp.issuer);

    // A reload: the flow is over. While the process lives the listener shows the outcome again
    // (and exchanges nothing: one token request below); after it, nothing listens.
    const again = await getLoopback(redirect).then(
      (r) => (/Login succeeded/.test(r.body) ? r.status : r.body),
      (err: NodeJS.ErrnoException) => err.code,
    );
    assert.ok(again === 200 || again === 'ECONNREFUSED' || again === 'ECONNRESET', String(again));

    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(r.stdout, new RegExp(`✓ logged in at ${idp.issuer.replace(/\./g, '\\.')} as alice`));
    assert.match(r.stdout, /subject +alice/);
    assert.match(r.stdout, /client +kong \(tls_client_auth\)/);
    assert.match(r.stdout, /scope +openid/);
    assert.match(r.stdout, /expires +\d{4}-\d\d-\d\dT.* \(in \d+m/);
    assert.match(r.stdout, /binding +bound to our certificate/);
    assert.match(r.stdout, new RegExp(`token endpoint +${idp.aliases!.token_endpoint} \\(mtls alias\\)`));
    for (const name of ['state', 'iss', 'pkce', 'id_token', 'binding']) {
      assert.match(r.stdout, new RegExp(`✓ ${name}: `), name);
    }
    assert.match(r.stdout, /tokens +access token, id token received \(not shown/);
    assert.match(r.stdout, new RegExp(`cached in +${join(cacheDir, 'tokens.json')}`));
    assert.match(r.stderr, /Authorization response received/);

    // The code was exchanged once, at the alias, with the client certificate.
    const posts = tokenPosts(idp).slice(postsBefore);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].listener, 'mtls');
    assert.ok(posts[0].clientCert && posts[0].authorized);

    // Cached (mode 0600), bound to our certificate, and never printed.
    const file = join(cacheDir, 'tokens.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const entry = cached(cacheDir);
    assert.equal(entry.grant_type, 'authorization_code');
    assert.equal(entry.x5t_s256, createHash('sha256').update(idp.pki.client.x509.raw).digest('base64url'));
    assert.ok(entry.access_token && entry.id_token);
    for (const secret of [entry.access_token, entry.id_token, redirect.searchParams.get('code')!]) {
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'no secret printed');
    }
    assert.deepEqual(idp.serverErrors, []);
  });

  test('without --no-browser the system browser gets the URL (twice: once from a warm code cache)', async (t) => {
    // `open` hands the URL to its xdg-open script, which honours $BROWSER; elsewhere it calls the
    // platform's own opener, which a test cannot stand in for.
    if (process.platform !== 'linux') return t.skip('open uses xdg-open (and so $BROWSER) only on Linux');
    const browser = join(fx.home, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > "$0.url"\n`, { mode: 0o755 });
    for (const round of [1, 2]) {
      rmSync(`${browser}.url`, { force: true });
      const run = startLogin(['login', ...fx.args()], { ...env().env, BROWSER: browser });
      const url = await run.url;
      let opened = '';
      for (let i = 0; i < 400 && !opened; i++) {
        await new Promise((r) => setTimeout(r, 50));
        opened = existsSync(`${browser}.url`) ? readFileSync(`${browser}.url`, 'utf8') : '';
      }
      assert.equal(opened, url, `round ${round}: the browser was given the authorization URL`);
      await completeLogin(idp, url, { login: 'alice' });
      const r = await run.done;
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /could not open a browser|warning/i);
    }
  });

  test('--json with offline_access: the envelope, the named checks, a refresh token cached', async () => {
    const { env: e, cacheDir } = env();
    const run = startLogin(
      args('--json', '--scope', 'openid offline_access', '--prompt', 'consent', '-p', 'ui_locales=en'),
      e,
    );
    const url = await run.url;
    const q = new URL(url).searchParams;
    assert.equal(q.get('prompt'), 'consent');
    assert.equal(q.get('ui_locales'), 'en');
    await completeLogin(idp, url, { login: 'bob' });
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    assert.equal(j.command, 'login');
    const status = Object.fromEntries(j.checks.map((c) => [c.name, c.status]));
    for (const name of ['state', 'iss', 'pkce', 'id_token', 'binding'])
      assert.equal(status[name], 'pass', name);
    assert.equal(j.result.user.sub, 'bob');
    assert.equal(j.result.issuer, idp.issuer);
    assert.equal(j.result.redirect_uri, q.get('redirect_uri'));
    assert.deepEqual(j.result.token_endpoint, { url: idp.aliases!.token_endpoint, via: 'mtls alias' });
    assert.equal(j.result.id_token.valid, true);
    assert.equal(j.result.id_token.claims.sub, 'bob');
    assert.ok(j.result.id_token.checks.some((c: any) => c.name === 'nonce' && c.status === 'pass'));
    assert.equal(j.result.binding.status, 'pass');
    assert.equal(j.result.binding.source, 'introspection');
    assert.equal(j.result.rejected_callbacks, 0);
    assert.ok(j.result.token.refresh_token, 'a refresh token with offline_access');
    assert.ok(Array.isArray(j.tls) && j.tls.some((c: any) => c.withClientCert));
    const entry = cached(cacheDir);
    // Without --show-secrets the tokens are fingerprints of the cached ones.
    const fp = (t: string) =>
      `sha256:${createHash('sha256').update(t).digest('hex').slice(0, 8)}…(${t.length} chars)`;
    assert.equal(j.result.token.refresh_token, fp(entry.refresh_token));
    assert.equal(j.result.token.access_token, fp(entry.access_token));
    assert.equal(j.result.token.id_token, fp(entry.id_token));
    assert.equal(j.result.cached_in, join(cacheDir, 'tokens.json'));
  });

  test('--print header: only the Authorization line on stdout, the cached access token in full', async () => {
    const { env: e, cacheDir } = env();
    const run = startLogin(args('--print', 'header'), e);
    await completeLogin(idp, await run.url, { login: 'alice' });
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Authorization: Bearer ${cached(cacheDir).access_token}\n`);
  });

  test('a wrong state is turned away and the wait goes on: the right state then succeeds', async () => {
    const run = startLogin(args('--json'), env().env);
    const url = await run.url;
    const postsBefore = tokenPosts(idp).length;
    const redirect = new URL(await idp.authorize(url));
    // The real code with a wrong state first: turned away, never exchanged.
    const wrong = new URL(redirect);
    wrong.searchParams.set('state', 'A'.repeat(43));
    const turnedAway = await getLoopback(wrong);
    assert.equal(turnedAway.status, 400);
    assert.match(turnedAway.body, /does not match/);
    const right = await getLoopback(redirect);
    assert.equal(right.status, 200);
    assertLoginAfterOneTurnedAway(
      await run.done,
      /ignored a request to the callback \(HTTP 400\): state does not match; still waiting/,
    );
    assert.equal(tokenPosts(idp).length - postsBefore, 1, 'one code exchange');
  });

  /** Sends one request the listener must turn away, then logs in for real: the login still succeeds. */
  async function turnedAwayThenSuccess(
    send: (authorizationUrl: string) => Promise<{ status: number; body: string }>,
    status: number,
    reason: RegExp,
  ) {
    const run = startLogin(args('--json'), env().env);
    const url = await run.url;
    const postsBefore = tokenPosts(idp).length;
    const away = await send(url);
    assert.equal(away.status, status);
    const { response } = await completeLogin(idp, url);
    assert.equal(response.status, 200);
    assertLoginAfterOneTurnedAway(await run.done, reason);
    assert.equal(tokenPosts(idp).length - postsBefore, 1, 'one code exchange');
    return away;
  }

  test('a callback without state is turned away (400) and the wait goes on', async () => {
    const page = await turnedAwayThenSuccess(
      (url) => getLoopback(callbackUrl(url, { state: undefined, code: 'forged-code' })),
      400,
      /ignored a request to the callback \(HTTP 400\): no state; still waiting/,
    );
    assert.match(page.body, /carries no state parameter/);
  });

  test('/favicon.ico during the wait gets 404 and the wait goes on', async () => {
    await turnedAwayThenSuccess(
      (url) => getLoopback(new URL('/favicon.ico', flowOf(url).redirectUri)),
      404,
      /ignored a request to the callback \(HTTP 404\): no such path \/favicon\.ico; still waiting/,
    );
  });

  test('a foreign Host header gets 403 (DNS rebinding) and the wait goes on', async () => {
    await turnedAwayThenSuccess(
      (url) => getLoopback(callbackUrl(url, { code: 'x' }), { host: 'attacker.example' }),
      403,
      /ignored a request to the callback \(HTTP 403\): Host header "attacker\.example" is not this loopback listener; still waiting/,
    );
  });

  test('a wrong iss with the right state ends the flow (exit 1, ISS_MISMATCH) and the code is never exchanged', async () => {
    const { env: e, cacheDir } = env();
    const run = startLogin(args('--json'), e);
    const url = await run.url;
    const postsBefore = tokenPosts(idp).length;
    const { response } = await completeLogin(idp, url, {
      tamper: (redirect) => {
        redirect.searchParams.set('iss', 'https://idp.attacker.example');
        return undefined;
      },
    });
    assert.equal(response.status, 400);
    assert.match(response.body, /unexpected issuer/);
    const r = await run.done;
    assert.equal(r.code, 1, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, false);
    assert.equal(j.error!.code, 'ISS_MISMATCH');
    assert.match(
      j.error!.message,
      /not https:\/\/127\.0\.0\.1:\d+ \(RFC 9207 mix-up defence\); the code was not exchanged/,
    );
    assert.equal(j.checks.find((c) => c.name === 'iss')!.status, 'fail');
    assert.equal(j.checks.find((c) => c.name === 'state')!.status, 'pass');
    assert.equal(tokenPosts(idp).length, postsBefore, 'no code exchange');
    assert.equal(existsSync(join(cacheDir, 'tokens.json')), false);
  });

  test("the user declines at the IdP: exit 4 with the IdP's description", async () => {
    const run = startLogin(args(), env().env);
    const url = await run.url;
    const { response } = await completeLogin(idp, url, { deny: true });
    assert.equal(response.status, 400);
    assert.match(response.body, /access_denied/);
    const r = await run.done;
    assertCleanFailure(
      r,
      4,
      /error: the IdP answered the authorization request with access_denied: End-User aborted interaction\nhint: .*approve/,
    );
    assert.equal(r.stdout, '');
  });

  test('--prompt none without a session at the IdP: its login_required error, exit 4 with a hint', async () => {
    const run = startLogin(args('--json', '--prompt', 'none'), env().env);
    const url = await run.url;
    const { redirect, response } = await completeLogin(idp, url);
    assert.equal(redirect.searchParams.get('error'), 'login_required');
    assert.equal(response.status, 400);
    const r = await run.done;
    assert.equal(r.code, 4, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.error!.code, 'AUTHORIZATION_ERROR');
    assert.equal(j.error!.details.error, 'login_required');
    assert.match(j.error!.hint!, /drop --prompt none/);
  });

  test('HTML and control characters in error_description are shown as text, never interpreted', async () => {
    const run = startLogin(args(), env().env);
    const url = await run.url;
    const description = '<script>alert(1)</script><b>no</b>\u001b[2J\u0007';
    const page = await getLoopback(
      callbackUrl(url, { error: 'access_denied', error_description: description, iss: idp.issuer }),
    );
    assert.equal(page.status, 400);
    assert.doesNotMatch(page.body, /<script>alert|<b>no/);
    assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;b&gt;no&lt;\/b&gt;/);
    const r = await run.done;
    assertCleanFailure(r, 4, /access_denied: <script>alert\(1\)<\/script><b>no<\/b>/);
    assert.ok(!r.stderr.includes('\u001b') && !r.stderr.includes('\u0007'), 'control characters stripped');
  });

  test('--redirect-uri on localhost: warned about (RFC 8252 §8.3), sent verbatim, and the login works', async () => {
    const run = startLogin(
      args('--client-id', 'kong-localhost', '--redirect-uri', LOCALHOST_REDIRECT, '--json'),
      env().env,
    );
    const url = await run.url;
    assert.equal(new URL(url).searchParams.get('redirect_uri'), LOCALHOST_REDIRECT);
    assert.match(run.stderr(), /warning: --redirect-uri uses "localhost".*RFC 8252 §8\.3/);
    const { response } = await completeLogin(idp, url);
    assert.equal(response.status, 200);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonOf(r).ok, true);
  });

  test('no callback within --wait: exit 5, and the port is free afterwards', async () => {
    const run = startLogin(args('--wait', '1'), env().env);
    const url = await run.url;
    const port = Number(new URL(flowOf(url).redirectUri).port);
    const r = await run.done;
    assertCleanFailure(
      r,
      5,
      /error: no authorization response reached http:\/\/127\.0\.0\.1:\d+\/callback within 1 s/,
    );
    const s = await listenOn(port);
    await closeServer(s);
  });

  test('Ctrl-C while waiting: the listener closes and the process exits 130', async () => {
    const run = startLogin(args(), env().env);
    const url = await run.url;
    const port = Number(new URL(flowOf(url).redirectUri).port);
    run.child()!.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.signal, null, 'ended by itself, not killed by the hang guard');
    assertCleanFailure(r, 130, /interrupted/);
    const s = await listenOn(port);
    await closeServer(s);
  });

  test('a busy fixed --port: exit 2 with a clear message, no fallback to another port', async () => {
    const busy = await listenOn(await freePort());
    try {
      const port = (busy.address() as { port: number }).port;
      const r = await runCli(args('--port', String(port)), { env: env().env, timeoutMs: HANG_GUARD_MS });
      assertCleanFailure(r, 2, new RegExp(`port ${port} is already in use on 127\\.0\\.0\\.1`));
      assert.match(r.stderr, /never falls back to another port/);
      assert.equal(r.stderr.includes('/auth?'), false, 'no authorization URL printed');
    } finally {
      await closeServer(busy);
    }
  });

  test('--redirect-uri: that exact URI in the authorization and the token request', async () => {
    const port = await freePort();
    const exact = `http://127.0.0.1:${port}/callback`;
    const run = startLogin(args('--json', '--redirect-uri', exact), env().env);
    const url = await run.url;
    assert.equal(new URL(url).searchParams.get('redirect_uri'), exact);
    await completeLogin(idp, url);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonOf(r).result.redirect_uri, exact);
  });

  test('--ipv6: the callback listens on [::1] and the login succeeds', async (t) => {
    if (!(await ipv6Loopback())) return t.skip('this machine has no IPv6 loopback');
    const run = startLogin(args('--json', '--ipv6', '--client-id', 'kong6'), env().env);
    const url = await run.url;
    assert.match(new URL(url).searchParams.get('redirect_uri')!, /^http:\/\/\[::1\]:\d+\/callback$/);
    const { response } = await completeLogin(idp, url);
    assert.equal(response.status, 200);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.result.client_id, 'kong6');
    assert.equal(j.checks.find((c) => c.name === 'binding')!.status, 'pass');
  });

  // ID tokens that fail validation, made by rewriting the IdP's token response on its way out.

  /** Runs a login while `t` rewrites the IdP's responses; expects exit 1 and the id_token check failed. */
  async function loginWithTamperedIdToken(t: Tamper) {
    const { env: e, cacheDir } = env();
    tamper = t;
    try {
      const run = startLogin(args('--json'), e);
      const url = await run.url;
      const { response } = await completeLogin(idp, url);
      // The page waited for the ID token check, and says it failed.
      assert.match(response.body, /Login failed/);
      assert.match(response.body, /the ID token validation failed/);
      assert.match(response.body, /<dt>code<\/dt><dd>ID_TOKEN_INVALID<\/dd>/);
      const r = await run.done;
      assert.equal(r.code, 1, r.stderr);
      assertNoStack(r);
      const j = jsonOf(r);
      assert.equal(j.ok, false);
      assert.equal(j.error!.code, 'ID_TOKEN_INVALID');
      assert.match(j.error!.message, /the tokens were not cached/);
      assert.equal(j.checks.find((c) => c.name === 'id_token')!.status, 'fail');
      assert.equal(j.result.id_token.valid, false);
      assert.equal(existsSync(join(cacheDir, 'tokens.json')), false, 'nothing cached');
      return j;
    } finally {
      tamper = undefined;
    }
  }

  const parts = (jwt: string) => jwt.split('.');
  const b64json = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payloadOf = (jwt: string) => JSON.parse(Buffer.from(parts(jwt)[1], 'base64url').toString());

  test('an ID token with a bad signature (claims changed after signing) fails: exit 1, not cached', async () => {
    const j = await loginWithTamperedIdToken((body, path) => {
      if (path !== '/token' || typeof body.id_token !== 'string') return;
      const [h, , sig] = parts(body.id_token);
      body.id_token = `${h}.${b64json({ ...payloadOf(body.id_token), sub: 'mallory' })}.${sig}`;
    });
    const detailed = j.result.id_token.checks;
    assert.equal(detailed.find((c: any) => c.name === 'signature').status, 'fail');
    assert.match(j.error!.message, /signature: the signature does not verify/);
  });

  test('an unsigned ID token (alg none) fails: exit 1, not cached', async () => {
    const j = await loginWithTamperedIdToken((body, path) => {
      if (path !== '/token' || typeof body.id_token !== 'string') return;
      body.id_token = `${b64json({ alg: 'none', typ: 'JWT' })}.${parts(body.id_token)[1]}.`;
    });
    assert.match(j.error!.message, /alg: alg "none": an unsigned token is never accepted/);
  });

  test('an ID token properly signed but with another nonce and audience fails: exit 1, not cached', async () => {
    // The IdP's keys are replaced by ours in its JWKS, and the ID token re-signed with them, so only
    // the claims are wrong.
    const { privateKey, publicKey } = newKeyPairSync('rsa', { modulusLength: 2048 });
    const j = await loginWithTamperedIdToken(async (body, path) => {
      if (path === '/jwks') {
        body.keys = [{ ...publicKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' }];
      }
      if (path === '/token' && typeof body.id_token === 'string') {
        const claims = payloadOf(body.id_token);
        body.id_token = await new SignJWT({ ...claims, nonce: 'replayed-nonce', aud: 'someone-else' })
          .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256' })
          .sign(privateKey);
      }
    });
    const detailed = Object.fromEntries(j.result.id_token.checks.map((c: any) => [c.name, c.status]));
    assert.equal(detailed.signature, 'pass');
    assert.equal(detailed.nonce, 'fail');
    assert.equal(detailed.aud, 'fail');
  });

  /** Replaces the IdP's keys with ours and re-signs its ID token with `change` applied to the claims. */
  function resign(change: (claims: Record<string, any>) => Record<string, any>): Tamper {
    const { privateKey, publicKey } = newKeyPairSync('rsa', { modulusLength: 2048 });
    return async (body, path) => {
      if (path === '/jwks') {
        body.keys = [{ ...publicKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' }];
      }
      if (path === '/token' && typeof body.id_token === 'string') {
        body.id_token = await new SignJWT(change(payloadOf(body.id_token)))
          .setProtectedHeader({ alg: 'RS256', kid: 'test-rs256' })
          .sign(privateKey);
      }
    };
  }

  test('an ID token with an audience the client does not trust fails, even with azp; --trusted-audience admits it', async () => {
    const extraAudience = resign((claims) => ({
      ...claims,
      aud: [claims.aud, 'https://api.other.example'],
      azp: claims.aud,
    }));
    const j = await loginWithTamperedIdToken(extraAudience);
    assert.equal(j.result.id_token.checks.find((c: any) => c.name === 'aud').status, 'fail');
    assert.match(j.error!.message, /https:\/\/api\.other\.example/);

    const { env: e, cacheDir } = env();
    tamper = extraAudience;
    try {
      const run = startLogin(args('--json', '--trusted-audience', 'https://api.other.example'), e);
      const { response } = await completeLogin(idp, await run.url);
      assert.match(response.body, /Login succeeded/);
      const r = await run.done;
      assert.equal(r.code, 0, r.stderr);
      const ok = jsonOf(r);
      assert.equal(ok.result.id_token.checks.find((c: any) => c.name === 'aud').status, 'pass');
      assert.ok(existsSync(join(cacheDir, 'tokens.json')), 'cached');
    } finally {
      tamper = undefined;
    }
  });

  test('an ID token whose exp is 1e308 fails: a time claim must be a date between 2000 and 2200', async () => {
    const j = await loginWithTamperedIdToken(resign((claims) => ({ ...claims, exp: 1e308 })));
    assert.equal(j.result.id_token.checks.find((c: any) => c.name === 'exp').status, 'fail');
  });
});

describe('login: bad flags fail before anything is sent (exit 2)', () => {
  const base = ['login', '--no-browser', '--client-id', 'kong'];
  const cases: Array<[string, string[], RegExp]> = [
    ['no issuer', [], /login needs the issuer: pass --issuer URL/],
    [
      '--redirect-uri on a non-loopback host',
      ['--issuer', 'https://idp.invalid', '--redirect-uri', 'http://example.com:8765/callback'],
      /listens on 127\.0\.0\.1 or ::1 only, not "example\.com"/,
    ],
    [
      '--redirect-uri with https',
      ['--issuer', 'https://idp.invalid', '--redirect-uri', 'https://127.0.0.1:8765/callback'],
      /must use http/,
    ],
    [
      '--port that disagrees with --redirect-uri',
      ['--issuer', 'https://idp.invalid', '--redirect-uri', 'http://127.0.0.1:8765/cb', '--port', '9000'],
      /--port 9000 disagrees with --redirect-uri/,
    ],
    ['-p state=...', ['--issuer', 'https://idp.invalid', '-p', 'state=mine'], /refusing to override "state"/],
    ['--wait 0', ['--issuer', 'https://idp.invalid', '--wait', '0'], /--wait "0" is not a number of seconds/],
    [
      '--timeout is per request, as in every command',
      ['--issuer', 'https://idp.invalid', '--timeout', 'soon'],
      /timeout/,
    ],
    [
      '--request-timeout is gone: --timeout is per request',
      ['--issuer', 'https://idp.invalid', '--request-timeout', '5'],
      /unknown option '--request-timeout'/,
    ],
    ['--port abc', ['--issuer', 'https://idp.invalid', '--port', 'abc'], /--port "abc" is not a port number/],
  ];
  for (const [name, extra, message] of cases) {
    test(name, async () => {
      const r = await runCli([...base, ...extra], { timeoutMs: HANG_GUARD_MS });
      assertCleanFailure(r, 2, message);
    });
  }
});
