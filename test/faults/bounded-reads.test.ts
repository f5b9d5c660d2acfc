// Bounded reads: a 100 MB body, a 1 MB header, an endless chunked body, JSON nested a million deep.
// Each is refused with a clear error after reading at most the limit, and memory stays flat: the
// in-process tests compare the resident set size before and after (a generous bound, far below the
// body size) and the bytes the server managed to send.

import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { fetchJwkSet } from '../../src/core/discovery/index.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../../src/core/transport/body.ts';
import { HttpClient } from '../../src/core/transport/http-client.ts';
import { type BadServer, startBadServer } from '../helpers/bad-servers.ts';
import { assertCleanFailure, jsonOf, runCli } from '../helpers/cli.ts';
import { startHttpsServer } from '../helpers/tls-servers.ts';
import { type FaultPki, faultPki } from './fixtures.ts';

const MB = 1024 * 1024;

let pki: FaultPki;
before(async () => {
  pki = await faultPki();
});
after(() => pki.remove());

function client(
  t: { after(fn: () => Promise<void>): void },
  extra: ConstructorParameters<typeof HttpClient>[0] = {},
) {
  const c = new HttpClient({ ca: pki.files.ca, timeoutMs: 10_000, proxy: false, ...extra });
  t.after(() => c.close());
  return c;
}

async function failure(p: Promise<unknown>): Promise<MtlsOAuthError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof MtlsOAuthError, `an MtlsOAuthError, got ${(e as Error)?.stack}`);
    return e;
  }
  assert.fail('the request succeeded');
}

describe('in-process: refused at the limit, memory flat', () => {
  it('a 100 MB body without a length (chunked): RESPONSE_TOO_LARGE after 1 MiB; RSS grows far less than 100 MB', async (t) => {
    const s = await startBadServer('huge-body', { cert: pki.server.cert, key: pki.server.key });
    t.after(() => s.close());
    const c = client(t);
    const before = process.memoryUsage().rss;
    const e = await failure(c.request({ url: `${s.url}/token`, step: 'token request' }));
    const grown = process.memoryUsage().rss - before;
    assert.equal(e.code, 'RESPONSE_TOO_LARGE');
    assert.equal(e.kind, 'network');
    assert.match(
      e.message,
      /^token request: 127\.0\.0\.1:\d+ sent a response body larger than 1048576 bytes; stopped reading$/,
    );
    assert.ok(grown < 32 * MB, `RSS grew by ${Math.round(grown / MB)} MB`);
    assert.ok(
      s.bytesSent() < 20 * MB,
      `the server could send only ${Math.round(s.bytesSent() / MB)} MB before we hung up`,
    );
  });

  it('a 100 MB body with its content-length: refused before reading it', async (t) => {
    const s = await startBadServer('huge-body', {
      cert: pki.server.cert,
      key: pki.server.key,
      declareLength: true,
    });
    t.after(() => s.close());
    const e = await failure(
      client(t).request({ url: `${s.url}/.well-known/openid-configuration`, step: 'discovery' }),
    );
    assert.equal(e.code, 'RESPONSE_TOO_LARGE');
    assert.match(e.message, /\(content-length 104857600\); stopped reading$/);
    assert.equal(e.details?.limit, MB);
  });

  it('an endless chunked body: RESPONSE_TOO_LARGE, memory flat', async (t) => {
    const s = await startBadServer('endless-chunked', { cert: pki.server.cert, key: pki.server.key });
    t.after(() => s.close());
    const before = process.memoryUsage().rss;
    const e = await failure(client(t).request({ url: s.url, step: 'JWKS' }));
    const grown = process.memoryUsage().rss - before;
    assert.equal(e.code, 'RESPONSE_TOO_LARGE');
    assert.ok(grown < 32 * MB, `RSS grew by ${Math.round(grown / MB)} MB`);
  });

  it('a smaller limit is honoured (maxBodyBytes)', async (t) => {
    const s = await startBadServer('endless-chunked', { cert: pki.server.cert, key: pki.server.key });
    t.after(() => s.close());
    const e = await failure(client(t, { maxBodyBytes: 4096 }).request({ url: s.url }));
    assert.equal(e.code, 'RESPONSE_TOO_LARGE');
    assert.match(e.message, /larger than 4096 bytes/);
  });

  it('a 1 MB header: HEADERS_TOO_LARGE (64 KiB limit), for request() and for the tls probe', async (t) => {
    const s = await startBadServer('huge-header', { cert: pki.server.cert, key: pki.server.key });
    t.after(() => s.close());
    const c = client(t);
    const e = await failure(c.request({ url: `${s.url}/token`, step: 'token request' }));
    assert.equal(e.code, 'HEADERS_TOO_LARGE');
    assert.equal(e.kind, 'network');
    assert.match(
      e.message,
      /^token request to 127\.0\.0\.1:\d+: the response headers are larger than the limit \(64 KiB\); stopped reading$/,
    );
    const p = await failure(c.probe({ url: `${s.url}/token`, step: 'TLS probe' }));
    assert.equal(p.code, 'HEADERS_TOO_LARGE');
    assert.ok(s.bytesSent() <= 2 * (MB + 200));
  });

  it('JSON nested a million levels deep: JSON_TOO_DEEP, never a stack overflow', async (t) => {
    const deep = `${'['.repeat(500_000)}${']'.repeat(500_000)}`;
    const s = await startBadServer('json', { cert: pki.server.cert, key: pki.server.key, body: deep });
    t.after(() => s.close());
    const e = await failure(
      client(t).request({ url: `${s.url}/token`, step: 'token request', expectJson: false }),
    );
    assert.equal(e.code, 'JSON_TOO_DEEP');
    assert.match(e.message, new RegExp(`nested more than ${MAX_JSON_DEPTH} levels deep; refused`));
  });
});

