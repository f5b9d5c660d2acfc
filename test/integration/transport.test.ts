// The mTLS transport against real servers on 127.0.0.1: Node https servers (which close without an
// alert when they refuse a client certificate) and `openssl s_server` (which sends alerts).

import assert from 'node:assert/strict';
import type { LookupFunction } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import type { ConnectionRecord } from '../../src/core/transport/diagnostics.ts';
import { HttpClient, type HttpClientOptions } from '../../src/core/transport/http-client.ts';
import { type ClientIdentity, loadClientIdentity } from '../../src/core/transport/identity.ts';
import {
  closedPort,
  type HttpsOptions,
  makeTransportPki,
  type OpensslOptions,
  startHttpsServer,
  startOpensslServer,
  startSilentServer,
  type TransportPki,
} from '../helpers/tls-servers.ts';

let pki: TransportPki;
let kong: ClientIdentity;
let stranger: ClientIdentity;
let expired: ClientIdentity;
let future: ClientIdentity;

before(async () => {
  pki = await makeTransportPki();
  const identity = async (name: string) =>
    (await loadClientIdentity({ cert: pki.path(`${name}.crt`), key: pki.path(`${name}.key`) }))!;
  [kong, stranger, expired, future] = await Promise.all(
    ['client', 'client-other', 'client-expired', 'client-future'].map(identity),
  );
});
after(() => pki?.remove());

/** A Node https server for this test (pki.server's certificate unless `opts` says), closed after it. */
async function serve(t: TestContext, opts: Partial<HttpsOptions> = {}) {
  const s = await startHttpsServer({ cert: pki.server.cert, key: pki.server.key, ...opts });
  t.after(() => s.close());
  return s;
}

/** `openssl s_server` for this test, requiring a client certificate from pki.ca; closed after it. */
async function serveOpenssl(t: TestContext, opts: Partial<OpensslOptions> = {}) {
  const s = await startOpensslServer({
    cert: pki.server.cert,
    key: pki.server.key,
    ca: pki.ca.cert,
    clientAuth: 'require',
    ...opts,
  });
  t.after(() => s.close());
  return s;
}

function client(t: TestContext, opts: Partial<HttpClientOptions> = {}): HttpClient {
  const c = new HttpClient({ ca: pki.path('ca.crt'), timeoutMs: 10_000, ...opts });
  t.after(() => c.close());
  return c;
}

