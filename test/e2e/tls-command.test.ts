// `mtls-oauth tls URL` end to end: the built CLI against real servers on 127.0.0.1. Each failure
// case asserts the exit code, the error code (--json) and the hint (human output).

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it, type TestContext } from 'node:test';
import { assertCleanFailure, assertNoStack, cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';
import type { TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import {
  closedPort,
  makeTransportPki,
  type Running,
  startHttpsServer,
  startOpensslServer,
  startSilentServer,
  type TransportPki,
} from '../helpers/tls-servers.ts';
import { unluckyPassphrase } from '../helpers/unlucky-passphrase.ts';

let pki: TransportPki;
before(async () => {
  pki = await makeTransportPki();
});
after(() => pki?.remove());

/** `--cert --key` of the client certificate NAME.crt / NAME.key, and `--ca` of the test CA. */
const certArgs = (name: string) => [
  '--cert',
  pki.path(`${name}.crt`),
  '--key',
  pki.path(`${name}.key`),
  '--ca',
  pki.path('ca.crt'),
];
const idArgs = () => certArgs('client');
const strangerArgs = () => certArgs('client-other');

function keep<T extends Running>(t: TestContext, s: T): T {
  t.after(() => s.close());
  return s;
}

/** Runs the probe twice: human (exit code, hint on stderr, story on stdout) and --json (error code). */
async function expectFailure(
  url: string,
  args: string[],
  exit: number,
  code: string,
  hint: RegExp,
  env?: NodeJS.ProcessEnv,
) {
  const human = await runCli(['tls', url, ...args], { env });
  assertCleanFailure(human, exit, /^error: /m);
  assert.match(human.stderr, new RegExp(`^hint: .*${hint.source}`, 'm'));
  const json = await runCli(['tls', url, ...args, '--json'], { env });
  assert.equal(json.code, exit, json.stderr);
  const doc = jsonOf(json);
  assert.equal(doc.ok, false);
  assert.equal(doc.command, 'tls');
  assert.equal(doc.error?.code, code, JSON.stringify(doc.error));
  assert.match(doc.error?.hint ?? '', hint);
  return { human, doc };
}

describe('mtls-oauth tls', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`success (${version}): protocol, cipher, chain, acceptable CAs, certificate sent and accepted; exit 0`, async (t) => {
      const s = keep(
        t,
        await startHttpsServer({
          cert: pki.server.cert,
          key: pki.server.key,
          ca: [pki.ca.cert, pki.ca2.cert],
          maxVersion: version,
        }),
      );
      const r = await runCli(['tls', `${s.url}/`, ...idArgs()]);
      assert.equal(r.code, 0, r.stderr);
      assertNoStack(r);
      assert.match(r.stdout, new RegExp(`protocol +${version.replace('.', '\\.')}`));
      assert.match(r.stdout, /cipher +TLS_/);
      assert.match(r.stdout, /0: subject +CN=localhost/);
      assert.match(r.stdout, /issuer +CN=Test CA,O=mtls-oauth tests/);
      assert.match(
        r.stdout,
        /acceptable CAs:\n +CN=Test CA,O=mtls-oauth tests\n +CN=Second CA,OU=Platform,O=Example\\, Inc\.,C=US/,
      );
      assert.match(r.stdout, /client certificate sent: CN=kong/);
      assert.match(r.stdout, /✓ client certificate accepted/);
      assert.match(r.stdout, /✓ HTTP: status 200/);

      const j = jsonOf(await runCli(['tls', `${s.url}/`, ...idArgs(), '--json']));
      assert.equal(j.ok, true);
      assert.equal(j.result.status, 200);
      assert.equal(j.result.identity.subject, 'CN=kong');
      assert.equal(j.tls[0].protocol, version);
      assert.deepEqual(j.tls[0].acceptableCAs, [
        'CN=Test CA,O=mtls-oauth tests',
        'CN=Second CA,OU=Platform,O=Example\\, Inc.,C=US',
      ]);
      assert.equal(j.tls[0].clientCertSent.subject, 'CN=kong');
      assert.ok(
        j.checks.every((c) => c.status === 'pass'),
        JSON.stringify(j.checks),
      );
    });
  }

  it('a non-2xx status is fine: this is about TLS', async (t) => {
    const s = keep(
      t,
      await startHttpsServer({
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        handler: (_q, res) => {
          res.statusCode = 404;
          res.end('<html>not found</html>');
        },
      }),
    );
    const r = await runCli(['tls', `${s.url}/nothing`, ...idArgs()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /HTTP: status 404/);
  });

  it('-v prints the request, the response and the connection on stderr', async (t) => {
    const s = keep(
      t,
      await startHttpsServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert }),
    );
    const r = await runCli(['tls', `${s.url}/`, ...idArgs(), '-v']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^> GET https:\/\/127\.0\.0\.1:\d+\/$/m);
    assert.match(r.stderr, /^< 200$/m);
    assert.match(r.stderr, /^\* connection to 127\.0\.0\.1:\d+/m);
  });

  it('PKCS#12 with the password from the environment', async (t) => {
    const s = keep(
      t,
      await startHttpsServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert }),
    );
    const r = await runCli(['tls', s.url, '--p12', pki.path('client.p12'), '--ca', pki.path('ca.crt')], {
      env: cleanEnv({ MTLS_OAUTH_P12_PASSWORD: 'p12 secret' }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /client certificate sent: CN=kong/);
  });

  it('--insecure is loud and per run', async (t) => {
    const s = keep(t, await startHttpsServer({ cert: pki.selfSigned.cert, key: pki.selfSigned.key }));
    const r = await runCli(['tls', s.url, '--insecure']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --insecure/);
    assert.match(r.stdout, /NOT verified \(DEPTH_ZERO_SELF_SIGNED_CERT\), ignored because of --insecure/);
  });

  it('a certificate from a CA the server did not name, on a server that does not enforce it (openssl s_server -verify 1): a warning naming the acceptable CAs, in tls and in smoke', async (t) => {
    const s = keep(
      t,
      await startOpensslServer({
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca.cert,
        clientAuth: 'request-unenforced',
      }),
    );
    const url = `${s.url}/token`;
    const r = await runCli(['tls', url, ...strangerArgs()]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /✓ client certificate accepted/);
    assert.match(r.stdout, /! client certificate accepted: only at the TLS level/);
    assert.match(
      r.stdout,
      /warning TLS_CLIENT_CA_NOT_LISTED: .*"CN=Other CA,O=Elsewhere".* not among the CAs it accepts \("CN=Test CA,O=mtls-oauth tests"\)/,
    );
    assert.match(r.stdout, /hint: .*invalid_client/);
    const j = jsonOf(await runCli(['tls', url, ...strangerArgs(), '--json']));
    assert.equal(j.ok, true);
    assert.equal(j.result.verdict.status, 'warn');
    assert.equal(j.result.verdict.code, 'TLS_CLIENT_CA_NOT_LISTED');
    assert.equal(j.tls[0].clientCertIssuerListed, false);

    const smoke = await runCli(['smoke', '--steps', 'tls', '--token-endpoint', url, ...strangerArgs()]);
    assert.equal(smoke.code, 0, smoke.stderr);
    assert.match(smoke.stdout, /tls +! warn .*acceptable CAs: CN=Test CA,O=mtls-oauth tests/);
    assert.match(smoke.stdout, /hint: .*invalid_client.*use a certificate issued by "CN=Test CA/);
  });

  describe('server certificate failures (exit 3)', () => {
    it('untrusted', async (t) => {
      const s = keep(t, await startHttpsServer({ cert: pki.serverOtherCa.cert, key: pki.serverOtherCa.key }));
      const { human, doc } = await expectFailure(s.url, idArgs(), 3, 'TLS_SERVER_UNTRUSTED', /--ca FILE/);
      assert.match(human.stdout, /server certificate: NOT verified: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      assert.equal(doc.tls.serverChain[0].issuer, 'CN=Other CA,O=Elsewhere');
    });
    for (const [name, server, code, hint] of [
      ['self-signed', 'selfSigned', 'TLS_SERVER_SELF_SIGNED', /--ca FILE/],
      ['expired', 'serverExpired', 'TLS_SERVER_EXPIRED', /renew its certificate/],
      ['wrong host', 'serverWrongHost', 'TLS_HOSTNAME_MISMATCH', /ip:127\.0\.0\.1/],
    ] as const) {
      it(name, async (t) => {
        const s = keep(t, await startHttpsServer({ cert: pki[server].cert, key: pki[server].key }));
        await expectFailure(s.url, idArgs(), 3, code, hint);
      });
    }
  });

  describe('client certificate failures (exit 3)', () => {
    it('required, none sent (TLS 1.3 alert 116)', async (t) => {
      const s = keep(
        t,
        await startHttpsServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert }),
      );
      const { human, doc } = await expectFailure(
        s.url,
        ['--ca', pki.path('ca.crt')],
        3,
        'TLS_CLIENT_CERT_REQUIRED',
        /--cert FILE --key FILE .*issued by CN=Test CA,O=mtls-oauth tests/,
      );
      assert.match(human.stdout, /alerts from the server: certificate_required \(116\)/);
      assert.match(human.stdout, /✗ client certificate sent: no: none configured/);
      assert.equal(doc.tls.error.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    });
    for (const c of [
      {
        name: 'rejected: unknown CA, with the alert (openssl s_server)',
        client: 'client-other',
        noCaNames: true,
        hint: /have CN=Other CA,O=Elsewhere added to its trusted client CAs/,
        alert: 'unknown_ca (48)',
      },
      {
        name: 'rejected: expired, with the alert (openssl s_server)',
        client: 'client-expired',
        hint: /valid until/,
        alert: 'certificate_expired (45)',
      },
      {
        name: 'rejected: bad certificate (a certificate not yet valid), with the alert (openssl s_server)',
        client: 'client-future',
        hint: /not valid before/,
        alert: 'bad_certificate (42)',
        stdout: /alerts from the server: bad_certificate \(42\)/,
      },
    ]) {
      it(c.name, async (t) => {
        const s = keep(
          t,
          await startOpensslServer({
            cert: pki.server.cert,
            key: pki.server.key,
            ca: pki.ca.cert,
            clientAuth: 'require',
            noCaNames: c.noCaNames,
          }),
        );
        const { human, doc } = await expectFailure(
          s.url,
          certArgs(c.client),
          3,
          'TLS_CLIENT_CERT_REJECTED',
          c.hint,
        );
        assert.equal(doc.error?.details.alert, c.alert);
        if (c.stdout) assert.match(human.stdout, c.stdout);
      });
    }
    it('not from a CA the server accepts: names both sides', async (t) => {
      const s = keep(
        t,
        await startHttpsServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert }),
      );
      const { human } = await expectFailure(
        s.url,
        strangerArgs(),
        3,
        'TLS_CLIENT_CA_NOT_ACCEPTED',
        /accepts client certificates issued by CN=Test CA,O=mtls-oauth tests; yours \(CN=stranger\) is issued by CN=Other CA,O=Elsewhere/,
      );
      assert.match(human.stdout, /✗ client certificate accepted/);
    });
  });

  describe('network failures', () => {
    it('connection refused (exit 3)', async () => {
      const port = await closedPort();
      await expectFailure(`https://127.0.0.1:${port}/`, idArgs(), 3, 'CONNECTION_REFUSED', /port/);
    });
    it('DNS failure (exit 3)', async () => {
      // A resolver that knows no *.invalid name, preloaded into the CLI: no query leaves the machine.
      const preload = pki.path('dns-fail.mjs');
      writeFileSync(
        preload,
        `import dns from 'node:dns';
const orig = dns.lookup;
dns.lookup = function (host, opts, cb) {
  const done = typeof opts === 'function' ? opts : cb;
  if (String(host).endsWith('.invalid')) {
    process.nextTick(done, Object.assign(new Error('getaddrinfo ENOTFOUND ' + host + ' (test resolver)'), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: host }));
    return {};
  }
  return orig.apply(this, arguments);
};
`,
      );
      const env = cleanEnv({ NODE_OPTIONS: `--import=${preload}` });
      const { doc } = await expectFailure(
        'https://idp.no-such-host.invalid/',
        idArgs(),
        3,
        'DNS_FAILURE',
        /DNS/,
        env,
      );
      assert.equal(
        doc.error?.details.cause.message,
        'getaddrinfo ENOTFOUND idp.no-such-host.invalid (test resolver)',
      );
    });
    it('timeout (exit 5)', async (t) => {
      const s = keep(t, await startSilentServer());
      await expectFailure(s.url, [...idArgs(), '--timeout', '0.5'], 5, 'TIMEOUT', /really HTTPS/);
    });
  });

  describe('usage errors (exit 2)', () => {
    it('key does not match the certificate', async () => {
      const r = await runCli([
        'tls',
        'https://127.0.0.1:1/',
        '--cert',
        pki.path('client.crt'),
        '--key',
        pki.path('wrong.key'),
      ]);
      assertCleanFailure(r, 2, /does not belong to the certificate/);
      assert.match(r.stderr, /^hint: .*mtls-oauth certs inspect .* --key /m);
    });
    // A wrong passphrase, and one whose decryption passes the padding check by chance, so that
    // OpenSSL reports a decoding error instead of "bad decrypt": both are the passphrase.
    const withPassphrase = (passphrase: string) =>
      runCli(
        [
          'tls',
          'https://127.0.0.1:1/',
          '--cert',
          pki.path('client.crt'),
          '--key',
          pki.path('client-enc.key'),
        ],
        {
          env: cleanEnv({ MTLS_OAUTH_KEY_PASSPHRASE: passphrase }),
        },
      );
    it('wrong key passphrase', async () => {
      assertCleanFailure(await withPassphrase('nope nope'), 2, /wrong passphrase/);
    });
    it('wrong key passphrase that OpenSSL reports as a decoding error', async () => {
      const r = await withPassphrase(unluckyPassphrase(readFileSync(pki.path('client-enc.key'), 'utf8')));
      assertCleanFailure(r, 2, /wrong passphrase for the private key/);
      assert.doesNotMatch(r.stderr, /DECODER|unsupported/);
    });
    it('wrong PKCS#12 password', async () => {
      const r = await runCli(['tls', 'https://127.0.0.1:1/', '--p12', pki.path('client.p12')], {
        env: cleanEnv({ MTLS_OAUTH_P12_PASSWORD: 'nope' }),
      });
      assertCleanFailure(r, 2, /wrong password for the PKCS#12 file/);
    });
    it('no URL', async () => {
      const r = await runCli(['tls']);
      assertCleanFailure(r, 2, /give the URL to probe/);
    });
  });

  describe('--all --issuer: every endpoint and mtls alias of a real IdP (oidc-provider)', () => {
    let fx: IdpFixture;
    let idp: TestIdp;
    before(async () => {
      fx = await idpFixture({ aliases: true });
      idp = fx.idp;
    });
    after(() => fx?.close());

    it('one probe per origin; the alias host asks for the certificate and accepts it', async () => {
      const { files } = fx;
      const args = [
        'tls',
        '--all',
        '--issuer',
        idp.issuer,
        '--cert',
        files.clientCert,
        '--key',
        files.clientKey,
      ];
      const r = await runCli([...args, '--ca', files.ca]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(`\n${idp.mtlsUrl}  mtls_endpoint_aliases.token_endpoint`), r.stdout);
      assert.match(r.stdout, /expected: calls with a certificate go to the mtls_endpoint_aliases/);
      const j = jsonOf(await runCli([...args, '--ca', files.ca, '--json']));
      assert.equal(j.ok, true);
      assert.deepEqual(
        j.result.probes.map((p: { origin: string }) => p.origin),
        [idp.url, idp.mtlsUrl],
      );
      const alias = j.result.probes[1];
      assert.ok(alias.endpoints.includes('mtls_endpoint_aliases.token_endpoint'));
      assert.equal(alias.connection.clientCertRequested, true);
      assert.deepEqual(alias.connection.acceptableCAs, [idp.pki.ca.subject]);
      assert.equal(alias.connection.clientCertSent.subject, idp.clients.kong.subjectDn);
    });

    it('an untrusted IdP fails the run with exit 3 (and --insecure passes, loudly)', async () => {
      const base = [
        'tls',
        '--all',
        '--issuer',
        idp.issuer,
        '--ca',
        pki.path('other-ca.crt'),
        '--ca-mode',
        'replace',
      ];
      const bad = await runCli([...base, '--json']);
      assert.equal(bad.code, 3, bad.stderr);
      // The IdP sends its root with its chain: a self-signed root we do not trust.
      assert.equal(jsonOf(bad).error?.code, 'TLS_SERVER_SELF_SIGNED');
      const insecure = await runCli([...base, '--insecure']);
      assert.equal(insecure.code, 0, insecure.stderr);
      assert.match(insecure.stderr, /warning: --insecure/);
    });

    it('--all without --issuer is a usage error', async () => {
      const r = await runCli(['tls', '--all']);
      assertCleanFailure(r, 2, /--all probes the endpoints of an issuer: give --issuer URL/);
    });
  });

  it('--help ends with examples', async () => {
    const r = await runCli(['tls', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:\n(.*\n)*.*mtls-oauth tls https:/);
  });
});
