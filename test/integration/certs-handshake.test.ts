// A real mutual-TLS handshake: a Node HTTPS server that requires client certificates and trusts
// the CA from createTestPki accepts the client certificate, for every key type, and refuses one
// from another CA. Also: the PKCS#12 file works as the client's `pfx`.

import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { parseDn } from '../../src/core/pki/dn.ts';
import { createTestPki, issueCertificate, loadCa, type TestPki } from '../../src/core/pki/issue.ts';
import { KEY_TYPES, type KeyType } from '../../src/core/pki/keys.ts';
import { buildP12 } from '../../src/core/pki/p12/index.ts';

const servers: Server[] = [];
after(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** An HTTPS server on 127.0.0.1 that requires a client certificate signed by `pki`'s CA. */
async function mtlsServer(pki: TestPki, keyType: KeyType): Promise<number> {
  const ca = loadCa({
    cert: Buffer.from(pki.ca.pem),
    certSource: 'ca.crt',
    key: Buffer.from(pki.ca.keyPem),
    keySource: 'ca.key',
  });
  const server = await issueCertificate(ca, {
    subject: parseDn('CN=localhost'),
    profile: 'server',
    keyType,
    sans: [
      { type: 'dns', value: 'localhost' },
      { type: 'ip', value: '127.0.0.1' },
    ],
  });
  const s = createServer(
    { cert: server.pem, key: server.keyPem, ca: pki.ca.pem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(JSON.stringify({ subject: peer.subject?.CN, fingerprint256: peer.fingerprint256 }));
    },
  );
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

type ClientTls = { cert?: string; key?: string; pfx?: Buffer; passphrase?: string };
function get(port: number, ca: string, client: ClientTls): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: 'localhost',
        ca,
        agent: false,
        timeout: 10_000,
        ...client,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

// RSA-4096 keys take seconds to make; the e2e suite covers that type once.
const TYPES = KEY_TYPES.filter((t) => t !== 'rsa-4096');

describe('mutual TLS with certificates from createTestPki', () => {
  for (const keyType of TYPES) {
    it(`${keyType}: the server accepts our client and refuses one from another CA`, async () => {
      const pki = await createTestPki({ keyType });
      const port = await mtlsServer(pki, keyType);
      const ok = await get(port, pki.ca.pem, { cert: pki.client.pem, key: pki.client.keyPem });
      assert.equal(ok.status, 200);
      const seen = JSON.parse(ok.body);
      assert.equal(seen.subject, 'kong');
      assert.equal(seen.fingerprint256, pki.client.certificate.fingerprint256);

      const stranger = await createTestPki({ keyType });
      await assert.rejects(get(port, pki.ca.pem, { cert: stranger.client.pem, key: stranger.client.keyPem }));
      await assert.rejects(get(port, pki.ca.pem, {}), 'no client certificate at all');
    });
  }

  it('the PKCS#12 file works as the client identity (pfx)', async () => {
    const pki = await createTestPki({ keyType: 'ec-p256' });
    const port = await mtlsServer(pki, 'ec-p256');
    const pfx = buildP12(pki.client.privateKey, [pki.client.certificate, pki.ca.certificate], {
      password: 's3cret',
    });
    const r = await get(port, pki.ca.pem, { pfx, passphrase: 's3cret' });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).subject, 'kong');
  });

  it('a client certificate issued later by `certs issue` logic from the same CA is accepted too', async () => {
    const pki = await createTestPki({ keyType: 'rsa-2048' });
    const port = await mtlsServer(pki, 'rsa-2048');
    const ca = loadCa({
      cert: Buffer.from(pki.ca.pem),
      certSource: 'ca.crt',
      key: Buffer.from(pki.ca.keyPem),
      keySource: 'ca.key',
    });
    const second = await issueCertificate(ca, {
      subject: parseDn('CN=kong-2,O=Example'),
      profile: 'client',
      keyType: 'ec-p384',
    });
    const r = await get(port, pki.ca.pem, { cert: second.pem, key: second.keyPem });
    assert.equal(JSON.parse(r.body).subject, 'kong-2');
    // A server certificate is not a client certificate: clientAuth is missing from its EKU.
    const server = await issueCertificate(ca, { subject: parseDn('CN=localhost'), profile: 'server' });
    await assert.rejects(get(port, pki.ca.pem, { cert: server.pem, key: server.keyPem }));
  });
});
