// The loopback callback listener, for real: a listener on 127.0.0.1 (and ::1 when the machine has
// it) answering requests made with node:http, as a browser (or an attacker on the machine) would.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { CALLBACK_PAGE_HEADERS, loginFailedPage, successPage } from '../../src/core/login/callback-page.ts';
import {
  type CallbackEvent,
  type CallbackListenerOptions,
  startCallbackListener,
} from '../../src/core/login/loopback.ts';

const ISSUER = 'https://idp.example';
/** Not a speed assertion: a listener that fails to close would otherwise hang the test run. */
const HANG_GUARD_MS = 30_000;
const STATE = 'state-0123456789abcdefghijklmnopqrstuvwx';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Req {
  path: string;
  host?: string;
  port: number;
  method?: string;
  headers?: Record<string, string>;
  agent?: Agent | false;
  body?: string;
}

function send(r: Req): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: r.host ?? '127.0.0.1',
        port: r.port,
        path: r.path,
        method: r.method ?? 'GET',
        headers: r.headers,
        agent: r.agent ?? false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

const q = (params: Record<string, string>) => `/callback?${new URLSearchParams(params)}`;

/**
 * A listener for one test, closed after it. Unless `manual`, it plays the caller that finishes the
 * login at once with the success page when a code is accepted (`finished`: that finish()).
 */
async function listen(
  t: TestContext,
  over: Partial<CallbackListenerOptions> = {},
  { manual = false }: { manual?: boolean } = {},
) {
  const events: CallbackEvent[] = [];
  const l = await startCallbackListener({
    host: '127.0.0.1',
    expectedState: STATE,
    issuer: ISSUER,
    issRequired: false,
    timeoutMs: 60_000,
    onEvent: (e) => events.push(e),
    ...over,
  });
  t.after(() => l.close());
  const finished = manual
    ? Promise.resolve()
    : l.result.then(
        () => l.finish(successPage()),
        () => {},
      );
  return {
    l,
    events,
    finished,
    get: (path: string, extra: Partial<Req> = {}) => send({ port: l.port, path, ...extra }),
  };
}

function assertPageHeaders(r: Reply) {
  for (const [name, value] of Object.entries(CALLBACK_PAGE_HEADERS)) {
    assert.equal(r.headers[name.toLowerCase()], value, name);
  }
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.equal(r.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'");
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.match(String(r.headers['content-type']), /^text\/html; charset=utf-8$/);
  // loads nothing from elsewhere
  assert.doesNotMatch(r.body, /<(script|img|iframe|object|embed)\b/i);
  assert.doesNotMatch(r.body, /(src|href)="(?!data:)/i);
}

/** Resolves with the error the promise rejects with. */
async function failure(p: Promise<unknown>): Promise<MtlsOAuthError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MtlsOAuthError, `not an MtlsOAuthError: ${e}`);
    return e;
  }
  assert.fail('expected a rejection');
}

