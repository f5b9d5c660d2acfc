// The pure parts of src/core/login.ts: where the callback listens (--redirect-uri, --port, --ipv6)
// and the `pkce` check. The flow itself is tested end to end in test/e2e/login.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { callbackSpec } from '../../src/core/login/index.ts';
import { pkceCheck } from '../../src/core/pkce.ts';

const usage = (code: string) => (e: unknown) =>
  e instanceof MtlsOAuthError && e.kind === 'usage' && e.code === code;

describe('callbackSpec', () => {
  test('default: 127.0.0.1, an ephemeral port, /callback', () => {
    assert.deepEqual(callbackSpec({}), { host: '127.0.0.1', port: 0, path: '/callback' });
  });

  test('--port and --ipv6', () => {
    assert.deepEqual(callbackSpec({ port: 8765 }), { host: '127.0.0.1', port: 8765, path: '/callback' });
    assert.deepEqual(callbackSpec({ ipv6: true }), { host: '::1', port: 0, path: '/callback' });
  });

  test('--redirect-uri is kept verbatim (an exact registration is compared as a string)', () => {
    assert.deepEqual(callbackSpec({ redirectUri: 'http://127.0.0.1:8765/oauth/cb' }), {
      host: '127.0.0.1',
      port: 8765,
      path: '/oauth/cb',
      redirectUri: 'http://127.0.0.1:8765/oauth/cb',
    });
    assert.deepEqual(callbackSpec({ redirectUri: 'http://127.0.0.1/callback' }), {
      host: '127.0.0.1',
      port: 80,
      path: '/callback',
      redirectUri: 'http://127.0.0.1/callback',
    });
    assert.deepEqual(callbackSpec({ redirectUri: 'http://[::1]:9000/cb', ipv6: true, port: 9000 }), {
      host: '::1',
      port: 9000,
      path: '/cb',
      redirectUri: 'http://[::1]:9000/cb',
    });
  });

  test('refuses what is not a loopback http URI without query or fragment', () => {
    for (const [uri, code] of [
      ['not a url', 'REDIRECT_URI_INVALID'],
      ['https://127.0.0.1:8765/callback', 'REDIRECT_URI_INVALID'],
      ['http://127.0.0.1:8765/callback?x=1', 'REDIRECT_URI_INVALID'],
      ['http://127.0.0.1:8765/callback#f', 'REDIRECT_URI_INVALID'],
      ['http://127.0.0.1:8765/callback#', 'REDIRECT_URI_INVALID'],
      ['http://user@127.0.0.1:8765/callback', 'REDIRECT_URI_INVALID'],
      ['http://0.0.0.0:8765/callback', 'CALLBACK_HOST_NOT_LOOPBACK'],
      ['http://192.168.1.10:8765/callback', 'CALLBACK_HOST_NOT_LOOPBACK'],
    ] as const) {
      assert.throws(() => callbackSpec({ redirectUri: uri }), usage(code), uri);
    }
  });

  test('localhost: allowed with a warning, listening on 127.0.0.1, the URI sent verbatim', () => {
    const spec = callbackSpec({ redirectUri: 'http://localhost:8765/cb' });
    assert.equal(spec.host, '127.0.0.1');
    assert.equal(spec.port, 8765);
    assert.equal(spec.redirectUri, 'http://localhost:8765/cb');
    assert.match(spec.warning ?? '', /RFC 8252 §8\.3 recommends http:\/\/127\.0\.0\.1:8765\/cb/);
    assert.equal(callbackSpec({ redirectUri: 'http://127.0.0.1:8765/cb' }).warning, undefined);
  });

  test('--port or --ipv6 that disagree with --redirect-uri', () => {
    assert.throws(
      () => callbackSpec({ redirectUri: 'http://127.0.0.1:8765/cb', port: 9000 }),
      usage('CALLBACK_OPTIONS_CONFLICT'),
    );
    assert.throws(
      () => callbackSpec({ redirectUri: 'http://127.0.0.1:8765/cb', ipv6: true }),
      usage('CALLBACK_OPTIONS_CONFLICT'),
    );
  });

  test('a port out of range', () => {
    for (const port of [0, -1, 65536, 1.5, Number.NaN]) {
      assert.throws(() => callbackSpec({ port }), usage('BAD_PORT'), String(port));
    }
  });
});

describe('pkceCheck', () => {
  test('pass when the IdP advertises S256', () => {
    assert.equal(pkceCheck({ code_challenge_methods_supported: ['plain', 'S256'] }).status, 'pass');
  });
  test('warn when it advertises nothing, or only plain', () => {
    const none = pkceCheck({});
    assert.equal(none.status, 'warn');
    assert.match(none.detail!, /does not advertise code_challenge_methods_supported/);
    const plain = pkceCheck({ code_challenge_methods_supported: ['plain'] });
    assert.equal(plain.status, 'warn');
    assert.match(plain.detail!, /advertises only plain/);
  });
});