/** The request's MtlsOAuthError (fails the test when the request succeeds). */
async function failure(
  c: HttpClient,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<MtlsOAuthError> {
  try {
    const r = await c.request({ url, expectJson: false, step: 'probe', ...extra });
    assert.fail(`expected a failure, got HTTP ${r.status}`);
  } catch (e) {
    if (!(e instanceof MtlsOAuthError)) throw e;
    return e;
  }
}

const tlsOf = (e: MtlsOAuthError) => e.details?.tls as ConnectionRecord;

describe('successful mTLS connections', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`${version}: protocol, cipher, chain, CertificateRequest with the configured CA names, certificate sent`, async (t) => {
      const s = await serve(t, {
        ca: [pki.ca.cert, pki.ca2.cert],
        minVersion: version,
        maxVersion: version,
      });
      const c = client(t, { identity: kong });
      const r = await c.request({ url: `${s.url}/hello` });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { ok: true, client: 'kong' });
      const rec = r.connection!;
      assert.equal(rec.protocol, version);
      assert.ok(rec.cipher && /^TLS_/.test(rec.cipher), rec.cipher);
      assert.equal(rec.alpn, 'http/1.1');
      assert.equal(rec.verified, true);
      assert.equal(rec.target, `127.0.0.1:${s.port}`);
      assert.equal(rec.serverChain[0].subject, 'CN=localhost');
      assert.equal(rec.serverChain[0].issuer, 'CN=Test CA,O=mtls-oauth tests');
      assert.ok(rec.serverChain[0].sans.includes('ip:127.0.0.1'));
      assert.match(rec.serverChain[0].sha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      assert.equal(rec.clientCertRequested, true);
      // Exactly the names the server was configured with, in its order, as RFC 4514 strings.
      assert.deepEqual(rec.acceptableCAs, [
        'CN=Test CA,O=mtls-oauth tests',
        'CN=Second CA,OU=Platform,O=Example\\, Inc.,C=US',
      ]);
      assert.ok(rec.signatureAlgorithms?.includes('ecdsa_secp256r1_sha256'));
      assert.deepEqual(rec.clientCertSent, { subject: 'CN=kong', x5tS256: kong.x5tS256 });
      assert.equal(rec.sessionReused, false);
      assert.equal(rec.error, undefined);
      assert.ok(rec.timings.tcpMs !== undefined && rec.timings.tlsMs !== undefined);
    });
  }

  it('reuses one connection per host (connections: 1) and records each connection once', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    const c = client(t, { identity: kong });
    for (let i = 0; i < 3; i++) assert.equal((await c.request({ url: `${s.url}/n${i}` })).status, 200);
    assert.equal(c.connections.length, 1);
    assert.equal(c.connections[0].requests, 3);
  });

  it('resumes the TLS session on a new connection to the same host', async (t) => {
    const s = await serve(t, {
      ca: pki.ca.cert,
      handler: (_req, res) => {
        res.setHeader('connection', 'close');
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      },
    });
    const c = client(t, { identity: kong });
    await c.request({ url: `${s.url}/a` });
    await c.request({ url: `${s.url}/b` });
    assert.equal(c.connections.length, 2);
    assert.equal(c.connections[0].sessionReused, false);
    assert.equal(c.connections[1].sessionReused, true);
  });

  it('withClientCert:false uses a separate agent that presents no certificate', async (t) => {
    const s = await serve(t, {
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
    });
    const c = client(t, { identity: kong });
    const plain = await c.request({ url: `${s.url}/jwks`, withClientCert: false });
    const mtls = await c.request({ url: `${s.url}/token` });
    assert.deepEqual(plain.json, { ok: true, client: null });
    assert.deepEqual(mtls.json, { ok: true, client: 'kong' });
    assert.equal(c.connections.length, 2);
    assert.equal(plain.connection!.withClientCert, false);
    assert.equal(plain.connection!.clientCertSent, null);
    assert.equal(mtls.connection!.clientCertSent?.subject, 'CN=kong');
  });

  it('PKCS#12 identity (openssl-made, with password) connects', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    const p12 = await loadClientIdentity({ p12: pki.path('client.p12'), p12Password: 'p12 secret' });
    assert.equal(p12!.subjectDn, 'CN=kong');
    assert.equal(p12!.chain.length, 2);
    const r = await client(t, { identity: p12 }).request({ url: `${s.url}/` });
    assert.deepEqual(r.json, { ok: true, client: 'kong' });
  });

  it('caMode add keeps the system roots and trusts --ca; replace trusts only --ca', async (t) => {
    const s = await serve(t);
    assert.equal((await client(t, { caMode: 'add' }).request({ url: s.url })).status, 200);
    assert.equal((await client(t, { caMode: 'replace' }).request({ url: s.url })).status, 200);
    const e = await failure(client(t, { ca: pki.path('other-ca.crt'), caMode: 'replace' }), s.url);
    assert.equal(e.code, 'TLS_SERVER_UNTRUSTED');
  });

  it('--insecure connects to an untrusted server on that client only, records why, never touches NODE_TLS_REJECT_UNAUTHORIZED', async (t) => {
    const s = await serve(t, { cert: pki.selfSigned.cert, key: pki.selfSigned.key });
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const r = await client(t, { insecure: true }).request({ url: s.url });
    assert.equal(process.env.NODE_TLS_REJECT_UNAUTHORIZED, before);
    assert.equal(r.status, 200);
    assert.equal(r.connection!.verified, false);
    assert.equal(r.connection!.verifyError, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.equal(r.connection!.insecure, true);
    // A client without --insecure still refuses it.
    assert.equal((await failure(client(t), s.url)).code, 'TLS_SERVER_SELF_SIGNED');
  });
});