test('bodies from 64 KiB up to the limit with connection: close are read whole (undici never pauses its parser: no crash)', async (t) => {
  // A body larger than the body stream's buffer used to pause undici's parser, and a connection
  // that ended right then failed an assertion inside undici and killed the process.
  const sizes = [65_000, 70_000, 115_000, 500_000, MB - 100];
  for (const size of sizes) {
    const body = JSON.stringify({ a: 'x'.repeat(size) });
    const s = await startBadServer('json', { cert: pki.server.cert, key: pki.server.key, body });
    t.after(() => s.close());
    const c = client(t);
    for (let i = 0; i < 3; i++) {
      const r = await c.request({ url: `${s.url}/x` });
      assert.equal(r.text.length, body.length);
    }
  }
});

test('jsonNestingExceeds: strings and escapes do not count, real nesting does', () => {
  assert.equal(jsonNestingExceeds('{"a":[1,"[[[[[[[{{{{"]}', 2), false);
  assert.equal(jsonNestingExceeds('{"a":[1,{"b":"x"}]}', 2), true);
  assert.equal(jsonNestingExceeds('"\\"[[[["', 1), false);
  assert.equal(jsonNestingExceeds(`${'{"a":'.repeat(64)}1${'}'.repeat(64)}`), false);
  assert.equal(jsonNestingExceeds(`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`), true);
});

describe('the CLI refuses them with exit 3 and the code in --json', { concurrency: 3 }, () => {
  const servers: BadServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));
  const cases = [
    [
      'huge-body',
      'discover',
      'RESPONSE_TOO_LARGE',
      /sent a response body larger than 1048576 bytes; stopped reading/,
    ],
    [
      'huge-body',
      'token',
      'RESPONSE_TOO_LARGE',
      /token request: 127\.0\.0\.1:\d+ sent a response body larger than 1048576 bytes/,
    ],
    ['endless-chunked', 'discover', 'RESPONSE_TOO_LARGE', /larger than 1048576 bytes/],
    ['endless-chunked', 'token', 'RESPONSE_TOO_LARGE', /larger than 1048576 bytes/],
    [
      'huge-header',
      'discover',
      'HEADERS_TOO_LARGE',
      /the response headers are larger than the limit \(64 KiB\)/,
    ],
    [
      'huge-header',
      'token',
      'HEADERS_TOO_LARGE',
      /the response headers are larger than the limit \(64 KiB\)/,
    ],
    [
      'huge-header',
      'tls',
      'HEADERS_TOO_LARGE',
      /TLS probe to 127\.0\.0\.1:\d+: the response headers are larger/,
    ],
  ] as const;
  for (const [kind, command, code, message] of cases) {
    test(`${kind}: ${command} exits 3 with ${code}`, async () => {
      const s = await startBadServer(kind, { cert: pki.server.cert, key: pki.server.key });
      servers.push(s);
      const human = await runCli(pki.args(command, s.url), { env: pki.env(), timeoutMs: 30_000 });
      assertCleanFailure(human, 3, message);
      const json = await runCli([...pki.args(command, s.url), '--json'], {
        env: pki.env(),
        timeoutMs: 30_000,
      });
      assert.equal(json.code, 3);
      assert.equal(jsonOf(json).error?.code, code);
    });
  }
  for (const kind of ['huge-body', 'endless-chunked'] as const) {
    test(`${kind}: tls reads only the status line and headers (exit 0), whatever the body`, async () => {
      const s = await startBadServer(kind, { cert: pki.server.cert, key: pki.server.key });
      servers.push(s);
      const r = await runCli(pki.args('tls', s.url), { env: pki.env(), timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /✓ HTTP: status 200/);
    });
  }
});

describe('counts in a response', () => {
  it('a JWK Set of 101 keys: JWKS_INVALID naming the limit of 100, before any key is used', async (t) => {
    const keys = Array.from({ length: 101 }, (_, i) => ({ kty: 'oct', kid: `k${i}`, k: 'AAAA' }));
    const s = await startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      handler: (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys }));
      },
    });
    t.after(() => s.close());
    const e = await failure(fetchJwkSet(client(t), `${s.url}/jwks`));
    assert.equal(e.code, 'JWKS_INVALID');
    assert.match(e.message, /holds 101 keys, over the limit of 100$/);
  });
});