/** True when nothing listens on 127.0.0.1:port any more (we can listen there ourselves). */
async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const s: Server = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function connectionRefused(port: number): Promise<boolean> {
  try {
    await send({ port, path: q({ state: STATE, code: 'again' }) });
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

const ipv6Loopback: boolean = await new Promise((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen({ port: 0, host: '::1' }, () => s.close(() => resolve(true)));
});

describe('loopback callback: the accepted response', { timeout: HANG_GUARD_MS }, () => {
  it('listens on 127.0.0.1 with an ephemeral port and accepts the right state once', async (t) => {
    const { l, get, events } = await listen(t);
    assert.equal(l.host, '127.0.0.1');
    assert.ok(l.port > 0);
    assert.equal(l.redirectUri, `http://127.0.0.1:${l.port}/callback`);

    const r = await get(q({ code: 'the-secret-code', state: STATE }));
    assert.equal(r.status, 200);
    assertPageHeaders(r);
    assert.match(r.body, /Login succeeded/);
    assert.match(r.body, /close this tab/);
    assert.ok(!r.body.includes('the-secret-code'), 'the page never shows the code');

    const result = await l.result;
    assert.equal(result.code, 'the-secret-code');
    assert.equal(result.state, STATE);
    assert.equal(result.redirectUri, l.redirectUri);
    assert.equal(result.rejected, 0);
    assert.deepEqual(
      result.checks.map((c) => [c.name, c.status]),
      [
        ['state', 'pass'],
        ['iss', 'skip'],
      ],
    );
    assert.deepEqual(result.params, { code: 'the-secret-code', state: STATE });
    assert.deepEqual(events, [{ type: 'accepted' }]);
  });

  it('without linger it shuts down once the outcome page is out: a second callback is refused, the port is free', async (t) => {
    const { l, get, finished } = await listen(t);
    await get(q({ code: 'c1', state: STATE }));
    await l.result;
    await finished;
    assert.equal(await connectionRefused(l.port), true);
    assert.equal(await portIsFree(l.port), true);
  });

  it('uses a fixed port and path when asked', async (t) => {
    const probe = createServer();
    const port: number = await new Promise((r) =>
      probe.listen(0, '127.0.0.1', () => r((probe.address() as any).port)),
    );
    await new Promise((r) => probe.close(r));
    const { l, get } = await listen(t, { port, path: '/oauth/cb' });
    assert.equal(l.redirectUri, `http://127.0.0.1:${port}/oauth/cb`);
    assert.equal((await get(q({ code: 'c', state: STATE }))).status, 404, '/callback is not the path');
    assert.equal((await get(`/oauth/cb?code=c&state=${STATE}`)).status, 200);
    assert.equal((await l.result).code, 'c');
  });

  it('accepts Host headers localhost:PORT and [::1]:PORT as well as 127.0.0.1:PORT', async (t) => {
    for (const host of ['localhost', '[::1]', 'LOCALHOST']) {
      const { l, get } = await listen(t);
      const r = await get(q({ code: 'c', state: STATE }), { headers: { Host: `${host}:${l.port}` } });
      assert.equal(r.status, 200, host);
      await l.result;
    }
  });
});

describe('loopback callback: the page tells how the login ended', { timeout: HANG_GUARD_MS }, () => {
  it('holds the browser until finish(), then answers with the outcome: the failed step and its code', async (t) => {
    const { l, get } = await listen(t, {}, { manual: true });
    let answered = false;
    const page = get(q({ code: 'c', state: STATE })).then((r) => {
      answered = true;
      return r;
    });
    assert.equal((await l.result).code, 'c');
    // The request is held while the caller exchanges the code: a round trip to the server and back
    // (another request, answered at once) does not release it.
    assert.equal((await get('/favicon.ico')).status, 404);
    assert.equal(answered, false, 'the page waits for the outcome');
    await l.finish(loginFailedPage('token request', 'OAUTH_INVALID_CLIENT', 'invalid_client'));
    const r = await page;
    assertPageHeaders(r);
    assert.equal(r.headers.connection, 'close');
    assert.match(r.body, /✗ Login failed/);
    assert.match(r.body, /the token request failed/);
    assert.match(r.body, /<dt>step<\/dt><dd>token request<\/dd>/);
    assert.match(r.body, /<dt>code<\/dt><dd>OAUTH_INVALID_CLIENT<\/dd>/);
    assert.match(r.body, /<dt>error<\/dt><dd>invalid_client<\/dd>/);
    assert.match(r.body, /See the terminal/);
    assert.doesNotMatch(r.body, /Login succeeded/);
    assert.equal(await portIsFree(l.port), true, 'without linger: closed once the page is out');
  });

  it("escapes the IdP's error code on the outcome page", () => {
    const page = loginFailedPage('token request', 'OAUTH_X', '<img src=x onerror=alert(1)>');
    assert.doesNotMatch(page.body, /<img/);
    assert.match(page.body, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('after holdMs the browser gets "still working: see the terminal"; a reload then gets the outcome', async (t) => {
    const { l, get } = await listen(t, { holdMs: 50, linger: true }, { manual: true });
    const first = await get(q({ code: 'c', state: STATE }));
    assert.equal(first.status, 200);
    assertPageHeaders(first);
    assert.match(first.body, /Still working: see the terminal/);
    assert.doesNotMatch(first.body, /Login succeeded|Login failed/);
    await l.result;
    await l.finish(successPage());
    const reload = await get(q({ code: 'c', state: STATE }));
    assert.equal(reload.status, 200);
    assert.match(reload.body, /✓ Login succeeded/);
  });

  it('a reload while the login is still going waits for the outcome too', async (t) => {
    const { l, get } = await listen(t, { linger: true }, { manual: true });
    const first = get(q({ code: 'c', state: STATE }));
    await l.result;
    const reload = get(q({ code: 'c', state: STATE }));
    // Both requests are held: reach the server with a third one before finishing.
    assert.equal((await get('/favicon.ico')).status, 404);
    await l.finish(successPage());
    for (const r of await Promise.all([first, reload])) assert.match(r.body, /Login succeeded/);
  });

  it('with linger, reloads after the end show the outcome and accept no second code; other requests are still refused', async (t) => {
    const { l, get, events } = await listen(t, { linger: true }, { manual: true });
    const page = get(q({ code: 'first', state: STATE }));
    await l.result;
    await l.finish(successPage());
    assert.match((await page).body, /Login succeeded/);
    for (const path of [q({ code: 'first', state: STATE }), q({ code: 'second', state: STATE }), q({})]) {
      const r = await get(path);
      assert.equal(r.status, 200, path);
      assertPageHeaders(r);
      assert.equal(r.headers.connection, 'close');
      assert.match(r.body, /Login succeeded/, path);
      assert.ok(!r.body.includes('second'), 'nothing echoed');
    }
    assert.equal((await get('/favicon.ico')).status, 404);
    assert.equal((await get(q({ code: 'x', state: STATE }), { method: 'POST' })).status, 405);
    const rebound = await get(q({ code: 'x', state: STATE }), { headers: { Host: 'evil.example' } });
    assert.equal(rebound.status, 403);
    assert.equal((await l.result).code, 'first', 'the first code only');
    assert.deepEqual(events, [{ type: 'accepted' }], 'nothing reported after the end');
    assert.equal(await portIsFree(l.port), false, 'still listening');
    await l.close();
    assert.equal(await portIsFree(l.port), true);
  });

  it('with linger, an error response stays the page on reload, and the result rejects once', async (t) => {
    const { l, get } = await listen(t, { linger: true }, { manual: true });
    const r = await get(q({ error: 'access_denied', state: STATE }));
    assert.equal(r.status, 400);
    assert.equal((await failure(l.result)).code, 'AUTHORIZATION_ERROR');
    const reload = await get(q({ code: 'late', state: STATE }));
    assert.equal(reload.status, 400);
    assert.match(reload.body, /access_denied/);
    await l.finish(successPage()); // no code was accepted: nothing to finish
    assert.match((await get(q({ state: STATE }))).body, /access_denied/);
  });

  it('Ctrl-C during the exchange answers the held request, closes, and frees the port', async (t) => {
    const ac = new AbortController();
    const { l, get } = await listen(t, { signal: ac.signal, linger: true }, { manual: true });
    const page = get(q({ code: 'c', state: STATE }));
    await l.result;
    ac.abort();
    const r = await page;
    assert.equal(r.status, 410);
    assert.match(r.body, /already finished/);
    await l.finish(successPage()); // too late: a no-op
    await l.close();
    assert.equal(await portIsFree(l.port), true);
  });
});

describe('loopback callback: requests that are not the response keep the wait going', {
  timeout: HANG_GUARD_MS,
}, () => {
  it('answers a wrong state with 400, keeps waiting, and accepts the right one afterwards', async (t) => {
    const { l, get, events } = await listen(t);
    const bad = await get(q({ code: 'attacker-code', state: 'wrong-state' }));
    assert.equal(bad.status, 400);
    assertPageHeaders(bad);
    assert.match(bad.body, /does not match/);
    assert.match(bad.body, /still waiting/);
    assert.ok(!bad.body.includes('attacker-code'));

    const good = await get(q({ code: 'good-code', state: STATE }));
    assert.equal(good.status, 200);
    const result = await l.result;
    assert.equal(result.code, 'good-code', 'the bad callback was never passed on');
    assert.equal(result.rejected, 1);
    assert.deepEqual(events[0], {
      type: 'rejected',
      status: 400,
      reason: 'state does not match',
      waiting: true,
    });
  });

  it('answers a missing state, a repeated state, and a state that is a prefix with 400', async (t) => {
    const { l, get } = await listen(t);
    const cases = [
      ['/callback?code=x', /no state parameter/],
      ['/callback', /no state parameter/],
      [`/callback?code=x&state=${STATE}&state=${STATE}`, /more than one state/],
      [`/callback?code=x&state=${STATE.slice(0, -1)}`, /does not match/],
      [`/callback?code=x&state=${STATE}x`, /does not match/],
    ] as const;
    for (const [path, text] of cases) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.match(r.body, text, path);
    }
    assert.equal((await get(q({ code: 'ok', state: STATE }))).status, 200);
    assert.equal((await l.result).rejected, cases.length);
  });

  it('answers /favicon.ico and other paths with 404', async (t) => {
    const { l, get } = await listen(t);
    for (const path of [
      '/favicon.ico',
      '/',
      `/callback/?state=${STATE}&code=x`,
      `/CALLBACK?state=${STATE}&code=x`,
    ]) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assertPageHeaders(r);
    }
    // an absolute-form request target is not our path either
    assert.equal((await get(`http://127.0.0.1:${l.port}/callback?state=${STATE}&code=x`)).status, 404);
    assert.equal((await get(q({ code: 'ok', state: STATE }))).status, 200);
    assert.equal((await l.result).code, 'ok');
  });

  it('answers a foreign Host header with 403 even with the right state (DNS rebinding)', async (t) => {
    const { l, get } = await listen(t);
    for (const host of [
      `evil.example:${l.port}`,
      'evil.example',
      `127.0.0.1:${l.port + 1}`,
      `localhost.evil:${l.port}`,
    ]) {
      const r = await get(q({ code: 'rebound', state: STATE }), { headers: { Host: host } });
      assert.equal(r.status, 403, host);
      assertPageHeaders(r);
    }
    const good = await get(q({ code: 'good', state: STATE }));
    assert.equal(good.status, 200);
    assert.equal((await l.result).code, 'good');
  });

  it('answers POST and other methods with 405 and Allow: GET', async (t) => {
    const { l, get } = await listen(t);
    for (const method of ['POST', 'PUT', 'DELETE', 'HEAD']) {
      const r = await get(q({ code: 'c', state: STATE }), {
        method,
        body: method === 'POST' || method === 'PUT' ? 'code=c' : undefined,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
    }
    assert.equal((await get(q({ code: 'c', state: STATE }))).status, 200);
    assert.equal((await l.result).rejected, 4);
  });

  it('ignores an error response with a wrong state like any bad-state callback', async (t) => {
    const { l, get } = await listen(t);
    const r = await get(q({ error: 'access_denied', state: 'wrong' }));
    assert.equal(r.status, 400);
    assert.equal((await get(q({ code: 'c', state: STATE }))).status, 200);
    assert.equal((await l.result).code, 'c');
  });

  it('ignores a wrong iss with a wrong state (not our response at all)', async (t) => {
    const { l, get } = await listen(t);
    assert.equal((await get(q({ code: 'c', state: 'nope', iss: 'https://evil.example' }))).status, 400);
    assert.equal((await get(q({ code: 'c', state: STATE, iss: ISSUER }))).status, 200);
    assert.equal((await l.result).rejected, 1);
  });
});

describe('loopback callback: iss (RFC 9207)', { timeout: HANG_GUARD_MS }, () => {
  it('passes an iss equal to the issuer', async (t) => {
    const { l, get } = await listen(t);
    await get(q({ code: 'c', state: STATE, iss: ISSUER }));
    const r = await l.result;
    assert.equal(r.iss, ISSUER);
    assert.equal(r.checks.find((c) => c.name === 'iss')?.status, 'pass');
  });

  it('ends the flow on a wrong iss with the right state: 400 page, ISS_MISMATCH, code not passed on', async (t) => {
    for (const iss of ['https://evil.example', `${ISSUER}/`]) {
      const { l, get } = await listen(t);
      const r = await get(q({ code: 'mixed-up', state: STATE, iss }));
      assert.equal(r.status, 400);
      assertPageHeaders(r);
      assert.match(r.body, /unexpected issuer/);
      assert.ok(!r.body.includes('mixed-up'));
      const e = await failure(l.result);
      assert.equal(e.kind, 'check');
      assert.equal(e.code, 'ISS_MISMATCH');
      assert.equal(e.details?.received, iss);
      assert.ok(!e.message.includes('mixed-up'));
      assert.equal(await portIsFree(l.port), true);
    }
  });

  it('requires iss when the IdP advertises it: ISS_MISSING', async (t) => {
    const { l, get } = await listen(t, { issRequired: true });
    assert.equal((await get(q({ code: 'c', state: STATE }))).status, 400);
    const e = await failure(l.result);
    assert.equal(e.code, 'ISS_MISSING');
    assert.equal(e.kind, 'check');
  });

  it('checks iss before trusting an error response', async (t) => {
    const { l, get } = await listen(t);
    await get(q({ error: 'access_denied', state: STATE, iss: 'https://evil.example' }));
    assert.equal((await failure(l.result)).code, 'ISS_MISMATCH');
  });
});

describe('loopback callback: responses that end the flow', { timeout: HANG_GUARD_MS }, () => {
  it('turns error=access_denied into an oauth error (exit 4) with the description', async (t) => {
    const { l, get } = await listen(t);
    const r = await get(q({ error: 'access_denied', error_description: 'The user said no', state: STATE }));
    assert.equal(r.status, 400);
    assertPageHeaders(r);
    assert.match(r.body, /Login failed/);
    assert.match(r.body, /access_denied/);
    assert.match(r.body, /The user said no/);
    assert.match(r.body, /close this tab/);
    const e = await failure(l.result);
    assert.equal(e.kind, 'oauth');
    assert.equal(e.code, 'AUTHORIZATION_ERROR');
    assert.equal(e.details?.error, 'access_denied');
    assert.equal(e.details?.error_description, 'The user said no');
    assert.match(e.message, /access_denied: The user said no/);
    assert.ok(e.hint);
  });

  it('renders an error_description with HTML in it as text', async (t) => {
    const { l, get } = await listen(t);
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)> & "quotes" \'single\'';
    const r = await get(
      q({ error: 'invalid_scope</dd><script>x()</script>', error_description: evil, state: STATE }),
    );
    assert.doesNotMatch(r.body, /<script/i);
    assert.doesNotMatch(r.body, /<img/i);
    assert.match(
      r.body,
      /&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(2\)&gt; &amp; &quot;quotes&quot; &#39;single&#39;/,
    );
    assertPageHeaders(r);
    const e = await failure(l.result);
    assert.equal(e.details?.error_description, evil, 'kept as received for --json');
  });

  it('shows control and bidi characters escaped, on the page and in the message for the terminal', async (t) => {
    const { l, get } = await listen(t);
    const r = await get(
      q({
        error: 'server_error',
        error_description: 'bad\u001b[31mred\u0007 \u202eevil\u009b2K',
        state: STATE,
      }),
    );
    for (const text of [r.body, (await failure(l.result)).message]) {
      assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
      assert.match(text, /bad\\x1b\[31mred\\x07 \\u202eevil\\x9b2K/);
    }
  });

  it('ends the flow on a response with the right state but neither code nor error', async (t) => {
    const { l, get } = await listen(t);
    assert.equal((await get(q({ state: STATE }))).status, 400);
    const e = await failure(l.result);
    assert.equal(e.code, 'CALLBACK_INVALID');
    assert.equal(e.kind, 'check');
  });

  it('ends the flow on a response with the right state and a repeated code', async (t) => {
    const { l, get } = await listen(t);
    assert.equal((await get(`/callback?state=${STATE}&code=a&code=b`)).status, 400);
    const e = await failure(l.result);
    assert.equal(e.code, 'CALLBACK_INVALID');
    assert.match(e.message, /code/);
  });
});

describe('loopback callback: timeout, abort, close', { timeout: HANG_GUARD_MS }, () => {
  it('times out with kind timeout (exit 5) and frees the port', async (t) => {
    const { l, get } = await listen(t, { timeoutMs: 150 });
    await get('/favicon.ico');
    const e = await failure(l.result);
    assert.equal(e.kind, 'timeout');
    assert.equal(e.code, 'CALLBACK_TIMEOUT');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${l.port}`));
    assert.match(e.hint ?? '', /1 request/);
    assert.equal(await portIsFree(l.port), true, 'can listen on the port again');
  });

  it('closes on abort with kind interrupted (exit 130) and frees the port', async (t) => {
    const ac = new AbortController();
    const { l } = await listen(t, { signal: ac.signal });
    ac.abort();
    const e = await failure(l.result);
    assert.equal(e.kind, 'interrupted');
    assert.equal(e.code, 'INTERRUPTED');
    assert.equal(await portIsFree(l.port), true);
  });

  it('refuses to start with an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await failure(
      startCallbackListener({
        expectedState: STATE,
        issuer: ISSUER,
        issRequired: false,
        timeoutMs: 1000,
        signal: ac.signal,
      }),
    );
    assert.equal(e.kind, 'interrupted');
  });

  it('close() before a response rejects the result with CALLBACK_CLOSED and is idempotent', async (t) => {
    const { l } = await listen(t);
    await Promise.all([l.close(), l.close()]);
    const e = await failure(l.result);
    assert.equal(e.code, 'CALLBACK_CLOSED');
    assert.equal(await portIsFree(l.port), true);
  });

  it('does not hang on kept-alive browser connections', async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    t.after(() => agent.destroy());
    const { l, get, finished } = await listen(t);
    // an idle kept-alive connection (like a browser's after fetching /favicon.ico) ...
    const fav = await get('/favicon.ico', { agent });
    assert.equal(fav.status, 404);
    assert.notEqual(fav.headers.connection, 'close');
    // ... and the response itself on another kept-alive connection of the same agent
    const ok = await get(q({ code: 'c', state: STATE }), { agent });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.connection, 'close');
    assert.equal((await l.result).code, 'c');
    await finished; // resolves only once the server has closed every connection
    assert.equal(await portIsFree(l.port), true);
  });

  it('does not hang on a preconnected socket or a half-sent request either', async (t) => {
    const { l, get, finished } = await listen(t);
    const sockets = [connect(l.port, '127.0.0.1'), connect(l.port, '127.0.0.1')];
    t.after(() => {
      for (const s of sockets) s.destroy();
    });
    await Promise.all(sockets.map((s) => once(s, 'connect')));
    sockets[1].write('GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never finished
    const closed = sockets.map((s) => once(s, 'close'));
    assert.equal((await get(q({ code: 'c', state: STATE }))).status, 200);
    await l.result;
    await finished;
    await Promise.all(closed); // the listener closed them; the test would time out otherwise
    assert.equal(await portIsFree(l.port), true);
  });

  it('close() does not hang on an idle kept-alive connection either', async (t) => {
    const agent = new Agent({ keepAlive: true });
    t.after(() => agent.destroy());
    const { l, get } = await listen(t);
    await get('/favicon.ico', { agent });
    await l.close();
    assert.equal(await portIsFree(l.port), true);
  });
});

describe('loopback callback: where it listens', { timeout: HANG_GUARD_MS }, () => {
  it('refuses any host but 127.0.0.1 and ::1 (usage error)', async () => {
    for (const host of ['0.0.0.0', '::', 'localhost', '192.168.1.10', 'example.com', '127.0.0.2']) {
      const e = await failure(
        startCallbackListener({
          host,
          expectedState: STATE,
          issuer: ISSUER,
          issRequired: false,
          timeoutMs: 1000,
        }),
      );
      assert.equal(e.kind, 'usage', host);
      assert.equal(e.code, 'CALLBACK_HOST_NOT_LOOPBACK', host);
    }
  });

  it('refuses a busy fixed port with a usage error naming the port, never falling back', async (t) => {
    const busy = createServer();
    const port: number = await new Promise((r) =>
      busy.listen(0, '127.0.0.1', () => r((busy.address() as any).port)),
    );
    t.after(() => new Promise((r) => busy.close(r)));
    const e = await failure(
      startCallbackListener({
        port,
        expectedState: STATE,
        issuer: ISSUER,
        issRequired: false,
        timeoutMs: 1000,
      }),
    );
    assert.equal(e.kind, 'usage');
    assert.equal(e.code, 'PORT_IN_USE');
    assert.match(e.message, new RegExp(`port ${port}\\b`));
    assert.match(e.hint ?? '', /never falls back/);
  });

  it('refuses bad ports, paths and timeouts', async () => {
    const base = { expectedState: STATE, issuer: ISSUER, issRequired: false, timeoutMs: 1000 };
    for (const [over, code] of [
      [{ port: 70000 }, 'BAD_PORT'],
      [{ port: -1 }, 'BAD_PORT'],
      [{ port: 1.5 }, 'BAD_PORT'],
      [{ path: 'callback' }, 'CALLBACK_PATH_INVALID'],
      [{ path: '/cb?x=1' }, 'CALLBACK_PATH_INVALID'],
      [{ timeoutMs: 0 }, 'CALLBACK_TIMEOUT_INVALID'],
      [{ timeoutMs: 2 ** 31 }, 'CALLBACK_TIMEOUT_INVALID'],
      [{ expectedState: '' }, 'CALLBACK_STATE_MISSING'],
    ] as const) {
      const e = await failure(startCallbackListener({ ...base, ...over }));
      assert.equal(e.code, code, JSON.stringify(over));
    }
  });

  it(ipv6Loopback
    ? 'listens on [::1] (this machine has an IPv6 loopback)'
    : 'listens on [::1]: skipped, this machine has no IPv6 loopback', { skip: !ipv6Loopback }, async (t) => {
    const { l, finished } = await listen(t, { host: '::1' });
    assert.equal(l.host, '::1');
    assert.equal(l.redirectUri, `http://[::1]:${l.port}/callback`);
    const r = await send({ host: '::1', port: l.port, path: q({ code: 'v6', state: STATE }) });
    assert.equal(r.status, 200);
    assertPageHeaders(r);
    assert.equal((await l.result).code, 'v6');
    await finished;
    assert.equal(await portIsFree(l.port, '::1'), true);
  });

  it('accepts "[::1]" written with brackets', { skip: !ipv6Loopback }, async (t) => {
    const { l } = await listen(t, { host: '[::1]' });
    assert.equal(l.host, '::1');
  });
});
