// `mtls-oauth login` with a real browser: headless Chromium (Debian's `chromium` package, driven by
// puppeteer-core, which downloads nothing) goes through the test IdP's login and consent pages
// (test/helpers/idp.ts) to the loopback callback of the built CLI, which runs with --no-browser and
// prints the URL the browser is sent to. Each case asserts on the text of the page the browser shows
// and on the CLI's exit code, and keeps screenshots of the pages in test-artifacts/browser/.
//
// The browser trusts the IdP's test certificate by its public key only
// (--ignore-certificate-errors-spki-list), not every certificate. .ci/run installs Chromium; where
// there is none the suite is skipped and says so (MTLS_OAUTH_TEST_CHROMIUM names another binary).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { assertLoginAfterOneTurnedAway, assertNoStack, jsonOf } from '../helpers/cli.ts';
import type { TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { callbackUrl, startLogin } from '../helpers/user-agent.ts';

/** MTLS_OAUTH_TEST_CHROMIUM, else `chromium` on PATH (Debian's /usr/bin/chromium). */
function findChromium(): string | undefined {
  if (process.env.MTLS_OAUTH_TEST_CHROMIUM) return process.env.MTLS_OAUTH_TEST_CHROMIUM;
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'chromium'))
    .find((file) => existsSync(file));
}

const CHROMIUM = findChromium();
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/browser/', import.meta.url));
/** Not a speed assertion: a CLI or a page that hangs fails the test after this. */
const HANG_GUARD_MS = 60_000;
const NAVIGATION_GUARD_MS = 30_000;

const noChromium =
  CHROMIUM && existsSync(CHROMIUM)
    ? false
    : `no Chromium (${CHROMIUM ?? 'none on PATH'}): install Debian's chromium package (.ci/run does), or point MTLS_OAUTH_TEST_CHROMIUM at one`;