describe("the server's certificate", () => {
  it('untrusted (issued by a CA we do not trust)', async (t) => {
    const s = await serve(t, { cert: pki.serverOtherCa.cert, key: pki.serverOtherCa.key });
    const e = await failure(client(t), s.url);
    assert.equal(e.code, 'TLS_SERVER_UNTRUSTED');
    assert.equal(e.kind, 'network');
    assert.match(e.message, /CN=localhost, issued by CN=Other CA,O=Elsewhere/);
    assert.match(e.hint!, /--ca FILE/);
    assert.equal(tlsOf(e).verifyError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(tlsOf(e).serverChain[0].issuer, 'CN=Other CA,O=Elsewhere');
  });

  it('self-signed', async (t) => {
    const s = await serve(t, { cert: pki.selfSigned.cert, key: pki.selfSigned.key });
    const e = await failure(client(t), s.url);
    assert.equal(e.code, 'TLS_SERVER_SELF_SIGNED');
    assert.match(e.message, /self-signed/);
    assert.match(e.hint!, /--ca FILE/);
    assert.match(e.hint!, /SHA-256 [0-9A-F:]+/);
    assert.equal(tlsOf(e).serverChain[0].subject, 'CN=localhost,O=Self Signed');
  });

  for (const [name, server, code, message, hint] of [
    [
      'expired',
      'serverExpired',
      'TLS_SERVER_EXPIRED',
      /CN=localhost expired on \d{4}-\d\d-\d\d/,
      /renew|clock/,
    ],
    [
      'wrong host name',
      'serverWrongHost',
      'TLS_HOSTNAME_MISMATCH',
      /not valid for 127\.0\.0\.1; it names dns:wrong\.example/,
      /ip:127\.0\.0\.1/,
    ],
  ] as const) {
    it(name, async (t) => {
      const s = await serve(t, { cert: pki[server].cert, key: pki[server].key });
      const e = await failure(client(t), s.url);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.match(e.hint!, hint);
    });
  }
});

describe('the client certificate', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`required and none sent (Node server, ${version})`, async (t) => {
      const s = await serve(t, {
        ca: pki.ca.cert,
        maxVersion: version,
      });
      const e = await failure(client(t), s.url);
      assert.equal(e.code, 'TLS_CLIENT_CERT_REQUIRED');
      assert.match(e.message, version === 'TLSv1.3' ? /certificate_required/ : /handshake_failure/);
      assert.match(e.hint!, /--cert FILE --key FILE/);
      assert.match(e.hint!, /issued by CN=Test CA,O=mtls-oauth tests/);
      const rec = tlsOf(e);
      assert.equal(rec.clientCertRequested, true);
      assert.equal(rec.clientCertSent, null);
      if (version === 'TLSv1.3') {
        // Alert 116 arrives after the handshake; undici reports "other side closed". The socket's first
        // error and the decrypted alert keep the truth.
        assert.equal(rec.error?.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
        assert.deepEqual(rec.alerts, ['certificate_required (116)']);
      } else {
        assert.ok(rec.alerts?.includes('handshake_failure (40)'), String(rec.alerts));
      }
    });
  }

  it('required and none sent (openssl s_server -Verify 1)', async (t) => {
    const s = await serveOpenssl(t);
    const e = await failure(client(t), s.url);
    assert.equal(e.code, 'TLS_CLIENT_CERT_REQUIRED');
    assert.equal(e.details?.alert, 'certificate_required (116)');
  });

  it('a call without a certificate to an endpoint that demands one says so', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    const e = await failure(client(t, { identity: kong }), s.url, { withClientCert: false });
    assert.equal(e.code, 'TLS_CLIENT_CERT_REQUIRED');
    assert.match(e.hint!, /without a client certificate on purpose/);
  });

  it('rejected: unknown CA (openssl sends alert 48, names no CAs)', async (t) => {
    const s = await serveOpenssl(t, { noCaNames: true });
    const e = await failure(client(t, { identity: stranger }), s.url);
    assert.equal(e.code, 'TLS_CLIENT_CERT_REJECTED');
    assert.equal(e.details?.alert, 'unknown_ca (48)');
    assert.match(e.message, /does not trust the CA that issued it/);
    assert.match(e.hint!, /CN=stranger\) is issued by CN=Other CA,O=Elsewhere/);
    assert.deepEqual(tlsOf(e).clientCertSent?.subject, 'CN=stranger');
    assert.deepEqual(tlsOf(e).alerts, ['unknown_ca (48)']);
  });

  for (const c of [
    {
      name: 'rejected: expired (openssl sends alert 45)',
      identity: () => expired,
      alert: 'certificate_expired (45)',
      hint: /CN=kong-expired is valid until \d{4}-\d\d-\d\d/,
    },
    {
      name: 'rejected: bad certificate (openssl sends alert 42 for a certificate not yet valid)',
      identity: () => future,
      alert: 'bad_certificate (42)',
      message: /bad_certificate/,
      hint: /your certificate CN=kong-future is not valid before \d{4}-\d\d-\d\dT/,
    },
  ]) {
    it(c.name, async (t) => {
      const s = await serveOpenssl(t);
      const e = await failure(client(t, { identity: c.identity() }), s.url);
      assert.equal(e.code, 'TLS_CLIENT_CERT_REJECTED');
      assert.equal(e.details?.alert, c.alert);
      if (c.message) assert.match(e.message, c.message);
      assert.match(e.hint!, c.hint);
    });
  }

  it('rejected without an alert (a Node server just closes): expired certificate named in the hint', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    const e = await failure(client(t, { identity: expired }), s.url);
    assert.equal(e.code, 'TLS_CLIENT_CERT_REJECTED');
    assert.match(e.message, /closed the connection right after receiving it, without saying why/);
    assert.match(e.hint!, /CN=kong-expired expired on \d{4}-\d\d-\d\d/);
  });

  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`not from a CA the server accepts (Node server, ${version})`, async (t) => {
      const s = await serve(t, {
        ca: [pki.ca.cert, pki.ca2.cert],
        maxVersion: version,
      });
      const e = await failure(client(t, { identity: stranger }), s.url);
      assert.equal(e.code, 'TLS_CLIENT_CA_NOT_ACCEPTED');
      assert.equal(
        e.hint,
        "the server accepts client certificates issued by one of: CN=Test CA,O=mtls-oauth tests; CN=Second CA,OU=Platform,O=Example\\, Inc.,C=US; yours (CN=stranger) is issued by CN=Other CA,O=Elsewhere. Use a certificate from an accepted CA, or have CN=Other CA,O=Elsewhere added to the server's trusted client CAs",
      );
      assert.deepEqual(tlsOf(e).acceptableCAs, [
        'CN=Test CA,O=mtls-oauth tests',
        'CN=Second CA,OU=Platform,O=Example\\, Inc.,C=US',
      ]);
    });
  }

  it('not from a CA the server accepts (openssl lists its CAs and sends alert 48)', async (t) => {
    const s = await serveOpenssl(t);
    const e = await failure(client(t, { identity: stranger }), s.url);
    assert.equal(e.code, 'TLS_CLIENT_CA_NOT_ACCEPTED');
    assert.equal(e.details?.alert, 'unknown_ca (48)');
    assert.match(
      e.hint!,
      /issued by CN=Test CA,O=mtls-oauth tests; yours \(CN=stranger\) is issued by CN=Other CA/,
    );
  });
});

