// `mtls-oauth login --device` (RFC 8628) as a user runs it (the built CLI) against the real test
// IdP with mtls_endpoint_aliases: the user code on stderr, a scripted person approving it at the
// verification URI, polling over mTLS; denial, expiry, slow_down, Ctrl-C and hostile answers.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { assertCleanFailure, assertNoStack, type CliResult, jsonOf, runCli } from '../helpers/cli.ts';
import { approveDevice } from '../helpers/idp.ts';
import { cachedEntry, type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';

/** What a test's middleware does to the device flow's answers. */
interface Twist {
  /** Changes to the device authorization response. */
  device?: Record<string, unknown>;
  /** Answers for the next device_code polls, in order (then the IdP answers itself). */
  polls?: Array<Record<string, string>>;
  /** Hide the device endpoint from discovery. */
  hide?: boolean;
}

describe('login --device (built CLI, test IdP with aliases)', () => {
  let fx: IdpFixture;
  let twist: Twist = {};
  const pollTimes: number[] = [];

  before(async () => {
    fx = await idpFixture({
      aliases: true,
      prefix: 'e2e-device-',
      middleware: [
        async (ctx: any, next: () => Promise<void>) => {
          // The only token requests of these tests are the device polls.
          if (ctx.method === 'POST' && ctx.path === '/token') {
            pollTimes.push(Date.now());
            const canned = twist.polls?.shift();
            if (canned) {
              ctx.status = 400;
              ctx.body = canned;
              return;
            }
          }
          await next();
          if (ctx.path === '/device/auth' && ctx.body?.device_code) {
            // Tests poll every second, not the RFC's default five.
            ctx.body = { ...ctx.body, interval: 1, ...twist.device };
          }
          if (twist.hide && ctx.path === '/.well-known/openid-configuration' && ctx.body) {
            const { device_authorization_endpoint: _d, mtls_endpoint_aliases: aliases, ...rest } = ctx.body;
            const { device_authorization_endpoint: _a, ...otherAliases } = aliases ?? {};
            ctx.body = { ...rest, mtls_endpoint_aliases: otherAliases };
          }
        },
      ],
    });
  });
  after(() => fx?.close());

  /** Starts `login --device ARGS`; resolves `uri` with the verification_uri_complete it prints. */
  function startDevice(args: string[]) {
    let child: ChildProcess | undefined;
    let stderr = '';
    let resolveUri!: (u: string) => void;
    const uri = new Promise<string>((r) => {
      resolveUri = r;
    });
    const done: Promise<CliResult> = runCli(['login', '--device', ...fx.args(), ...args], {
      env: fx.env(),
      cwd: fx.home,
      timeoutMs: 60_000,
      onStderr: (chunk, c) => {
        child = c;
        stderr += chunk;
        const line = /^(https:\/\/\S+user_code=\S+)$/m.exec(stderr);
        if (line) resolveUri(line[1]);
      },
    });
    return { uri, done, child: () => child };
  }

  const site = () => ({ issuer: fx.idp.issuer, ca: fx.idp.pki.ca.cert });

  test('approved on another device: the code on stderr, polled over mTLS, a bound token cached', async () => {
    twist = {};
    const run = startDevice(['--scope', 'openid offline_access']);
    const page = await approveDevice(site(), await run.uri);
    assert.match(page, /Sign-in Success/);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.match(
      r.stderr,
      /To log in, open https:\/\/127\.0\.0\.1:\d+\/device on any device and enter the code:/,
    );
    assert.match(r.stderr, /^ {4}[A-Z]{4}-[A-Z]{4}$/m);
    assert.match(r.stderr, /Approved after \d+ polls?\./);
    assert.match(
      r.stdout,
      /✓ token for kong \(tls_client_auth\) from https:\/\/127\.0\.0\.1:\d+\/token \(mtls alias\)/,
    );
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    const entry = cachedEntry(fx.cacheDir, fx.idp);
    assert.equal(entry.grant_type, 'device_code');
    assert.ok(entry.refresh_token, 'offline_access gave a refresh token');
    // The device authorization request went to its mTLS alias, with the certificate.
    assert.ok(
      fx.idp.requests.some((q) => q.listener === 'mtls' && q.path === '/device/auth' && q.clientCert),
    );
    assert.deepEqual(fx.idp.serverErrors, []);
  });

  test('declined: access_denied, exit 4, one JSON document with --json', async () => {
    twist = {};
    const run = startDevice(['--json']);
    assert.match(await approveDevice(site(), await run.uri, { deny: true }), /interrupted/);
    const r = await run.done;
    assert.equal(r.code, 4, r.stderr);
    assertNoStack(r);
    const doc = jsonOf(r);
    assert.equal(doc.ok, false);
    assert.equal(doc.error?.code, 'OAUTH_ACCESS_DENIED');
    assert.match(doc.error?.message ?? '', /access_denied/);
  });

  test('the IdP says expired_token: exit 4; the code outliving its expires_in here: exit 5', async () => {
    twist = { polls: [{ error: 'expired_token', error_description: 'device code is expired' }] };
    const expired = await startDevice([]).done;
    assertCleanFailure(expired, 4, /expired_token/);

    twist = { device: { expires_in: 2 } };
    const late = await startDevice(['--json']).done;
    assert.equal(late.code, 5, late.stderr);
    assertNoStack(late);
    assert.equal(jsonOf(late).error?.code, 'DEVICE_CODE_EXPIRED');
  });

  test('slow_down: the interval grows by 5 s, said on stderr, and the login still completes', async () => {
    twist = { polls: [{ error: 'slow_down' }] };
    pollTimes.length = 0;
    const run = startDevice([]);
    await approveDevice(site(), await run.uri);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /slow_down\): polling every 6 s from now on/);
    assert.ok(pollTimes.length >= 2);
    // The poll after slow_down waited the new interval (a lower bound: waits never run short).
    assert.ok(pollTimes[1] - pollTimes[0] >= 5_900, `waited ${pollTimes[1] - pollTimes[0]} ms`);
  });

  test('Ctrl-C while waiting: exit 130, no stack, nothing cached', async () => {
    twist = {};
    const before = JSON.stringify(cachedEntry(fx.cacheDir, fx.idp));
    const run = startDevice([]);
    await run.uri;
    run.child()?.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assertNoStack(r);
    assert.equal(JSON.stringify(cachedEntry(fx.cacheDir, fx.idp)), before);
  });

  test('hostile or missing device endpoint answers are refused clearly', async () => {
    twist = { device: { user_code: '\u001b]52;c;cHduZWQ=\u0007' } };
    const hostile = await startDevice([]).done;
    assertCleanFailure(hostile, 4, /user_code with characters a person cannot type/);
    assert.ok(!hostile.stderr.includes('\u001b'), 'no escape byte reaches the terminal');

    twist = { device: { verification_uri: 'http://evil.example/device' } };
    assertCleanFailure(await startDevice([]).done, 4, /verification_uri that is not https/);

    twist = { hide: true };
    assertCleanFailure(await startDevice([]).done, 2, /metadata has no device_authorization_endpoint/);
    twist = {};
  });

  test('flags of the browser login are usage errors with --device', async () => {
    const r = await runCli(['login', '--device', '--port', '8765', ...fx.args()], {
      env: fx.env(),
      cwd: fx.home,
    });
    assertCleanFailure(r, 2, /--port belong to the browser login, not --device/);
  });
});