/** The base64 SHA-256 of the certificate's SubjectPublicKeyInfo, as Chromium's SPKI allow list wants it. */
function spkiHash(idp: TestIdp): string {
  const spki = idp.pki.server.x509.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

describe('login in a real browser (headless Chromium)', { skip: noChromium }, () => {
  let fx: IdpFixture;
  let browser: Browser;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    fx = await idpFixture({ aliases: true, prefix: 'mtls-oauth-browser-' });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        // Chromium's sandbox refuses to run as root (CI runs as root).
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        `--ignore-certificate-errors-spki-list=${spkiHash(fx.idp)}`,
        '--no-first-run',
        '--disable-background-networking',
      ],
      timeout: NAVIGATION_GUARD_MS,
    });
  });
  after(async () => {
    await browser?.close();
    await fx?.close();
  });

  let runs = 0;
  /** A fresh cache directory per run. */
  const env = () => fx.env({ MTLS_OAUTH_CACHE_DIR: join(fx.home, `cache-${++runs}`) });
  const login = (extra: string[] = [], who: 'client' | 'other' = 'client') =>
    startLogin(['login', '--no-browser', ...fx.args('kong', who), ...extra], env(), HANG_GUARD_MS);

  /** A browser profile of its own (no IdP session left from another case), closed after `use`. */
  async function withPage<T>(use: (page: Page) => Promise<T>): Promise<T> {
    const context: BrowserContext = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(NAVIGATION_GUARD_MS);
      return await use(page);
    } finally {
      await context.close();
    }
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`) as `${string}.png`, fullPage: true });

  /** Clicks and waits for the navigation it starts (the redirects end on the next page). */
  async function navigate(page: Page, selector: string): Promise<void> {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  }

  /** The visible text of the page: what a person reads. */
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text (innerText) is what a person reads
  const text = (page: Page) => page.evaluate(() => document.body.innerText);

  /**
   * The person at the browser: the authorization URL, the IdP's login form, its consent page
   * (Continue, or Cancel to deny). Resolves on the page the loopback callback answers.
   */
  async function logInAndConsent(page: Page, url: string, name: string, deny = false): Promise<void> {
    await page.goto(url);
    assert.ok(await page.$('input[name="login"]'), `the IdP's login form: ${await text(page)}`);
    await shot(page, `${name}-1-idp-login`);
    await page.type('input[name="login"]', 'alice');
    await page.type('input[name="password"]', 'any password');
    await navigate(page, 'button[type="submit"]');
    assert.ok(await page.$('input[name="prompt"][value="consent"]'), `the consent page: ${await text(page)}`);
    await shot(page, `${name}-2-idp-consent`);
    await navigate(page, deny ? 'a[href$="/abort"]' : 'button[type="submit"]');
    assert.equal(new URL(page.url()).hostname, '127.0.0.1', 'on the loopback callback');
    assert.match(new URL(page.url()).pathname, /^\/callback$/);
    await shot(page, `${name}-3-callback`);
  }

  test('success: the page says so once the code is exchanged; the CLI exits 0', async () => {
    const run = login(['--json']);
    const url = await run.url;
    await withPage(async (page) => {
      await logInAndConsent(page, url, 'success');
      const shown = await text(page);
      assert.match(shown, /✓ Login succeeded/);
      assert.match(shown, /The code was exchanged and the tokens passed their checks/);
      assert.equal(await page.title(), 'mtls-oauth: Login succeeded');
      const code = new URL(page.url()).searchParams.get('code');
      assert.ok(code && !shown.includes(code), 'the page never shows the code');
    });
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    assert.equal(j.result.user.sub, 'alice');
    assert.equal(j.result.rejected_callbacks, 0);
  });

  test('denied consent: the page shows access_denied; the CLI exits 4', async () => {
    const run = login();
    const url = await run.url;
    await withPage(async (page) => {
      await logInAndConsent(page, url, 'denied', true);
      const shown = await text(page);
      assert.match(shown, /✗ Login failed/);
      assert.match(shown, /access_denied/);
      assert.match(shown, /End-User aborted interaction/);
      assert.doesNotMatch(shown, /succeeded/);
    });
    const r = await run.done;
    assert.equal(r.code, 4, r.stderr);
    assertNoStack(r);
    assert.match(r.stderr, /error: the IdP answered the authorization request with access_denied/);
  });

  test('a forged state is refused and the wait goes on: the real login then succeeds (exit 0)', async () => {
    const run = login(['--json']);
    const url = await run.url;
    await withPage(async (page) => {
      // An attacker's link to the callback, with their own code and a state of their making.
      const forged = callbackUrl(url, { state: 'A'.repeat(43), code: 'attacker-code', iss: fx.idp.issuer });
      const response = await page.goto(forged.href);
      assert.equal(response?.status(), 400);
      const refused = await text(page);
      assert.match(refused, /Not the response mtls-oauth is waiting for/);
      assert.match(refused, /does not match the login in progress/);
      assert.match(refused, /still waiting/);
      assert.ok(!refused.includes('attacker-code'));
      await shot(page, 'forged-state-0-refused');
      await logInAndConsent(page, url, 'forged-state');
      assert.match(await text(page), /✓ Login succeeded/);
    });
    assertLoginAfterOneTurnedAway(
      await run.done,
      /ignored a request to the callback \(HTTP 400\): state does not match; still waiting/,
    );
  });

  test('a failed exchange (the IdP refuses the certificate): the page names the step and invalid_client; exit 4', async () => {
    // The `other` certificate: a valid chain, but not the subject registered for kong.
    const run = login([], 'other');
    const url = await run.url;
    await withPage(async (page) => {
      await logInAndConsent(page, url, 'failed-exchange');
      const shown = await text(page);
      assert.match(shown, /✗ Login failed/);
      assert.match(shown, /the token request failed/);
      assert.match(shown, /step\s+token request/);
      assert.match(shown, /code\s+OAUTH_INVALID_CLIENT/);
      assert.match(shown, /error\s+invalid_client/);
      assert.match(shown, /See the terminal/);
      assert.doesNotMatch(shown, /succeeded/);
    });
    const r = await run.done;
    assert.equal(r.code, 4, r.stderr);
    assertNoStack(r);
    assert.match(r.stderr, /error: token request failed: invalid_client/);
  });
});