describe('network failures', () => {
  it('connection refused', async (t) => {
    const port = await closedPort();
    const e = await failure(client(t), `https://127.0.0.1:${port}/`);
    assert.equal(e.code, 'CONNECTION_REFUSED');
    assert.equal(e.kind, 'network');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(e.hint!, /port/);
  });

  it('DNS failure', async (t) => {
    const lookup = ((hostname: string, _o: unknown, cb: (e: Error) => void) => {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname,
      });
      process.nextTick(() => cb(err));
    }) as unknown as LookupFunction;
    const e = await failure(client(t, { lookup }), 'https://idp.does-not-exist.invalid/token');
    assert.equal(e.code, 'DNS_FAILURE');
    assert.match(e.message, /idp\.does-not-exist\.invalid cannot be resolved/);
    assert.match(e.hint!, /spelling|DNS/);
  });

  it('timeout (the port accepts TCP and never answers)', async (t) => {
    const s = await startSilentServer();
    t.after(() => s.close());
    const e = await failure(client(t, { timeoutMs: 300 }), s.url);
    assert.equal(e.code, 'TIMEOUT');
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /timed out after 0\.3 s in the TLS handshake with https:\/\/127\.0\.0\.1:/);
    assert.match(e.hint!, /really HTTPS/);
  });

  it('timeout waiting for the response', async (t) => {
    const s = await serve(t, { handler: () => {} });
    const e = await failure(client(t, { timeoutMs: 300 }), s.url);
    assert.equal(e.code, 'TIMEOUT');
    assert.match(e.message, /waiting for the response/);
  });
});

