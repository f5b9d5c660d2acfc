// `login --paste`: no listener; the test IdP's login and consent are driven by the scripted user
// agent (idp.authorize), and the final redirect URL it ends on is pasted on the CLI's stdin. The
// pasted URL is judged as a callback is: a forged state, the IdP's error response and a URL that is
// not a response at all each end the login before any code is exchanged.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, type CliResult, jsonOf, runCli } from '../helpers/cli.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { watchForAuthorizationUrl } from '../helpers/user-agent.ts';

describe('login --paste', () => {
  let fx: IdpFixture;
  before(async () => {
    fx = await idpFixture({ prefix: 'e2e-login-paste-' });
  });
  after(() => fx?.close());

  const tokenPosts = () =>
    fx.idp.requests.filter((q) => q.method === 'POST' && /\/token$/.test(q.path)).length;

  /** Runs login --paste; `paste` turns the authorization URL into what is typed on stdin. */
  async function pasteLogin(
    paste: (url: string) => Promise<string>,
    extra: string[] = [],
  ): Promise<CliResult> {
    const watcher = watchForAuthorizationUrl();
    let child: ChildProcess | undefined;
    const done = runCli(['login', '--paste', ...fx.args(), '--no-cache', ...extra], {
      env: fx.env(),
      cwd: fx.home,
      keepStdinOpen: true,
      timeoutMs: 60_000,
      onStderr: (chunk, c) => {
        child = c;
        watcher.feed(chunk);
      },
    });
    done.then((r) => watcher.fail(new Error(`the CLI ended (exit ${r.code}) without a URL:\n${r.stderr}`)));
    const url = await watcher.url;
    child?.stdin?.end(`${await paste(url)}\n`);
    return done;
  }

  test('the final redirect URL pasted back: logged in, state and iss checked, the code exchanged over mTLS', async () => {
    let redirect = '';
    const r = await pasteLogin(async (url) => {
      assert.equal(new URL(url).searchParams.get('redirect_uri'), 'http://127.0.0.1/callback');
      redirect = await fx.idp.authorize(url);
      return redirect;
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /paste that whole address here/);
    assert.ok(redirect.startsWith('http://127.0.0.1/callback?'), redirect);
    assert.match(r.stdout, /✓ logged in at \S+ as alice/);
    assert.match(r.stdout, /✓ state: matches the state sent/);
    assert.match(r.stdout, /✓ binding/);
    // The code is never echoed.
    const code = new URL(redirect).searchParams.get('code')!;
    assert.ok(!r.stdout.includes(code) && !r.stderr.includes(code));
  });

  test('--json: the same flow, one document on stdout', async () => {
    const r = await pasteLogin((url) => fx.idp.authorize(url), ['--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = jsonOf(r);
    assert.equal(out.ok, true);
    assert.equal((out.result as { redirect_uri: string }).redirect_uri, 'http://127.0.0.1/callback');
  });

  test('a forged state: refused (exit 1, CALLBACK_INVALID), no code exchanged', async () => {
    const posts = tokenPosts();
    const r = await pasteLogin(
      async (url) => {
        const u = new URL(await fx.idp.authorize(url));
        u.searchParams.set('state', 'forged-state-forged-state-forged-state-0000');
        return u.href;
      },
      ['--json'],
    );
    assert.equal(r.code, 1, r.stderr);
    const out = jsonOf(r);
    assert.equal(out.error?.code, 'CALLBACK_INVALID');
    assert.match(out.error?.message ?? '', /state does not match/);
    assert.equal(tokenPosts(), posts);
  });

  test("the IdP's error redirect (the user declined): exit 4, AUTHORIZATION_ERROR access_denied", async () => {
    const posts = tokenPosts();
    const r = await pasteLogin((url) => fx.idp.authorize(url, { deny: true }));
    assertCleanFailure(r, 4, /the IdP answered the authorization request with access_denied/);
    assert.equal(tokenPosts(), posts);
  });

  test('a wrong iss with the right state: ISS_MISMATCH (exit 1)', async () => {
    const r = await pasteLogin(async (url) => {
      const u = new URL(await fx.idp.authorize(url));
      u.searchParams.set('iss', 'https://evil.example');
      return u.href;
    });
    assertCleanFailure(r, 1, /comes from issuer "https:\/\/evil\.example"/);
  });

  test('not a URL, another address, or nothing: a usage error (exit 2, PASTE_INVALID)', async () => {
    for (const text of ['hello', 'https://127.0.0.1/elsewhere?code=x&state=y', '']) {
      const r = await pasteLogin(async () => text, ['--json']);
      assert.equal(r.code, 2, `${text}: ${r.stderr}`);
      assert.equal(jsonOf(r).error?.code, 'PASTE_INVALID');
    }
  });
});
