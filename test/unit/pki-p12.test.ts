// PKCS#12: what we write, openssl and Node's TLS read; what openssl writes (modern and legacy),
// we read; wrong and missing passwords are told apart.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import forge from 'node-forge';
import { createTestPki, type TestPki } from '../../src/core/pki/issue.ts';
import type { KeyType } from '../../src/core/pki/keys.ts';
import { buildP12, looksLikeP12, pkcs12Kdf, readP12 } from '../../src/core/pki/p12/index.ts';
import { hostileP12, TWO_TO_THE_40 } from '../helpers/hostile-p12.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-p12-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const usage = (code: string) => (e: any) => e.kind === 'usage' && e.code === code;
const PW = 'pässwörd with spaces';

describe('buildP12', () => {
  for (const keyType of ['ec-p256', 'ec-p384', 'rsa-2048', 'ed25519'] as KeyType[]) {
    it(`${keyType}: openssl pkcs12 -info and Node's pfx option read it; AES-256 and SHA-256 throughout`, async () => {
      const pki = await createTestPki({ keyType });
      const p12 = buildP12(pki.client.privateKey, [pki.client.certificate, pki.ca.certificate], {
        password: PW,
        friendlyName: 'kong',
      });
      const path = join(dir, `${keyType}.p12`);
      writeFileSync(path, p12);
      const r = spawnSync('openssl', ['pkcs12', '-info', '-in', path, '-passin', 'env:P12PW', '-nodes'], {
        encoding: 'utf8',
        env: { ...process.env, P12PW: PW },
      });
      assert.equal(r.status, 0, r.stderr);
      const info = r.stderr + r.stdout;
      assert.match(info, /MAC: sha256/);
      assert.match(
        info,
        /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/,
      );
      assert.match(info, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
      assert.match(info, /friendlyName: kong/);
      assert.match(info, /subject=CN = kong/);
      assert.match(info, /-----BEGIN PRIVATE KEY-----/);
      assert.equal((info.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length, 2);
      // The key openssl extracted is ours.
      const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(info)![0];
      assert.ok(
        pki.client.certificate.checkPrivateKey(
          await import('node:crypto').then((c) => c.createPrivateKey(keyPem)),
        ),
      );

      assert.doesNotThrow(() => createSecureContext({ pfx: p12, passphrase: PW }));
      assert.throws(() => createSecureContext({ pfx: p12, passphrase: 'nope' }));

      const back = readP12(p12, PW, path);
      assert.equal(back.certificates.length, 2);
      assert.equal(back.certificates[0].fingerprint256, pki.client.certificate.fingerprint256);
      assert.ok(back.key && pki.client.certificate.checkPrivateKey(back.key));
      assert.equal(back.friendlyName, 'kong');
      assert.equal(back.mac, 'HMAC-SHA256, 2048 iterations');
      assert.ok(looksLikeP12(p12));
    });
  }

  it('tells a wrong password from a missing one', async () => {
    const pki = await createTestPki();
    const p12 = buildP12(pki.client.privateKey, [pki.client.certificate], { password: 'right' });
    assert.throws(
      () => readP12(p12, 'wrong', 'client.p12'),
      (e: any) => e.code === 'P12_PASSWORD' && /^wrong password for client\.p12/.test(e.message),
    );
    assert.throws(() => readP12(p12, undefined, 'client.p12'), usage('P12_PASSWORD_REQUIRED'));
    assert.throws(() => readP12(Buffer.from('not a p12'), 'x', 'x.p12'), usage('BAD_P12'));
    assert.throws(() => readP12(p12.subarray(0, p12.length - 40), 'right', 'x.p12'), usage('BAD_P12'));
  });
});

describe('readP12 on files openssl wrote', () => {
  let pki: TestPki;
  let crt: string;
  let key: string;
  let ca: string;
  before(async () => {
    pki = await createTestPki({ keyType: 'rsa-2048' });
    crt = join(dir, 'o.crt');
    key = join(dir, 'o.key');
    ca = join(dir, 'o-ca.crt');
    writeFileSync(crt, pki.client.pem);
    writeFileSync(key, pki.client.keyPem);
    writeFileSync(ca, pki.ca.pem);
  });
  const exportP12 = (name: string, extra: string[], pass = 'pw') => {
    const out = join(dir, name);
    const r = spawnSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-in',
        crt,
        '-inkey',
        key,
        '-certfile',
        ca,
        '-passout',
        `pass:${pass}`,
        '-out',
        out,
        ...extra,
      ],
      { encoding: 'utf8' },
    );
    return r.status === 0 ? readFileSync(out) : undefined;
  };
  const check = (p12: Buffer, pass: string | undefined) => {
    const r = readP12(p12, pass, 'x.p12');
    assert.equal(r.certificates.length, 2);
    assert.equal(
      r.certificates[0].fingerprint256,
      pki.client.certificate.fingerprint256,
      "the key's certificate first",
    );
    assert.ok(r.key && pki.client.certificate.checkPrivateKey(r.key));
    return r;
  };

  it('OpenSSL 3 defaults (PBES2 AES-256-CBC, SHA-256 MAC)', () => {
    const r = check(exportP12('default.p12', [])!, 'pw');
    assert.deepEqual(r.encryption, ['PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC']);
  });
  it('3DES with a SHA-1 MAC', () => {
    const r = check(
      exportP12('3des.p12', ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1'])!,
      'pw',
    );
    assert.deepEqual(r.encryption, ['PBE-SHA1-3DES']);
    assert.match(r.mac, /HMAC-SHA1/);
  });
  it('certificates unencrypted, and no MAC at all', () => {
    check(exportP12('nocertenc.p12', ['-certpbe', 'NONE'])!, 'pw');
    const noMac = exportP12('nomac.p12', ['-nomac'])!;
    assert.equal(check(noMac, 'pw').mac, 'none');
    // Without a MAC, about one wrong password in 256 decrypts to garbage with valid padding: that
    // is still the wrong password, never "not a valid PKCS#12 file".
    for (let i = 0; i < 300; i++) {
      assert.throws(() => readP12(noMac, `wrong-${i}`, 'x.p12'), usage('P12_PASSWORD'), `wrong-${i}`);
    }
  });
  it('an empty password (no password needed)', () => {
    check(exportP12('empty.p12', [], '')!, undefined);
  });
  it('legacy RC2-40 (OpenSSL 1.x default), when this openssl can still write it', (t) => {
    const p12 = exportP12('legacy.p12', ['-legacy']);
    if (!p12) return t.skip('openssl has no legacy provider');
    const r = check(p12, 'pw');
    assert.ok(r.encryption.includes('PBE-SHA1-RC2-40'));
  });
});

describe('pkcs12Kdf', () => {
  it('derives the same MAC key as node-forge (an independent implementation)', () => {
    const salt = Buffer.from('0102030405060708', 'hex');
    for (const [pw, iter, n] of [
      ['smeg', 1, 20],
      ['queeg', 1000, 24],
      ['', 2048, 20],
    ] as const) {
      // forge writes the empty password as a lone 00 00 terminator (one of the two forms in use).
      const bmp = Buffer.from(`${pw}\0`, 'utf16le').swap16();
      const ours = pkcs12Kdf(bmp, salt, 3, iter, n, 'sha1');
      const theirs = (forge.pkcs12 as any).generateKey(
        pw,
        forge.util.createBuffer(salt.toString('binary')),
        3,
        iter,
        n,
      );
      assert.equal(ours.toString('hex'), forge.util.bytesToHex(theirs.getBytes()), `${pw}/${iter}`);
    }
    // Known answer (RFC 7292-era test vector, as used by OpenSSL and BouncyCastle): "smeg", SHA-1.
    const smeg = pkcs12Kdf(
      Buffer.from('smeg\0', 'utf16le').swap16(),
      Buffer.from('0A58CF64530D823F', 'hex'),
      1,
      1,
      24,
      'sha1',
    );
    assert.equal(smeg.toString('hex').toUpperCase(), '8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3');
  });
});

describe('readP12: the work a file asks for is bounded (src/core/limits.ts)', () => {
  const limit = (re: RegExp) => (e: any) =>
    e.kind === 'usage' && e.code === 'FILE_LIMIT' && re.test(e.message);
  it('a MAC iteration count of 2^40 is refused before any derivation', () => {
    const p12 = hostileP12({ macIterations: TWO_TO_THE_40 });
    assert.throws(
      () => readP12(p12, 'pw', 'big.p12'),
      limit(/^big\.p12: the iteration count of the MAC is 1,099,511,627,776, over the limit of 1,000,000$/),
    );
    assert.throws(() => readP12(p12, undefined, 'big.p12'), limit(/MAC/));
  });
  it('a count too large for any integer, and one just over the limit, are refused too', () => {
    assert.throws(
      () => readP12(hostileP12({ macIterations: '010000000000000000' }), 'pw', 'x'),
      limit(/more than 2\^47/),
    );
    assert.throws(() => readP12(hostileP12({ macIterations: '0f4241' }), 'pw', 'x'), limit(/1,000,001/));
  });
  it('an encryption iteration count of 2^40 (no MAC to stop it first) is refused', () => {
    assert.throws(
      () => readP12(hostileP12({ encryptionIterations: TWO_TO_THE_40 }), 'pw', 'enc.p12'),
      limit(/the iteration count of the encryption \(PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC\)/),
    );
  });
  it('within the limits, the same structure is judged as usual (a MAC that does not match: wrong password)', () => {
    assert.throws(() => readP12(hostileP12({ macIterations: '0800' }), 'pw', 'x'), usage('P12_PASSWORD'));
  });
});
