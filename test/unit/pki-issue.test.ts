// createTestPki / loadCa / issueCertificate / JWKS, with the openssl CLI as the referee.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDn } from '../../src/core/pki/dn.ts';
import { createTestPki, issueCertificate, loadCa, parseDays, subjectFrom } from '../../src/core/pki/issue.ts';
import { certificateJwks } from '../../src/core/pki/jwks.ts';
import { KEY_TYPES, type KeyType } from '../../src/core/pki/keys.ts';
import { parseSans } from '../../src/core/pki/san.ts';
import { unluckyPassphrase } from '../helpers/unlucky-passphrase.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-pki-issue-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Buffer, name = `f${n++}.pem`): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
function openssl(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('openssl', args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: 'pipe' });
}
const x5tByOpenssl = (certPath: string) => {
  const der = execFileSync('openssl', ['x509', '-in', certPath, '-outform', 'DER']);
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
  return digest.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const usage = (code: string) => (e: any) => e.kind === 'usage' && e.code === code;

// RSA-4096 key generation takes seconds; it is covered once, in the e2e suite.
const TYPES = KEY_TYPES.filter((t) => t !== 'rsa-4096');

describe('createTestPki', () => {
  for (const keyType of TYPES) {
    it(`${keyType}: openssl verifies the client for sslclient, with the extensions docs/standards.md asks for`, async () => {
      const pki = await createTestPki({
        keyType,
        subject: parseDn('CN=kong,O=Example\\, Inc.,C=US'),
        sans: parseSans(
          'dns:kong.example.com,uri:spiffe://example.com/kong,ip:10.1.2.3,email:ops@example.com',
        ),
        days: 30,
      });
      const ca = file(pki.ca.pem);
      const client = file(pki.client.pem);
      assert.match(
        openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', ca, client]),
        /: OK/,
      );

      const caText = openssl(['x509', '-in', ca, '-noout', '-text']);
      assert.match(caText, /X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
      assert.match(caText, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
      assert.match(caText, /X509v3 Subject Key Identifier/);

      const text = openssl(['x509', '-in', client, '-noout', '-text']);
      assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
      assert.match(text, /X509v3 Extended Key Usage: \s*\n\s+TLS Web Client Authentication\n/);
      if (keyType.startsWith('rsa'))
        assert.match(text, /Key Usage: critical\s+Digital Signature, Key Encipherment/);
      else
        assert.match(
          text,
          /Key Usage: critical\s+Digital Signature\n/,
          'never keyEncipherment on EC/EdDSA keys',
        );
      assert.match(
        text,
        /DNS:kong\.example\.com, URI:spiffe:\/\/example\.com\/kong, IP Address:10\.1\.2\.3, email:ops@example\.com/,
      );
      // AKI of the client = SKI of the CA.
      const ski = /Subject Key Identifier:\s*\n\s+([0-9A-F:]+)/.exec(caText)?.[1];
      const aki = /Authority Key Identifier:\s*\n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text)?.[1];
      assert.ok(ski && ski === aki, `AKI ${aki} = CA SKI ${ski}`);
      assert.equal(pki.client.info.authorityKeyId, ski);
      // Signature: SHA-256 or stronger.
      assert.match(text, /Signature Algorithm: (ecdsa-with-SHA(256|384)|sha256WithRSAEncryption|ED25519)/);
      // Serial: positive, at least 64 random bits.
      const serial = openssl(['x509', '-in', client, '-noout', '-serial']).trim().replace('serial=', '');
      assert.ok(serial.length >= 16 && serial.length <= 40, `serial ${serial}`);
      assert.ok(Number.parseInt(serial[0], 16) < 8, 'positive');
      // The RFC 4514 subject, exactly as openssl prints it.
      const subject = openssl(['x509', '-in', client, '-noout', '-subject', '-nameopt', 'RFC2253'])
        .trim()
        .replace(/^subject=/, '');
      assert.equal(pki.client.info.subject, subject);
      assert.equal(pki.client.info.subject, 'CN=kong,O=Example\\, Inc.,C=US');
      // x5t#S256 as RFC 8705 defines it.
      assert.equal(pki.client.info.x5tS256, x5tByOpenssl(client));
      assert.equal(pki.client.info.validity.daysLeft, 30);
    });
  }

  it('gives every CA its own name and every key its own identifier (RSA included)', async () => {
    const a = await createTestPki({ keyType: 'rsa-2048' });
    const b = await createTestPki({ keyType: 'rsa-2048' });
    assert.notEqual(a.ca.info.subject, b.ca.info.subject);
    assert.notEqual(a.ca.info.subjectKeyId, b.ca.info.subjectKeyId);
    assert.notEqual(a.client.info.subjectKeyId, a.ca.info.subjectKeyId);
    // RFC 5280 method 1, checked against openssl's own computation for the same key.
    const fromOpenssl = openssl([
      'x509',
      '-in',
      file(a.client.pem),
      '-noout',
      '-ext',
      'subjectKeyIdentifier',
    ]);
    assert.ok(fromOpenssl.includes(a.client.info.subjectKeyId!));
    const computed = openssl([
      'req',
      '-x509',
      '-new',
      '-subj',
      '/CN=x',
      '-key',
      file(a.client.keyPem),
      '-addext',
      'subjectKeyIdentifier=hash',
    ]);
    const ski = openssl(['x509', '-in', file(computed), '-noout', '-ext', 'subjectKeyIdentifier']);
    assert.ok(ski.includes(a.client.info.subjectKeyId!), 'the SKI openssl derives for the same key');
  });

  it('gives the CA ten years, and longer than the client', async () => {
    const pki = await createTestPki({ days: 5000 });
    assert.ok(new Date(pki.ca.info.notAfter) >= new Date(pki.client.info.notAfter));
    const short = await createTestPki({ days: 1 });
    assert.equal(short.ca.info.validity.daysLeft, 3650);
  });
});

describe('loadCa and issueCertificate', () => {
  it('issues client and server certificates from a CA made by openssl (its names copied byte for byte)', async () => {
    const caKey = join(dir, 'corp-ca.key');
    const caCert = join(dir, 'corp-ca.crt');
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', caKey]);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-out',
      caCert,
      '-days',
      '30',
      '-subj',
      '/C=US/O=Corp/CN=Corp Root',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    const ca = loadCa({
      cert: Buffer.from(openssl(['x509', '-in', caCert])),
      certSource: caCert,
      key: Buffer.from(openssl(['pkey', '-in', caKey])),
      keySource: caKey,
    });
    const client = await issueCertificate(ca, {
      subject: parseDn('CN=kong'),
      profile: 'client',
      keyType: 'ec-p256',
      days: 400,
    });
    assert.match(client.warnings.join('\n'), /validity is cut/);
    assert.equal(client.info.notAfter, ca.info.notAfter);
    assert.match(
      openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', caCert, file(client.pem)]),
      /: OK/,
    );
    assert.equal(client.info.issuer, 'CN=Corp Root,O=Corp,C=US');
    assert.equal(client.info.authorityKeyId, ca.info.subjectKeyId);

    const server = await issueCertificate(ca, {
      subject: parseDn('CN=localhost'),
      profile: 'server',
      days: 10,
    });
    assert.deepEqual(server.info.sans, ['dns:localhost'], 'the CN becomes the SAN when none is given');
    assert.match(
      openssl([
        'verify',
        '-x509_strict',
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'localhost',
        '-CAfile',
        caCert,
        file(server.pem),
      ]),
      /: OK/,
    );
    assert.deepEqual(server.info.extendedKeyUsage?.usages, ['serverAuth']);
  });

  it('takes an encrypted CA key with its passphrase, and refuses a wrong or missing one', async () => {
    const pki = await createTestPki();
    const encrypted = execFileSync(
      'openssl',
      ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-passout', 'env:PW'],
      {
        input: pki.ca.keyPem,
        env: { ...process.env, PW: 'correct horse' },
      },
    );
    const input = {
      cert: Buffer.from(pki.ca.pem),
      certSource: 'ca.crt',
      key: encrypted,
      keySource: 'ca.key',
    };
    assert.throws(() => loadCa(input), usage('KEY_PASSPHRASE_REQUIRED'));
    assert.throws(
      () => loadCa({ ...input, passphrase: 'wrong' }),
      (e: any) => e.code === 'KEY_PASSPHRASE' && e.message === 'wrong passphrase for the private key ca.key',
    );
    const ca = loadCa({ ...input, passphrase: 'correct horse' });
    const c = await issueCertificate(ca, { subject: parseDn('CN=kong-2'), profile: 'client' });
    assert.match(
      openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', file(pki.ca.pem), file(c.pem)]),
      /: OK/,
    );
  });

  it('an encrypted CA key, PEM or DER: a wrong passphrase is named as such even when OpenSSL calls it a decoding error', async () => {
    const pki = await createTestPki();
    for (const outform of ['PEM', 'DER'] as const) {
      const encrypted = execFileSync(
        'openssl',
        ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-outform', outform, '-passout', 'env:PW'],
        { input: pki.ca.keyPem, env: { ...process.env, PW: 'correct horse' } },
      );
      const input = {
        cert: Buffer.from(pki.ca.pem),
        certSource: 'ca.crt',
        key: encrypted,
        keySource: 'ca.key',
      };
      assert.throws(() => loadCa(input), usage('KEY_PASSPHRASE_REQUIRED'), outform);
      const unlucky = unluckyPassphrase(encrypted, outform === 'PEM' ? 'pem' : 'der');
      assert.throws(
        () => loadCa({ ...input, passphrase: unlucky }),
        (e: any) =>
          e.code === 'KEY_PASSPHRASE' && e.message === 'wrong passphrase for the private key ca.key',
        `${outform}: ${unlucky}`,
      );
      assert.ok(
        loadCa({ ...input, passphrase: 'correct horse' }).certificate.raw.equals(
          new X509Certificate(pki.ca.pem).raw,
        ),
      );
    }
  });

  it('takes a legacy encrypted key (BEGIN RSA PRIVATE KEY with Proc-Type/DEK-Info headers)', async () => {
    const key = join(dir, 'trad-ca.key');
    const cert = join(dir, 'trad-ca.crt');
    openssl(['genrsa', '-traditional', '-aes256', '-passout', 'env:PW', '-out', key, '2048'], {
      PW: 'old school',
    });
    assert.match(readFileSync(key, 'utf8'), /Proc-Type: 4,ENCRYPTED/);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        key,
        '-passin',
        'env:PW',
        '-out',
        cert,
        '-days',
        '5',
        '-subj',
        '/CN=Legacy CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      ],
      { PW: 'old school' },
    );
    const input = { cert: readFileSync(cert), certSource: cert, key: readFileSync(key), keySource: key };
    assert.throws(() => loadCa(input), usage('KEY_PASSPHRASE_REQUIRED'));
    assert.throws(() => loadCa({ ...input, passphrase: 'new school' }), usage('KEY_PASSPHRASE'));
    const ca = loadCa({ ...input, passphrase: 'old school' });
    const c = await issueCertificate(ca, { subject: parseDn('CN=kong'), profile: 'client' });
    assert.match(
      openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', cert, file(c.pem)]),
      /: OK/,
    );
  });

  it('refuses what cannot be a CA, a key that does not match, and corrupt input', async () => {
    const pki = await createTestPki();
    const other = await createTestPki();
    const load = (cert: string | Buffer, key: string | Buffer) =>
      loadCa({ cert: Buffer.from(cert), certSource: 'ca.crt', key: Buffer.from(key), keySource: 'ca.key' });
    assert.throws(
      () => load(pki.client.pem, pki.client.keyPem),
      (e: any) => e.code === 'CA_NOT_CA' && /CA:FALSE/.test(e.message),
    );
    assert.throws(
      () => load(pki.ca.pem, other.ca.keyPem),
      (e: any) => e.code === 'KEY_MISMATCH' && e.message === 'ca.key is not the private key of ca.crt',
    );
    assert.throws(() => load(pki.ca.pem.slice(0, 200), pki.ca.keyPem), usage('CORRUPT_PEM'));
    assert.throws(
      () => load(pki.ca.pem.replace(/^(-----BEGIN CERTIFICATE-----\n)M/, '$1*'), pki.ca.keyPem),
      usage('CORRUPT_PEM'),
    );
    assert.throws(() => load(pki.ca.pem, 'not a key'), usage('BAD_KEY'));
    assert.throws(() => load('garbage', pki.ca.keyPem), usage('BAD_CERTIFICATE'));

    // CA:TRUE without keyCertSign, made by openssl.
    const key = join(dir, 'nosign.key');
    const cert = join(dir, 'nosign.crt');
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      key,
      '-out',
      cert,
      '-days',
      '3',
      '-subj',
      '/CN=No Sign',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,digitalSignature',
    ]);
    assert.throws(
      () =>
        loadCa({
          cert: Buffer.from(openssl(['x509', '-in', cert])),
          certSource: cert,
          key: Buffer.from(openssl(['pkey', '-in', key])),
          keySource: key,
        }),
      usage('CA_NO_KEYCERTSIGN'),
    );
  });

  it('warns when the CA has expired', async () => {
    const now = new Date();
    const old = await createTestPki({ now: new Date(now.getTime() - 4000 * 86_400_000) });
    const ca = loadCa({
      cert: Buffer.from(old.ca.pem),
      certSource: 'ca.crt',
      key: Buffer.from(old.ca.keyPem),
      keySource: 'ca.key',
    });
    assert.match(ca.warnings[0], /expired/);
  });
});

