// The environment: NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn verification off (and the tool says
// it ignores it); HTTPS_PROXY / https_proxy and NO_PROXY are honoured through a CONNECT tunnel that
// keeps mutual TLS end to end, against a local proxy that records what it relayed.

import assert from 'node:assert/strict';
import { after, before, describe, it, test } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { neutralizeInsecureTlsEnvironment } from '../../src/core/transport/environment.ts';
import { HttpClient } from '../../src/core/transport/http-client.ts';
import { proxyFromEnvironment } from '../../src/core/transport/proxy.ts';
import { type ConnectProxy, startConnectProxy } from '../helpers/bad-servers.ts';
import { assertCleanFailure, jsonOf, runCli } from '../helpers/cli.ts';
import type { PkiFiles, TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { closedPort } from '../helpers/tls-servers.ts';

let fx: IdpFixture;
let idp: TestIdp;
let files: PkiFiles;

before(async () => {
  fx = await idpFixture({ aliases: true, prefix: 'mtls-oauth-env-' });
  ({ idp, files } = fx);
});
after(() => fx.close());

const env = (extra: NodeJS.ProcessEnv = {}) => fx.env(extra);
const kong = () => fx.args();

describe('NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
  it('in-process: an untrusted server still fails, for request() and for the probe', async (t) => {
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    t.after(() => {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
    });
    const c = new HttpClient({ proxy: false, timeoutMs: 10_000 });
    t.after(() => c.close());
    for (const call of [
      () => c.request({ url: `${idp.issuer}/.well-known/openid-configuration`, step: 'discovery' }),
      () => c.probe({ url: idp.issuer, step: 'TLS probe' }),
    ]) {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof MtlsOAuthError);
        assert.equal(e.kind, 'network');
        assert.match(e.code, /^TLS_SERVER_(SELF_SIGNED|UNTRUSTED)$/);
        return true;
      });
    }
    assert.ok(c.connections.every((r) => r.verified === false && r.verifyError));
  });

  it('neutralizeInsecureTlsEnvironment: a warning for "0" and the variable removed', () => {
    const e: NodeJS.ProcessEnv = { NODE_TLS_REJECT_UNAUTHORIZED: '0', OTHER: 'x' };
    assert.match(
      neutralizeInsecureTlsEnvironment(e)!,
      /NODE_TLS_REJECT_UNAUTHORIZED=0 is set .* and ignored/,
    );
    assert.deepEqual(e, { OTHER: 'x' });
    assert.equal(neutralizeInsecureTlsEnvironment({}), undefined);
    assert.equal(neutralizeInsecureTlsEnvironment({ NODE_TLS_REJECT_UNAUTHORIZED: '1' }), undefined);
  });

  for (const command of ['tls', 'discover', 'token'] as const) {
    it(`${command} without --ca: still exit 3 (untrusted), with a warning that the variable is ignored`, async () => {
      const args =
        command === 'tls'
          ? ['tls', idp.issuer]
          : command === 'discover'
            ? ['discover', idp.issuer]
            : ['token', ...kong().slice(0, -2), '--no-cache'];
      const r = await runCli(args, { env: env({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }) });
      assertCleanFailure(
        r,
        3,
        /the server's certificate chain ends in a self-signed root .* that is not trusted/,
      );
      assert.match(
        r.stderr,
        /^warning: NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment and ignored: mtls-oauth verifies every server certificate itself/m,
      );
      assert.doesNotMatch(
        r.stderr,
        /\(node:\d+\)|makes TLS connections and HTTPS requests insecure/,
        "Node's own warning would be untrue here",
      );
    });
  }

  it('with the right --ca the command works as usual (and still warns)', async () => {
    const r = await runCli(['token', ...kong(), '--no-cache'], {
      env: env({ NODE_TLS_REJECT_UNAUTHORIZED: '0' }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment and ignored/);
  });
});