describe('responses', () => {
  it('HTML where JSON is expected: NOT_JSON with status, content type and the start of the body', async (t) => {
    const page = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>${'x'.repeat(500)}</body></html>`;
    const s = await serve(t, {
      handler: (_req, res) => {
        res.statusCode = 502;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(page);
      },
    });
    const e = await failure(client(t), `${s.url}/token`, { expectJson: true, step: 'token request' });
    assert.equal(e.code, 'NOT_JSON');
    assert.equal(e.kind, 'network');
    assert.match(
      e.message,
      /^token request: 127\.0\.0\.1:\d+ answered HTTP 502 with text\/html; charset=utf-8 instead of JSON: "<!DOCTYPE html>/,
    );
    assert.match(e.hint!, /proxy/);
    assert.equal(e.details?.status, 502);
    assert.equal(e.details?.contentType, 'text/html; charset=utf-8');
    assert.equal(e.details?.bodyStart, `${page.slice(0, 200)}…`);
    assert.ok(e.details?.tls);
  });

  it('HTTP error statuses with JSON are returned, not thrown', async (t) => {
    const s = await serve(t, {
      handler: (_req, res) => {
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end('{"error":"invalid_client"}');
      },
    });
    const r = await client(t).request({ url: s.url, form: { grant_type: 'client_credentials' } });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { error: 'invalid_client' });
  });

  for (const declared of [true, false]) {
    it(`a body over the limit is cut off: RESPONSE_TOO_LARGE (${declared ? 'content-length' : 'chunked'})`, async (t) => {
      const big = Buffer.alloc(3 * 1024 * 1024, 'a');
      const s = await serve(t, {
        handler: (_req, res) => {
          res.setHeader('content-type', 'application/json');
          if (declared) res.setHeader('content-length', big.length);
          res.on('error', () => {});
          res.end(big);
        },
      });
      const e = await failure(client(t, { maxBodyBytes: 1024 * 1024 }), s.url);
      assert.equal(e.code, 'RESPONSE_TOO_LARGE');
      assert.match(e.message, /larger than 1048576 bytes/);
    });
  }
});

describe('probe (the tls command: status line and headers only, same connector and records)', () => {
  it('records the connection like request() and returns the status', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    const lines: string[] = [];
    const c = client(t, { identity: kong, log: (l) => lines.push(l) });
    const r = await c.probe({ url: `${s.url}/probe?x=1`, method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.connection?.clientCertSent?.subject, 'CN=kong');
    assert.deepEqual(r.connection?.acceptableCAs, ['CN=Test CA,O=mtls-oauth tests']);
    assert.equal(r.connection?.requests, 1);
    assert.equal(c.connections.length, 1);
    assert.match(lines.join('\n'), /^> HEAD https:\/\/127\.0\.0\.1:\d+\/probe\?x=1$/m);
    assert.match(lines.join('\n'), /^< 200$/m);
  });

  it('fails exactly like request(): certificate required (TLS 1.3 alert 116)', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    await assert.rejects(client(t).probe({ url: s.url }), (e: MtlsOAuthError) => {
      assert.equal(e.code, 'TLS_CLIENT_CERT_REQUIRED');
      assert.deepEqual(tlsOf(e).alerts, ['certificate_required (116)']);
      return true;
    });
  });

  it('fails exactly like request(): rejected without an alert (Node server closes)', async (t) => {
    const s = await serve(t, { ca: pki.ca.cert });
    await assert.rejects(client(t, { identity: expired }).probe({ url: s.url }), {
      code: 'TLS_CLIENT_CERT_REJECTED',
    });
  });

  it('a server that never answers the request: TIMEOUT waiting for the response', async (t) => {
    const s = await serve(t, { handler: () => {} });
    await assert.rejects(client(t, { timeoutMs: 300 }).probe({ url: s.url }), (e: MtlsOAuthError) => {
      assert.equal(e.code, 'TIMEOUT');
      assert.match(e.message, /waiting for the response/);
      return true;
    });
  });
});

describe('verbose log', () => {
  it('shows requests, responses and the TLS record, with secrets redacted', async (t) => {
    const s = await serve(t, {
      ca: pki.ca.cert,
      handler: (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('set-cookie', 'session=abcdefghijklmnopqrstuvwxyz');
        res.end(
          JSON.stringify({ access_token: 'eyJhbGciOiJFUzI1NiJ9.secret-access-token', token_type: 'Bearer' }),
        );
      },
    });
    const lines: string[] = [];
    const c = client(t, { identity: kong, log: (l) => lines.push(l) });
    await c.request({
      url: `${s.url}/token?code=SplxlOBeZQQYbYS6WxSbIA`,
      form: {
        grant_type: 'authorization_code',
        client_id: 'kong',
        client_secret: 'very-secret-value-123',
        code: 'SplxlOBeZQQYbYS6WxSbIA',
      },
      headers: { authorization: 'Basic a29uZzp2ZXJ5LXNlY3JldC12YWx1ZS0xMjM=' },
    });
    const log = lines.join('\n');
    for (const secret of [
      'very-secret-value-123',
      'SplxlOBeZQQYbYS6WxSbIA',
      'a29uZzp2ZXJ5LXNlY3JldC12YWx1ZS0xMjM=',
      'secret-access-token',
      'abcdefghijklmnopqrstuvwxyz',
    ]) {
      assert.ok(!log.includes(secret), `log leaks ${secret}:\n${log}`);
    }
    assert.match(log, /^> POST https:\/\/127\.0\.0\.1:\d+\/token\?code=\*\*\*\(22 chars\)$/m);
    assert.match(log, /^> authorization: Basic \*\*\*\(36 chars\)$/m);
    assert.match(
      log,
      /^> grant_type=authorization_code&client_id=kong&client_secret=\*\*\*\(21 chars\)&code=\*\*\*\(22 chars\)$/m,
    );
    assert.match(log, /"access_token":"sha256:[0-9a-f]{8}…\(\d+ chars\)"/);
    assert.match(log, /client_id=kong/);
    assert.match(log, /^< 200$/m);
    assert.match(log, /^< content-type: application\/json$/m);
    assert.match(log, /"token_type":"Bearer"/);
    assert.match(log, /^\* connection to 127\.0\.0\.1:\d+/m);
    assert.match(log, /client certificate sent: CN=kong/);
    assert.match(log, /acceptable CAs: CN=Test CA,O=mtls-oauth tests/);
  });
});