describe('flags', () => {
  it('parses --days strictly', () => {
    assert.equal(parseDays(undefined), 365);
    assert.equal(parseDays('30'), 30);
    for (const bad of ['0', '-1', '1.5', 'ten', '', '36501'])
      assert.throws(() => parseDays(bad), usage('BAD_DAYS'));
  });
  it('takes --cn or --subject, not both', () => {
    assert.deepEqual(subjectFrom({}, 'kong'), [[{ oid: '2.5.4.3', value: 'kong' }]]);
    assert.deepEqual(
      subjectFrom({ cn: 'a,b' }),
      [[{ oid: '2.5.4.3', value: 'a,b' }]],
      '--cn is a value, not a DN',
    );
    assert.throws(() => subjectFrom({ cn: 'a', subject: 'CN=b' }), usage('BAD_SUBJECT'));
    assert.throws(() => subjectFrom({}), usage('BAD_SUBJECT'));
  });
});

describe('certificateJwks', () => {
  for (const keyType of ['ec-p256', 'rsa-2048', 'ed25519'] as KeyType[]) {
    it(`${keyType}: kid and x5t#S256 are the thumbprint, x5c the DER, the key the certificate's`, async () => {
      const pki = await createTestPki({ keyType });
      const { keys } = certificateJwks(pki.client.certificate);
      assert.equal(keys.length, 1);
      const [jwk] = keys;
      assert.equal(jwk.kid, pki.client.info.x5tS256);
      assert.equal(jwk['x5t#S256'], pki.client.info.x5tS256);
      assert.deepEqual(jwk.x5c, [pki.client.certificate.raw.toString('base64')]);
      assert.equal(
        new X509Certificate(Buffer.from(jwk.x5c[0], 'base64')).fingerprint256,
        pki.client.certificate.fingerprint256,
      );
      const fromJwk = createPublicKey({ key: jwk as any, format: 'jwk' });
      assert.ok(fromJwk.equals(pki.client.certificate.publicKey));
      assert.equal((jwk as any).d, undefined, 'no private part');
    });
  }
});
