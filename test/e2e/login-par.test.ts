// `mtls-oauth login` with pushed authorization requests (RFC 9126) against the real oidc-provider
// IdP: the built CLI with --no-browser, the test as the user agent (test/helpers/user-agent.ts),
// which records the URL the browser is sent to.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf, runCli } from '../helpers/cli.ts';
import type { TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { completeLogin, startLogin } from '../helpers/user-agent.ts';

/** Not a speed assertion: a CLI that hangs is killed after this and the test fails. */
const HANG_GUARD_MS = 60_000;

const parPosts = (idp: TestIdp) =>
  idp.requests.filter((q) => q.method === 'POST' && q.path.split('?')[0].endsWith('/request'));

/** Runs `login ARGS` to the end as alice; returns the URL the browser was sent to and the run. */
async function loginThroughBrowser(fx: IdpFixture, extra: string[]) {
  const run = startLogin(
    ['login', '--no-browser', '--json', ...fx.args(), ...extra],
    fx.env(),
    HANG_GUARD_MS,
  );
  const url = new URL(await run.url);
  const { response } = await completeLogin(fx.idp, url.href, { login: 'alice' });
  const r = await run.done;
  return { url, response, r };
}

/** The browser's URL carries client_id and request_uri and nothing else of the request. */
function assertOnlyRequestUri(url: URL, idp: TestIdp): void {
  assert.equal(`${url.origin}${url.pathname}`, idp.endpoints.authorization);
  assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
  assert.equal(url.searchParams.get('client_id'), 'kong');
  assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/);
}

describe('login --par against the real IdP with mtls_endpoint_aliases', () => {
  let fx: IdpFixture;
  /** How the IdP's answers are changed on their way out (a broken IdP); undefined: not at all. */
  let rewrite: ((body: Record<string, any>, path: string) => void) | undefined;
  before(async () => {
    const middleware = async (ctx: any, next: () => Promise<void>) => {
      await next();
      if (rewrite && ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) {
        rewrite(ctx.body, ctx.path);
      }
    };
    fx = await idpFixture({ aliases: true, middleware: [middleware], prefix: 'mtls-oauth-par-' });
  });
  after(() => fx?.close());

  test('the request is pushed to the mTLS alias of the PAR endpoint; the browser gets only client_id and request_uri', async () => {
    const before = parPosts(fx.idp).length;
    const { url, response, r } = await loginThroughBrowser(fx, ['--par']);
    assertOnlyRequestUri(url, fx.idp);
    assert.equal(response.status, 200);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    const par = j.checks.find((c) => c.name === 'par');
    assert.equal(par?.status, 'pass');
    assert.match(par!.detail!, /mtls alias.*asked/);
    assert.equal(j.result.par.endpoint.url, fx.idp.aliases!.pushed_authorization_request_endpoint);
    assert.equal(j.result.par.request_uri, url.searchParams.get('request_uri'));
    assert.equal(j.checks.find((c) => c.name === 'binding')?.status, 'pass');
    // Pushed once, over the mTLS listener, with the client certificate.
    const posts = parPosts(fx.idp).slice(before);
    assert.equal(posts.length, 1);
    assert.equal(posts[0].listener, 'mtls');
    assert.ok(posts[0].clientCert && posts[0].authorized);
  });

  test('without --par the request goes through the browser and the par check says why', async () => {
    const { url, r } = await loginThroughBrowser(fx, []);
    assert.ok(url.searchParams.has('state') && url.searchParams.has('code_challenge'));
    assert.equal(r.code, 0, r.stderr);
    const par = jsonOf(r).checks.find((c) => c.name === 'par');
    assert.equal(par?.status, 'skip');
    assert.match(par!.detail!, /offers PAR without requiring it/);
  });

  test('a PAR error (an unregistered redirect_uri) is explained like a token error: exit 4 and a hint', async () => {
    const r = await runCli(
      ['login', '--no-browser', '--par', '--redirect-uri', 'http://127.0.0.1:49152/elsewhere', ...fx.args()],
      { env: fx.env(), timeoutMs: HANG_GUARD_MS },
    );
    assertCleanFailure(
      r,
      4,
      /pushed authorization request failed: invalid_request: redirect_uri did not match/,
    );
    assert.match(r.stderr, /register the loopback URI/);
    // Nothing was handed to the browser.
    assert.doesNotMatch(r.stderr, /request_uri=/);
    const j = await runCli(
      [
        'login',
        '--no-browser',
        '--json',
        '--par',
        '--redirect-uri',
        'http://127.0.0.1:49152/elsewhere',
        ...fx.args(),
      ],
      { env: fx.env(), timeoutMs: HANG_GUARD_MS },
    );
    assert.equal(jsonOf(j).error?.code, 'OAUTH_INVALID_REQUEST');
    assertNoStack(j);
  });

  test('--par at an IdP without a PAR endpoint: PAR_UNAVAILABLE, exit 2, before any request', async () => {
    const before = parPosts(fx.idp).length;
    rewrite = (body, path) => {
      if (!path.endsWith('/.well-known/openid-configuration')) return;
      delete body.pushed_authorization_request_endpoint;
      // A copy: the aliases object is the IdP's configuration itself.
      const { pushed_authorization_request_endpoint: _, ...aliases } = body.mtls_endpoint_aliases;
      body.mtls_endpoint_aliases = aliases;
    };
    try {
      const r = await runCli(['login', '--no-browser', '--json', '--par', ...fx.args()], {
        env: fx.env(),
        timeoutMs: HANG_GUARD_MS,
      });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(jsonOf(r).error?.code, 'PAR_UNAVAILABLE');
      assert.match(jsonOf(r).error!.message, /no pushed_authorization_request_endpoint/);
    } finally {
      rewrite = undefined;
    }
    assert.equal(parPosts(fx.idp).length, before);
  });

  test('a PAR response without request_uri: BAD_PAR_RESPONSE, exit 4', async () => {
    rewrite = (body, path) => {
      if (path.endsWith('/request')) delete body.request_uri;
    };
    try {
      const r = await runCli(['login', '--no-browser', '--par', ...fx.args()], {
        env: fx.env(),
        timeoutMs: HANG_GUARD_MS,
      });
      assertCleanFailure(r, 4, /pushed authorization request: the response has no request_uri/);
    } finally {
      rewrite = undefined;
    }
  });

  test('--par with --device is refused (exit 2)', async () => {
    const r = await runCli(['login', '--device', '--par', ...fx.args()], { env: fx.env() });
    assertCleanFailure(r, 2, /--par belong to the browser login/);
  });
});

describe('login against an IdP that requires PAR (require_pushed_authorization_requests)', () => {
  let fx: IdpFixture;
  before(async () => {
    fx = await idpFixture({ requirePar: true, prefix: 'mtls-oauth-par-required-' });
  });
  after(() => fx?.close());

  test('PAR is used by default, at the plain endpoint (no aliases), with the client certificate', async () => {
    const { url, r } = await loginThroughBrowser(fx, []);
    assertOnlyRequestUri(url, fx.idp);
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    const par = j.checks.find((c) => c.name === 'par');
    assert.equal(par?.status, 'pass');
    assert.match(par!.detail!, /required by the IdP/);
    assert.equal(j.result.par.endpoint.url, fx.idp.endpoints.par);
    assert.equal(j.result.par.reason, 'required by the IdP');
  });
});
