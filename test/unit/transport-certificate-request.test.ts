// The handshake reader: RFC 8448 key derivation, hand-built TLS 1.2 / 1.3 CertificateRequest
// messages, records encrypted here and decrypted by the reader, and bytes captured from real
// handshakes on 127.0.0.1 (server flights + the client's key log).

import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer, type SecureVersion, type Server, connect as tlsConnect } from 'node:tls';
import forge from 'node-forge';
import { dnFromDer } from '../../src/core/pki/der.ts';
import { dnToAsn1, parseDn } from '../../src/core/pki/dn.ts';
import {
  analyzeServerFlight,
  hkdfExpandLabel,
  parseCertificateRequest12,
  parseCertificateRequest13,
  recordDecryptor,
  splitRecords,
} from '../../src/core/transport/certificate-request.ts';
import { TapSocket } from '../../src/core/transport/connector.ts';
import { makeCa, makeTestPki } from '../helpers/pki.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const vec8 = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const derName = (dn: string) => Buffer.from(forge.asn1.toDer(dnToAsn1(parseDn(dn))).getBytes(), 'binary');

const CORP = 'CN=Corp Client CA,O=Example\\, Inc.,C=US';
const TEST = 'CN=Test CA,O=mtls-oauth tests';

describe('HKDF-Expand-Label', () => {
  it('derives the RFC 8448 §3 server handshake key and IV', () => {
    const secret = hex(
      'b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38',
    );
    assert.equal(
      hkdfExpandLabel('sha256', secret, 'key', 16).toString('hex'),
      '3fce516009c21727d0f2e4e86ee403bc',
    );
    assert.equal(hkdfExpandLabel('sha256', secret, 'iv', 12).toString('hex'), '5d313eb2671276ee13000b30');
  });
});

describe('CertificateRequest parsing', () => {
  it('TLS 1.2: certificate types, signature algorithms, CA names', () => {
    const body = Buffer.concat([
      vec8(Buffer.from([1, 64])),
      vec16(Buffer.concat([u16(0x0403), u16(0x0804), u16(0x0401)])),
      vec16(Buffer.concat([vec16(derName(CORP)), vec16(derName(TEST))])),
    ]);
    const r = parseCertificateRequest12(body);
    assert.deepEqual(r.certificateTypes, ['rsa_sign', 'ecdsa_sign']);
    assert.deepEqual(r.signatureAlgorithms, [
      'ecdsa_secp256r1_sha256',
      'rsa_pss_rsae_sha256',
      'rsa_pkcs1_sha256',
    ]);
    assert.deepEqual(r.certificateAuthorities.map(dnFromDer), [CORP, TEST]);
  });

  it('TLS 1.3: extensions signature_algorithms and certificate_authorities', () => {
    const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), vec16(data)]);
    const body = Buffer.concat([
      vec8(Buffer.alloc(0)),
      vec16(
        Buffer.concat([
          ext(13, vec16(Buffer.concat([u16(0x0807), u16(0x0503)]))),
          ext(47, vec16(vec16(derName(CORP)))),
          ext(0xff01, Buffer.from([0])), // unknown extension: skipped
        ]),
      ),
    ]);
    const r = parseCertificateRequest13(body);
    assert.deepEqual(r.signatureAlgorithms, ['ed25519', 'ecdsa_secp384r1_sha384']);
    assert.deepEqual(r.certificateAuthorities.map(dnFromDer), [CORP]);
  });

  it('TLS 1.3 without certificate_authorities: no names (any CA the server trusts)', () => {
    const body = Buffer.concat([
      vec8(Buffer.alloc(0)),
      vec16(Buffer.concat([u16(13), vec16(vec16(u16(0x0403)))])),
    ]);
    assert.deepEqual(parseCertificateRequest13(body).certificateAuthorities, []);
  });

  it('truncated messages throw instead of reading past the end', () => {
    assert.throws(() => parseCertificateRequest12(Buffer.from([2, 1])), /truncated/);
    assert.throws(() => parseCertificateRequest13(Buffer.from([0, 0, 9, 0, 13])), /truncated/);
  });

  it('undecodable DN bytes are shown as hex, never thrown', () => {
    assert.equal(dnFromDer(Buffer.from([1, 2, 3])), '#010203');
  });
});

