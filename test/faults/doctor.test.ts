// The doctor summary: at the end of a failed command run with -v, the likely causes ranked, from
// the error and the connection records. Unit tests of the ranking, then the built CLI against real
// servers for the common failures.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { connectionSummary } from '../../src/cli/doctor.ts';
import { likelyCauses } from '../../src/core/diagnosis/causes.ts';
import type { ConnectionRecord } from '../../src/core/transport/diagnostics.ts';
import { startBadServer } from '../helpers/bad-servers.ts';
import { jsonOf, runCli } from '../helpers/cli.ts';
import type { PkiFiles, TestIdp } from '../helpers/idp.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { makeCa } from '../helpers/pki.ts';
import { startHttpsServer } from '../helpers/tls-servers.ts';

const record = (r: Partial<ConnectionRecord>): ConnectionRecord => ({
  target: '127.0.0.1:8443',
  scheme: 'https:',
  withClientCert: true,
  timings: { tcpMs: 1, tlsMs: 2 },
  serverChain: [],
  verified: true,
  ...r,
});

describe('likelyCauses (ranking)', () => {
  it('a certificate from a CA the server did not ask for comes first', () => {
    const r = record({
      protocol: 'TLSv1.3',
      clientCertRequested: true,
      acceptableCAs: ['CN=Corp Issuing CA'],
      clientCertConfigured: {
        subject: 'CN=kong',
        issuer: 'CN=mtls-oauth Test CA',
        x5tS256: 'x',
        source: 'f',
      },
      clientCertSent: { subject: 'CN=kong', x5tS256: 'x' },
      error: { code: 'ECONNRESET', message: 'socket hang up' },
    });
    const causes = likelyCauses(
      { code: 'TLS_CLIENT_CA_NOT_ACCEPTED', kind: 'network', message: 'rejected', hint: 'h', details: {} },
      [r],
    );
    assert.equal(
      causes[0].text,
      "the server (127.0.0.1:8443) asked for a certificate from 'CN=Corp Issuing CA' but yours is from 'CN=mtls-oauth Test CA'",
    );
    assert.match(causes[0].fix!, /use a client certificate issued by 'CN=Corp Issuing CA'/);
  });

  it('invalid_client on a connection that asked for no certificate: use the mtls alias', () => {
    const r = record({
      protocol: 'TLSv1.3',
      clientCertRequested: false,
      clientCertSent: null,
      clientCertConfigured: { subject: 'CN=kong', issuer: 'CN=CA', x5tS256: 'x', source: 'f' },
    });
    const [first] = likelyCauses(
      {
        code: 'OAUTH_INVALID_CLIENT',
        kind: 'oauth',
        message: 'token request failed: invalid_client',
        details: { endpoint: 'https://idp.example.com/token' },
      },
      [r],
    );
    assert.equal(
      first.text,
      'no client certificate was requested on https://idp.example.com/token, so none was sent',
    );
    assert.match(first.fix!, /use the mtls alias of that endpoint/);
  });

  it('an untrusted server: pass --ca', () => {
    const r = record({
      protocol: 'TLSv1.3',
      verified: false,
      verifyError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      serverChain: [
        { subject: 'CN=idp', issuer: 'CN=Corp Root', notBefore: '', notAfter: '', sans: [], sha256: '' },
      ],
    });
    const [first] = likelyCauses(
      { code: 'TLS_SERVER_UNTRUSTED', kind: 'network', message: 'm', details: { url: 'https://idp/' } },
      [r],
    );
    assert.match(first.text, /^the server certificate is not trusted: its chain ends at 'CN=Corp Root'/);
    assert.match(first.fix!, /pass --ca FILE with the IdP's CA certificate/);
  });

  it('timeouts by phase; a proxy in the way is mentioned', () => {
    const r = record({ timings: { tcpMs: 1 }, proxy: 'http://proxy:3128', protocol: undefined });
    const causes = likelyCauses(
      {
        code: 'TIMEOUT',
        kind: 'timeout',
        message: 'm',
        details: { phase: 'tls', timeoutMs: 1000, url: 'https://idp.example.com/token' },
      },
      [r],
    );
    assert.match(
      causes[0].text,
      /^idp\.example\.com accepts TCP but never completed a TLS handshake within 1 s/,
    );
    assert.ok(
      causes.some(
        (c) =>
          /went through the proxy http:\/\/proxy:3128/.test(c.text) &&
          /NO_PROXY=idp\.example\.com/.test(c.fix!),
      ),
    );
  });

  it('nothing to say: no causes', () => {
    assert.deepEqual(likelyCauses({ code: 'SOMETHING', message: 'm' }, []), []);
  });

  it('connectionSummary: one line per connection', () => {
    assert.equal(
      connectionSummary(
        record({
          protocol: 'TLSv1.2',
          serverChain: [
            { subject: 'CN=a', issuer: 'CN=b', notBefore: '', notAfter: '', sans: [], sha256: '' },
          ],
          clientCertRequested: true,
          acceptableCAs: ['CN=b'],
          clientCertSent: { subject: 'CN=kong', x5tS256: 'x' },
          alerts: ['unknown_ca (48)'],
        }),
      ),
      '127.0.0.1:8443: TLSv1.2; server verified; client certificate requested from CN=b; sent CN=kong; alert unknown_ca (48)',
    );
  });
});

describe('doctor in the CLI (-v, after the error)', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let files: PkiFiles;
  let home: string;
  const env = () => fx.env();
  const doctorOf = (stderr: string) =>
    stderr.slice(stderr.indexOf('doctor: likely causes, most likely first'));

  before(async () => {
    fx = await idpFixture({ aliases: true, prefix: 'mtls-oauth-doctor-' });
    ({ idp, files, home } = fx);
  });
  after(() => fx.close());

  test("the server asks for a certificate from 'CN=Corp Issuing CA', yours is from 'CN=mtls-oauth Test CA'", async (t) => {
    const corp = await makeCa('CN=Corp Issuing CA,O=Corp');
    const server = await startHttpsServer({
      cert: idp.pki.server.cert,
      key: idp.pki.server.key,
      ca: corp.cert,
    });
    t.after(() => server.close());
    const r = await runCli(
      ['tls', server.url, '--cert', files.clientCert, '--key', files.clientKey, '--ca', files.ca, '-v'],
      {
        env: env(),
      },
    );
    assert.equal(r.code, 3, r.stderr);
    const doctor = doctorOf(r.stderr);
    assert.match(
      doctor,
      /^ {2}1\. the server \(127\.0\.0\.1:\d+\) asked for a certificate from 'CN=Corp Issuing CA,O=Corp' but yours is from 'CN=mtls-oauth Test CA,O=mtls-oauth tests'$/m,
    );
    assert.match(
      doctor,
      /connections:\n {4}127\.0\.0\.1:\d+: TLSv1\.3; server verified; client certificate requested from CN=Corp Issuing CA,O=Corp; sent CN=kong.*\n {6}verdict: fail TLS_CLIENT_CA_NOT_ACCEPTED$/m,
    );
  });

  test('invalid_client at the plain token endpoint: "no client certificate was requested ... use the mtls alias"', async () => {
    const r = await runCli(
      [
        'token',
        '--token-endpoint',
        idp.endpoints.token,
        '--client-id',
        'kong',
        '--cert',
        files.clientCert,
        '--key',
        files.clientKey,
        '--ca',
        files.ca,
        '--no-cache',
        '-v',
      ],
      { env: env() },
    );
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      doctorOf(r.stderr),
      new RegExp(
        `1\\. no client certificate was requested on ${idp.endpoints.token.replace(/\./g, '\\.')}, so none was sent\\n {5}fix: use the mtls alias`,
      ),
    );
    // The connection's verdict, as `tls` gives it for that endpoint.
    assert.match(doctorOf(r.stderr), /^ {6}verdict: warn TLS_CLIENT_CERT_NOT_REQUESTED$/m);
  });

  test('an untrusted server certificate: "pass --ca FILE with the IdP\'s CA"', async () => {
    const r = await runCli(['discover', idp.issuer, '-v'], { env: env() });
    assert.equal(r.code, 3);
    const doctor = doctorOf(r.stderr);
    assert.match(
      doctor,
      /1\. the server certificate is not trusted: its chain ends at the root 'CN=mtls-oauth Test CA,O=mtls-oauth tests', which is not trusted here/,
    );
    assert.match(doctor, /fix: pass --ca FILE with the IdP's CA certificate/);
  });

  test('smoke with an unregistered certificate: the failed step is diagnosed', async () => {
    const r = await runCli(
      [
        'smoke',
        '--issuer',
        idp.issuer,
        '--client-id',
        'kong',
        '--cert',
        files.otherCert,
        '--key',
        files.otherKey,
        '--ca',
        files.ca,
        '-v',
      ],
      { env: env() },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      doctorOf(r.stderr),
      /1\. the IdP received your certificate 'CN=intruder,OU=gateway,O=mtls-oauth tests' \(from 'CN=mtls-oauth Test CA,O=mtls-oauth tests'\) but does not accept it for this client/,
    );
  });

  test('a timeout: the phase in plain words', async (t) => {
    const s = await startBadServer('silent');
    t.after(() => s.close());
    const r = await runCli(['discover', s.url, '--timeout', '1', '-v'], { env: env() });
    assert.equal(r.code, 5);
    assert.match(
      doctorOf(r.stderr),
      /1\. 127\.0\.0\.1:\d+ accepts TCP but never completed a TLS handshake within 1 s: it is probably not an HTTPS port/,
    );
  });

  test('only with -v, and never on stdout with --json', async () => {
    const plain = await runCli(['discover', idp.issuer], { env: env() });
    assert.equal(plain.code, 3);
    assert.doesNotMatch(plain.stderr, /doctor:/);
    const json = await runCli(['discover', idp.issuer, '--json', '-v'], { env: env() });
    assert.equal(json.code, 3);
    jsonOf(json);
    assert.doesNotMatch(json.stdout + json.stderr, /doctor:/);
  });

  test('usage errors get no doctor section', async () => {
    const missing = join(home, 'missing.crt');
    writeFileSync(join(home, 'x'), '');
    const r = await runCli(['tls', idp.issuer, '--cert', missing, '--key', files.clientKey, '-v'], {
      env: env(),
    });
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /doctor:/);
  });
});
