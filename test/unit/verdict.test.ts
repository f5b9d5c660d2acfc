// The verdict on a connection record, for the cases the end-to-end parity test
// (test/e2e/verdict-parity.test.ts) cannot make a server produce cheaply.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { issuerNotListed, verdictOf } from '../../src/core/diagnosis/verdict.ts';
import type { ConnectionRecord } from '../../src/core/transport/diagnostics.ts';

const record = (r: Partial<ConnectionRecord>): ConnectionRecord => ({
  target: '127.0.0.1:8443',
  scheme: 'https:',
  withClientCert: true,
  timings: { tcpMs: 1, tlsMs: 2 },
  serverChain: [],
  verified: true,
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_128_GCM_SHA256',
  clientCertRequested: true,
  acceptableCAs: ['CN=Corp CA'],
  clientCertSent: { subject: 'CN=kong', x5tS256: 'x' },
  clientCertConfigured: { subject: 'CN=kong', issuer: 'CN=Other CA', x5tS256: 'x', source: 'f' },
  ...r,
});
const url = 'https://127.0.0.1:8443/token';

describe('verdictOf', () => {
  it('an issuer the server did not name, handshake completed: a warning naming both', () => {
    const v = verdictOf({ url, record: record({ clientCertIssuerListed: false }), status: 200 });
    assert.equal(v.status, 'warn');
    assert.equal(v.code, 'TLS_CLIENT_CA_NOT_LISTED');
    assert.match(v.message, /"CN=Other CA".*"CN=Corp CA"/);
    assert.equal(v.checks.find((c) => c.name === 'client certificate accepted')?.status, 'warn');
  });

  it('the connector found the issuer through an intermediate: no warning, whatever the leaf says', () => {
    const v = verdictOf({ url, record: record({ clientCertIssuerListed: true }), status: 200 });
    assert.equal(v.status, 'pass');
    assert.equal(v.code, undefined);
  });

  it('a self-signed certificate (self_signed_tls_client_auth) is never "not among the CAs"', () => {
    const r = record({
      clientCertIssuerListed: false,
      clientCertConfigured: { subject: 'CN=kong', issuer: 'CN=kong', x5tS256: 'x', source: 'f' },
    });
    assert.equal(issuerNotListed(r), false);
    assert.equal(verdictOf({ url, record: r, status: 200 }).status, 'pass');
  });

  it('the doctor knows only that the connection answered: the same warning', () => {
    const v = verdictOf({ url, record: record({ clientCertIssuerListed: false }), answered: true });
    assert.equal(v.code, 'TLS_CLIENT_CA_NOT_LISTED');
    assert.ok(!v.checks.some((c) => c.name === 'HTTP'), 'no status to show');
  });

  it('not asked for a certificate: a warning, unless calls with it go to the mtls aliases', () => {
    const r = record({ clientCertRequested: false, clientCertSent: null, acceptableCAs: undefined });
    assert.equal(verdictOf({ url, record: r, status: 200 }).code, 'TLS_CLIENT_CERT_NOT_REQUESTED');
    assert.equal(verdictOf({ url, record: r, status: 200, certificateCallsElsewhere: true }).status, 'pass');
  });

  it('a failure is the verdict: its code, its message, its hint', () => {
    const error = { code: 'TLS_CLIENT_CERT_REJECTED', message: 'rejected', hint: 'do this' };
    const v = verdictOf({ url, record: record({}), error });
    assert.deepEqual([v.status, v.code, v.message, v.hint], ['fail', error.code, 'rejected', 'do this']);
    assert.equal(v.checks.find((c) => c.name === 'client certificate accepted')?.status, 'fail');
  });
});