describe('TLS 1.3 record decryption', () => {
  const secret = hex('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38');
  const key = hex('3fce516009c21727d0f2e4e86ee403bc');
  const iv = hex('5d313eb2671276ee13000b30');
  function seal(seq: number, type: number, content: Buffer): Buffer {
    const inner = Buffer.concat([content, Buffer.from([type]), Buffer.alloc(3)]); // + zero padding
    const header = Buffer.from([23, 3, 3, 0, 0]);
    header.writeUInt16BE(inner.length + 16, 3);
    const nonce = Buffer.from(iv);
    nonce[11] ^= seq;
    const c = createCipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
    c.setAAD(header);
    const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
    return Buffer.concat([header, body]);
  }

  it('decrypts records in sequence, strips padding, returns the inner content type', () => {
    const recs = splitRecords(
      Buffer.concat([seal(0, 22, Buffer.from('hello')), seal(1, 21, Buffer.from([2, 116]))]),
    );
    const dec = recordDecryptor(0x1301, secret);
    assert.deepEqual(dec(recs[0]), { type: 22, data: Buffer.from('hello') });
    assert.deepEqual(dec(recs[1]), { type: 21, data: Buffer.from([2, 116]) });
  });

  it('returns null for a record these keys do not open', () => {
    const recs = splitRecords(seal(0, 22, Buffer.from('hello')));
    assert.equal(recordDecryptor(0x1301, Buffer.alloc(32, 7))(recs[0]), null);
  });
});

// ---------------------------------------------------------------------------------------------
// Bytes captured from real handshakes (fresh certificates, fresh keys, every run).

interface Capture {
  rx: Buffer;
  keylog: string[];
  error?: string;
}

let pki: Awaited<ReturnType<typeof makeTestPki>>;
let second: Awaited<ReturnType<typeof makeCa>>;
const servers: Server[] = [];
before(async () => {
  pki = await makeTestPki();
  second = await makeCa(CORP);
});
after(() => {
  for (const s of servers) s.close();
});

async function capture(version: SecureVersion, withCert: boolean, requestCert = true): Promise<Capture> {
  const server = createServer({
    cert: pki.server.cert,
    key: pki.server.key,
    ca: requestCert ? [pki.ca.cert, second.cert] : undefined,
    requestCert,
    rejectUnauthorized: requestCert,
    minVersion: version,
    maxVersion: version,
  });
  server.on('secureConnection', (s) => s.end('ok'));
  server.on('tlsClientError', () => {});
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const raw = netConnect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise((r) => raw.once('connect', r));
  const tap = new TapSocket(raw);
  const keylog: string[] = [];
  const s = tlsConnect({
    socket: tap,
    ca: pki.ca.cert,
    servername: 'localhost',
    ...(withCert ? { cert: pki.client.cert, key: pki.client.key } : {}),
  });
  s.on('keylog', (l) => keylog.push(l.toString()));
  const error = await new Promise<string | undefined>((resolve) => {
    s.on('error', (e: Error & { code?: string }) => resolve(e.code));
    s.on('close', () => resolve(undefined));
    s.on('secureConnect', () => s.write('hi'));
    s.resume();
  });
  s.destroy();
  server.close();
  return { rx: tap.received(), keylog, error };
}

describe('captured server flights', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`${version}: CertificateRequest with the server's CA names, in its order`, async () => {
      const c = await capture(version, true);
      const f = analyzeServerFlight(c.rx, c.keylog);
      assert.equal(f.version, version);
      assert.equal(f.certificateRequested, true);
      assert.deepEqual(f.certificateRequest!.certificateAuthorities.map(dnFromDer), [TEST, CORP]);
      assert.ok(f.certificateRequest!.signatureAlgorithms.includes('ecdsa_secp256r1_sha256'));
      assert.ok((f.serverCertificates?.length ?? 0) >= 1);
      assert.ok(f.serverCertificates![0].equals(pki.server.x509.raw));
      assert.equal(f.incomplete, undefined);
    });

    it(`${version}: no CertificateRequest when the server does not ask`, async () => {
      const c = await capture(version, false, false);
      const f = analyzeServerFlight(c.rx, c.keylog);
      assert.equal(f.certificateRequested, false);
      assert.equal(f.certificateRequest, undefined);
    });
  }

  it('TLS 1.3: the post-handshake alert 116 is decrypted with the application secret', async () => {
    const c = await capture('TLSv1.3', false);
    assert.equal(c.error, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    const f = analyzeServerFlight(c.rx, c.keylog);
    assert.deepEqual(
      f.alerts.map((a) => [a.level, a.code, a.name, a.encrypted]),
      [['fatal', 116, 'certificate_required', true]],
    );
  });

  it('TLS 1.2: the handshake_failure alert is read in plaintext', async () => {
    const c = await capture('TLSv1.2', false);
    const f = analyzeServerFlight(c.rx, c.keylog);
    assert.deepEqual(
      f.alerts.map((a) => [a.code, a.encrypted]),
      [[40, false]],
    );
  });

  it('TLS 1.3 without the key log: says what it could not read', async () => {
    const c = await capture('TLSv1.3', true);
    const f = analyzeServerFlight(c.rx, []);
    assert.equal(f.version, 'TLSv1.3');
    assert.equal(f.certificateRequested, undefined);
    assert.match(f.incomplete!, /no TLS 1\.3 handshake secret/);
  });

  it('a truncated capture never throws', async () => {
    const c = await capture('TLSv1.3', true);
    for (const n of [0, 3, 5, 60, 200, c.rx.length - 1]) {
      analyzeServerFlight(c.rx.subarray(0, n), c.keylog);
    }
  });
});