describe('HTTPS_PROXY and NO_PROXY', () => {
  let proxy: ConnectProxy;
  before(async () => {
    proxy = await startConnectProxy();
  });
  after(() => proxy.close());

  test('token through the proxy: CONNECT to the IdP and its mTLS host, the client certificate reaches the IdP', async () => {
    const seenBefore = idp.requests.length;
    const connectsBefore = proxy.connects.length;
    const r = await runCli(['token', ...kong(), '--no-cache', '-v'], {
      env: env({ HTTPS_PROXY: proxy.url }),
    });
    assert.equal(r.code, 0, r.stderr);
    const connects = proxy.connects.slice(connectsBefore);
    assert.deepEqual(
      [...new Set(connects)].sort(),
      [`127.0.0.1:${idp.port}`, `127.0.0.1:${idp.mtlsPort}`].sort(),
      'discovery (plain host) and the token call (mtls alias) both went through the proxy',
    );
    assert.deepEqual(proxy.otherRequests, [], 'nothing but CONNECT: the proxy never saw a request');
    const token = idp.requests.slice(seenBefore).find((q) => q.path === '/token');
    assert.ok(token, 'the IdP got the token request');
    assert.equal(token.listener, 'mtls');
    assert.equal(token.clientCert, true, 'mTLS preserved through CONNECT');
    assert.match(r.stdout, /✓ binding: bound to our certificate/);
    assert.match(
      r.stderr,
      new RegExp(
        `\\* connection to 127\\.0\\.0\\.1:${idp.mtlsPort} via proxy ${proxy.url.replace(/\./g, '\\.')} \\(tcp [\\d.]+ ms, CONNECT [\\d.]+ ms, tls [\\d.]+ ms\\)`,
      ),
    );
    assert.match(r.stderr, /client certificate sent: CN=kong,OU=gateway,O=mtls-oauth tests/);
  });

  test('--json: each connection record says which proxy it went through', async () => {
    const r = await runCli(['tls', idp.aliases!.token_endpoint, ...kong().slice(4), '--json'], {
      env: env({ https_proxy: proxy.url }),
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = jsonOf(r);
    const rec = Array.isArray(doc.tls) ? doc.tls[0] : doc.tls;
    assert.equal(rec.proxy, proxy.url);
    assert.equal(rec.target, `127.0.0.1:${idp.mtlsPort}`);
    assert.equal(rec.clientCertSent.subject, 'CN=kong,OU=gateway,O=mtls-oauth tests');
    assert.equal(typeof rec.timings.proxyMs, 'number');
  });

  test('the tls command shows "via proxy" in its story', async () => {
    const r = await runCli(['tls', idp.aliases!.token_endpoint, ...kong().slice(4)], {
      env: env({ HTTPS_PROXY: proxy.url }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `Connection to 127\\.0\\.0\\.1:${idp.mtlsPort} via proxy ${proxy.url.replace(/\./g, '\\.')}`,
      ),
    );
  });

  test('https_proxy (lowercase) wins over HTTPS_PROXY, as in curl', async () => {
    const dead = await closedPort();
    const before = proxy.connects.length;
    const r = await runCli(['discover', idp.issuer, '--ca', files.ca], {
      env: env({ https_proxy: proxy.url, HTTPS_PROXY: `http://127.0.0.1:${dead}` }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(proxy.connects.length > before);
  });

  for (const noProxy of ['127.0.0.1', '127.0.0.0/8', '*', 'localhost, .example.com,127.0.0.1']) {
    test(`NO_PROXY=${noProxy}: straight to the IdP, the proxy sees nothing`, async () => {
      const before = proxy.connects.length;
      const r = await runCli(['token', ...kong(), '--no-cache', '-v'], {
        env: env({ HTTPS_PROXY: proxy.url, NO_PROXY: noProxy }),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(proxy.connects.length, before);
      assert.doesNotMatch(r.stderr, /via proxy/);
    });
  }

  test('a proxy that refuses CONNECT (403): exit 3, PROXY_FAILED, hint NO_PROXY', async (t) => {
    const deny = await startConnectProxy({ deny: true });
    t.after(() => deny.close());
    const r = await runCli(['token', ...kong(), '--no-cache'], { env: env({ HTTPS_PROXY: deny.url }) });
    assertCleanFailure(
      r,
      3,
      new RegExp(
        `the proxy ${deny.url.replace(/\./g, '\\.')} refused CONNECT 127\\.0\\.0\\.1:${idp.port}: HTTP 403 Forbidden`,
      ),
    );
    assert.match(r.stderr, /hint: .*NO_PROXY=127\.0\.0\.1/);
    const j = await runCli(['token', ...kong(), '--no-cache', '--json'], {
      env: env({ HTTPS_PROXY: deny.url }),
    });
    assert.equal(jsonOf(j).error?.code, 'PROXY_FAILED');
  });

  test('a proxy that wants credentials: 407 explained; credentials in the URL are sent, and never printed', async (t) => {
    const expected = `Basic ${Buffer.from('alice:s3cr%t pass').toString('base64')}`;
    const auth = await startConnectProxy({ requireAuth: expected });
    t.after(() => auth.close());
    const without = await runCli(['discover', idp.issuer, '--ca', files.ca], {
      env: env({ HTTPS_PROXY: auth.url }),
    });
    assertCleanFailure(without, 3, /HTTP 407 Proxy Authentication Required/);
    assert.match(without.stderr, /the proxy wants credentials: put them in the proxy URL/);

    const url = `http://alice:s3cr%25t%20pass@127.0.0.1:${auth.port}`;
    const r = await runCli(['discover', idp.issuer, '--ca', files.ca, '-v', '--json'], {
      env: env({ HTTPS_PROXY: url }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(auth.authorizations.at(-1), expected);
    for (const out of [r.stdout, r.stderr]) {
      assert.ok(!out.includes('s3cr'), 'the proxy password is nowhere in the output');
      assert.ok(!out.includes(expected.slice(6)), 'nor its Basic encoding');
    }
    assert.equal(jsonOf(r).tls[0].proxy, `http://127.0.0.1:${auth.port}`);
  });

  test('a proxy nobody listens on: exit 3, "cannot reach the proxy"', async () => {
    const dead = await closedPort();
    const r = await runCli(['discover', idp.issuer, '--ca', files.ca, '-v'], {
      env: env({ HTTPS_PROXY: `127.0.0.1:${dead}` }),
    });
    assertCleanFailure(
      r,
      3,
      new RegExp(
        `cannot reach the proxy http://127\\.0\\.0\\.1:${dead} \\(HTTPS_PROXY\\): connection refused`,
      ),
    );
    assert.match(r.stderr, /doctor: likely causes/);
    assert.match(r.stderr, /fix: .*NO_PROXY=127\.0\.0\.1/);
  });

  test('a proxy URL that cannot be used: exit 2 before any connection', async () => {
    for (const [value, message] of [
      ['socks5://127.0.0.1:1080', /HTTPS_PROXY: socks5:\/\/ proxies are not supported/],
      ['https://proxy.example:443', /HTTPS_PROXY: https:\/\/ proxies are not supported/],
      ['http://', /HTTPS_PROXY is not a URL/],
    ] as const) {
      const r = await runCli(['discover', idp.issuer, '--ca', files.ca], {
        env: env({ HTTPS_PROXY: value }),
      });
      assertCleanFailure(r, 2, message);
    }
  });

  test('plain http:// (loopback only) never goes through the proxy', () => {
    const settings = proxyFromEnvironment({ HTTPS_PROXY: proxy.url });
    assert.equal(settings?.routeFor({ hostname: '127.0.0.1', port: 80, protocol: 'http:' }), undefined);
    assert.equal(
      settings?.routeFor({ hostname: '127.0.0.1', port: 443, protocol: 'https:' })?.display,
      proxy.url,
    );
  });
});

test('NO_PROXY matching: names and their subdomains, leading dots, ports, IPs, CIDR ranges, IPv6, *', () => {
  const route = (noProxy: string, hostname: string, port = 443) =>
    proxyFromEnvironment({ HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: noProxy })!.routeFor({
      hostname,
      port,
      protocol: 'https:',
    })?.display;
  const via = 'http://proxy:3128';
  assert.equal(route('example.com', 'example.com'), undefined);
  assert.equal(route('example.com', 'idp.example.com'), undefined);
  assert.equal(route('example.com', 'badexample.com'), via);
  assert.equal(route('.example.com', 'idp.example.com'), undefined);
  assert.equal(route('*.example.com', 'idp.example.com'), undefined);
  assert.equal(route('EXAMPLE.com', 'Idp.Example.COM.'), undefined);
  assert.equal(route('example.com:8443', 'idp.example.com', 443), via);
  assert.equal(route('example.com:8443', 'idp.example.com', 8443), undefined);
  assert.equal(route('10.0.0.0/8', '10.1.2.3'), undefined);
  assert.equal(route('10.0.0.0/8', '11.1.2.3'), via);
  assert.equal(route('10.0.0.0/8', 'ten.example'), via);
  assert.equal(route('::1', '::1'), undefined);
  assert.equal(route('[::1]:443', '0:0:0:0:0:0:0:1'), undefined);
  assert.equal(route('fd00::/8', 'fd12::1'), undefined);
  assert.equal(route('*', 'anything.example'), undefined);
  assert.equal(route('a.example, b.example  c.example', 'c.example'), undefined);
  assert.equal(route('', 'idp.example.com'), via);
  assert.equal(proxyFromEnvironment({}), undefined);
  assert.equal(proxyFromEnvironment({ HTTPS_PROXY: 'http://p:1' }, false), undefined);
  assert.equal(proxyFromEnvironment({}, 'proxy.example:8080')?.route.display, 'http://proxy.example:8080');
});
