// describeCertificate / inspectCertificates against certificates made here and by openssl, the
// referee for names, serials, fingerprints and extensions.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { inspectCertificates } from '../../src/core/pki/inspect.ts';
import { createTestPki } from '../../src/core/pki/issue.ts';
import { buildP12 } from '../../src/core/pki/p12/index.ts';
import { describeCertificate } from '../../src/core/pki/parse.ts';
import { parseSans } from '../../src/core/pki/san.ts';
import { makeCa } from '../helpers/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-inspect-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (content: string | Buffer) => {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, content);
  return p;
};
const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe' });
const DAY = 86_400_000;
const usage = (code: string) => (e: any) => e.kind === 'usage' && e.code === code;
const statusOf = (r: { checks: Array<{ name: string; status: string }> }, name: string) =>
  r.checks.find((c) => c.name === name)?.status;

/** A self-signed certificate made by openssl req with the given extensions. */
function opensslCert(subj: string, exts: string[], extra: string[] = []): { cert: string; key: string } {
  const key = join(dir, `o${n}.key`);
  const cert = join(dir, `o${n++}.crt`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '10',
    '-subj',
    subj,
    ...exts.flatMap((e) => ['-addext', e]),
    ...extra,
  ]);
  return { cert, key };
}

describe('describeCertificate', () => {
  it('agrees with openssl on names, serial, fingerprint, key identifiers and SANs', async () => {
    const ca = await makeCa('CN=Corp CA,O=Example\\, Inc.,C=US');
    const leaf = await ca.issue({
      subject: 'CN=kong,OU=Gateways,O=Example',
      sans: 'dns:kong.example.com,ip:2001:db8::1,ip:127.0.0.1,uri:spiffe://example.com/kong,email:ops@example.com',
    });
    const path = file(leaf.cert);
    const info = describeCertificate(leaf.x509);
    const field = (flag: string) =>
      openssl(['x509', '-in', path, '-noout', flag, '-nameopt', 'RFC2253']).trim();
    assert.equal(info.subject, field('-subject').replace(/^subject=/, ''));
    assert.equal(info.issuer, field('-issuer').replace(/^issuer=/, ''));
    assert.equal(info.serial, field('-serial').replace(/^serial=/, ''));
    const fp = openssl(['x509', '-in', path, '-noout', '-fingerprint', '-sha256']).trim();
    assert.equal(info.sha256Fingerprint, fp.replace(/^.*Fingerprint=/, ''));
    assert.ok(
      openssl(['x509', '-in', path, '-noout', '-ext', 'subjectKeyIdentifier']).includes(info.subjectKeyId!),
    );
    assert.ok(
      openssl(['x509', '-in', path, '-noout', '-ext', 'authorityKeyIdentifier']).includes(
        info.authorityKeyId!,
      ),
    );
    assert.deepEqual(info.sans, [
      'dns:kong.example.com',
      'ip:2001:db8::1',
      'ip:127.0.0.1',
      'uri:spiffe://example.com/kong',
      'email:ops@example.com',
    ]);
    assert.deepEqual(info.keyUsage, { critical: true, usages: ['digitalSignature'] });
    assert.deepEqual(info.extendedKeyUsage, { critical: false, usages: ['clientAuth'] });
    assert.deepEqual(info.basicConstraints, { critical: true, ca: false });
    assert.equal(info.version, 3);
    assert.equal(info.publicKey.description, 'EC P-256');
    assert.equal(info.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(info.selfSigned, false);
    assert.deepEqual(describeCertificate(ca.x509).basicConstraints, { critical: true, ca: true, pathLen: 0 });
    assert.equal(describeCertificate(ca.x509).selfSigned, true);
  });

  it('reads BMPString names (some Windows CAs write them)', () => {
    const cfg = file('[req]\ndistinguished_name=dn\nstring_mask=MASK:0x800\n[dn]\n');
    const { cert } = opensslCert('/CN=São Paulo/O=Ünïcode', [], ['-utf8', '-config', cfg]);
    assert.match(openssl(['asn1parse', '-in', cert]), /BMPSTRING/);
    const info = describeCertificate(new X509Certificate(readFileSync(cert)));
    assert.equal(info.subject, 'O=Ünïcode,CN=São Paulo');
    const referee = openssl([
      'x509',
      '-in',
      cert,
      '-noout',
      '-subject',
      '-nameopt',
      'RFC2253,-esc_msb',
    ]).trim();
    assert.equal(info.subject, referee.replace(/^subject=/, ''));
  });

  it('flags time: expired, not yet valid, expiring within 30 days', async () => {
    const ca = await makeCa();
    const now = Date.now();
    const expired = await ca.issue({
      subject: 'CN=old',
      notBefore: new Date(now - 40 * DAY),
      notAfter: new Date(now - DAY),
    });
    const future = await ca.issue({
      subject: 'CN=new',
      notBefore: new Date(now + 2 * DAY),
      notAfter: new Date(now + 20 * DAY),
    });
    const soon = await ca.issue({ subject: 'CN=soon', notAfter: new Date(now + 10 * DAY) });
    assert.equal(describeCertificate(expired.x509).validity.status, 'expired');
    assert.equal(describeCertificate(future.x509).validity.status, 'not-yet-valid');
    const s = describeCertificate(soon.x509).validity;
    assert.deepEqual([s.status, s.expiringSoon, s.daysLeft], ['valid', true, 10]);
    for (const [c, re] of [
      [expired, /expired on/],
      [future, /not valid until/],
      [soon, /expires in 10 days/],
    ] as const) {
      const r = inspectCertificates({ data: Buffer.from(c.cert), source: 'x.crt' });
      const v = r.checks.find((k) => k.name === 'validity')!;
      assert.equal(v.status, 'warn');
      assert.match(v.detail!, re);
    }
  });
});

describe('inspectCertificates: warnings for what breaks mTLS', () => {
  it('passes a certificate from certs init', async () => {
    const pki = await createTestPki();
    const r = inspectCertificates({ data: Buffer.from(pki.client.pem), source: 'client.crt' });
    assert.equal(r.format, 'pem');
    assert.deepEqual(
      r.checks.map((c) => c.status),
      ['pass', 'pass'],
    );
  });

  it('warns about a server certificate, a CA, a SHA-1 signature and a missing EKU', async () => {
    const ca = await makeCa();
    const server = await ca.issue({ subject: 'CN=localhost', profile: 'server', sans: 'dns:localhost' });
    const r1 = inspectCertificates({ data: Buffer.from(server.cert), source: 's.crt' });
    assert.equal(statusOf(r1, 'clientAuth'), 'warn');
    assert.match(r1.checks.find((c) => c.name === 'clientAuth')!.detail!, /lacks clientAuth \(serverAuth\)/);

    const r2 = inspectCertificates({ data: Buffer.from(ca.cert), source: 'ca.crt' });
    assert.equal(statusOf(r2, 'end-entity'), 'warn');

    const sha1 = opensslCert(
      '/CN=legacy',
      ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth'],
      ['-sha1'],
    );
    const r3 = inspectCertificates({ data: readFileSync(sha1.cert), source: 'legacy.crt' });
    assert.equal(r3.certificates[0].signatureAlgorithm, 'ecdsa-with-SHA1');
    assert.equal(statusOf(r3, 'signature'), 'warn');

    const noEku = opensslCert('/CN=plain', [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,keyEncipherment',
    ]);
    const r4 = inspectCertificates({ data: readFileSync(noEku.cert), source: 'plain.crt' });
    assert.match(r4.checks.find((c) => c.name === 'clientAuth')!.detail!, /no extendedKeyUsage/);
    assert.equal(statusOf(r4, 'keyUsage'), 'warn');
  });
});

describe('inspectCertificates: formats, chains and keys', () => {
  it('checks each link of a chain, and notices one out of order', async () => {
    const pki = await createTestPki();
    const good = inspectCertificates({ data: Buffer.from(pki.client.pem + pki.ca.pem), source: 'chain.pem' });
    assert.equal(good.certificates.length, 2);
    assert.deepEqual(good.chain, [{ index: 0, issuerMatchesNext: true, signedByNext: true }]);
    assert.equal(statusOf(good, 'chain 1→2'), 'pass');
    const bad = inspectCertificates({ data: Buffer.from(pki.ca.pem + pki.client.pem), source: 'chain.pem' });
    assert.deepEqual(bad.chain, [{ index: 0, issuerMatchesNext: false, signedByNext: false }]);
    assert.equal(statusOf(bad, 'chain 1→2'), 'warn');
    // Each certificate is labelled by what it is, not by where it stands, and the order is named.
    assert.deepEqual(good.roles, ['end-entity', 'root CA']);
    assert.equal(statusOf(good, 'order'), undefined);
    assert.deepEqual(bad.roles, ['root CA', 'end-entity']);
    const order = bad.checks.find((c) => c.name === 'order');
    assert.equal(order?.status, 'warn');
    assert.match(
      order?.detail ?? '',
      /the order is wrong: #1 is a root CA .*the end-entity certificate \(.*\) is #2; the chain is in reverse order/,
    );
    // A bundle of CAs has no client certificate to put first.
    const cas = inspectCertificates({ data: Buffer.from(pki.ca.pem + pki.ca.pem), source: 'cas.pem' });
    assert.equal(statusOf(cas, 'order'), undefined);
  });

  it('reads DER and PKCS#12, and matches the key inside', async () => {
    const pki = await createTestPki({ keyType: 'ed25519' });
    const der = inspectCertificates({ data: pki.client.certificate.raw, source: 'client.der' });
    assert.equal(der.format, 'der');
    assert.equal(der.certificates[0].x5tS256, pki.client.info.x5tS256);

    const p12 = buildP12(pki.client.privateKey, [pki.client.certificate, pki.ca.certificate], {
      password: 'pw',
    });
    const r = inspectCertificates({ data: p12, source: 'client.p12', password: 'pw' });
    assert.equal(r.format, 'pkcs12');
    assert.equal(r.certificates.length, 2);
    assert.equal(r.pkcs12?.hasKey, true);
    assert.deepEqual(r.key, { source: 'client.p12', type: 'Ed25519', matches: true });
    assert.throws(
      () => inspectCertificates({ data: p12, source: 'client.p12', password: 'nope' }),
      usage('P12_PASSWORD'),
    );
    assert.throws(
      () => inspectCertificates({ data: p12, source: 'client.p12' }),
      usage('P12_PASSWORD_REQUIRED'),
    );
  });

  it('matches --key (plain or encrypted) and reports a mismatch as a failed check', async () => {
    const pki = await createTestPki();
    const data = Buffer.from(pki.client.pem);
    const ok = inspectCertificates({
      data,
      source: 'c.crt',
      key: { data: Buffer.from(pki.client.keyPem), source: 'c.key' },
    });
    assert.equal(statusOf(ok, 'key'), 'pass');
    const bad = inspectCertificates({
      data,
      source: 'c.crt',
      key: { data: Buffer.from(pki.ca.keyPem), source: 'ca.key' },
    });
    assert.equal(statusOf(bad, 'key'), 'fail');
    assert.equal(bad.key?.matches, false);
    const enc = pki.client.privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pp',
    });
    const r = inspectCertificates({
      data,
      source: 'c.crt',
      key: { data: Buffer.from(enc), source: 'c.key', passphrase: 'pp' },
    });
    assert.equal(statusOf(r, 'key'), 'pass');
    assert.throws(
      () =>
        inspectCertificates({
          data,
          source: 'c.crt',
          key: { data: Buffer.from(enc), source: 'c.key', passphrase: 'no' },
        }),
      usage('KEY_PASSPHRASE'),
    );
    // A PEM bundle with the certificate and its key.
    const bundle = inspectCertificates({
      data: Buffer.from(pki.client.pem + pki.client.keyPem),
      source: 'bundle.pem',
    });
    assert.equal(statusOf(bundle, 'key'), 'pass');
  });

  it('refuses corrupt and foreign input with one clear message', async () => {
    const pki = await createTestPki();
    const cases: Array<[string | Buffer, string, RegExp]> = [
      [pki.client.pem.slice(0, 300), 'CORRUPT_PEM', /no END line/],
      [pki.client.pem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!'), 'CORRUPT_PEM', /not valid base64/],
      [
        pki.client.pem.replace(/(\n)[A-Za-z0-9+/]{64}\n/, '$1'),
        'BAD_CERTIFICATE',
        /not a valid X\.509 certificate/,
      ],
      [pki.client.keyPem, 'NO_CERTIFICATE', /holds no certificate \(it holds: PRIVATE KEY\)/],
      [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), 'BAD_CERTIFICATE', /not a valid X\.509/],
      ['hello world', 'BAD_CERTIFICATE', /neither PEM, DER nor PKCS#12/],
      ['', 'BAD_CERTIFICATE', /neither PEM, DER nor PKCS#12/],
    ];
    for (const [data, code, re] of cases) {
      assert.throws(
        () => inspectCertificates({ data: Buffer.from(data), source: 'in.crt' }),
        (e: any) => e.kind === 'usage' && e.code === code && re.test(e.message) && !!e.hint,
        code,
      );
    }
  });
});

describe('inspectCertificates on damaged input', () => {
  it('answers every mutation of a certificate or a PKCS#12 file with a usage error or a report, never a crash', async () => {
    const pki = await createTestPki({ sans: parseSans('dns:kong.example.com,ip:::1') });
    const p12 = buildP12(pki.client.privateKey, [pki.client.certificate, pki.ca.certificate], {
      password: 'pw',
      iterations: 1,
      macIterations: 1,
    });
    // A small deterministic generator: the same mutations on every run.
    let seed = 0x2f6b_1c3d;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const data = Buffer.from(
        i % 3 === 0 ? p12 : i % 3 === 1 ? pki.client.certificate.raw : Buffer.from(pki.client.pem),
      );
      for (let k = 0; k <= next(3); k++) data[next(data.length)] = next(256);
      try {
        inspectCertificates({ data, source: 'damaged', password: 'pw' });
      } catch (e: any) {
        assert.equal(e?.kind, 'usage', `mutation ${i}: ${e?.stack ?? e}`);
      }
    }
  });
});
