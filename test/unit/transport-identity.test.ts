// Loading the client identity: every mistake a user can make is a usage error with a hint.

import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { x5tS256 } from '../../src/core/pki/thumbprint.ts';
import { loadClientIdentity } from '../../src/core/transport/identity.ts';
import { makeTransportPki, type TransportPki } from '../helpers/tls-servers.ts';
import { unluckyPassphrase } from '../helpers/unlucky-passphrase.ts';

let pki: TransportPki;
before(async () => {
  pki = await makeTransportPki();
});
after(() => pki?.remove());

async function usage(
  settings: Parameters<typeof loadClientIdentity>[0],
  code: string,
  message: RegExp,
  hint: RegExp,
) {
  await assert.rejects(loadClientIdentity(settings), (e: unknown) => {
    assert.ok(e instanceof MtlsOAuthError, String(e));
    assert.equal(e.kind, 'usage');
    assert.equal(e.code, code);
    assert.match(e.message, message);
    assert.match(e.hint ?? '', hint);
    return true;
  });
}

describe('loadClientIdentity', () => {
  it('no certificate settings: no identity', async () => {
    assert.equal(await loadClientIdentity({}), undefined);
  });

  it('PEM certificate and key: subject (RFC 4514), issuer, x5t#S256, source', async () => {
    const id = (await loadClientIdentity({ cert: pki.path('client.crt'), key: pki.path('client.key') }))!;
    assert.equal(id.subjectDn, 'CN=kong');
    assert.equal(id.issuerDn, 'CN=Test CA,O=mtls-oauth tests');
    assert.equal(id.x5tS256, x5tS256(pki.client.x509));
    assert.equal(id.chain.length, 1);
    assert.equal(id.source, `${pki.path('client.crt')} + ${pki.path('client.key')}`);
    assert.ok(id.tls.cert && id.tls.key);
  });

  it('encrypted key with the right passphrase', async () => {
    const id = await loadClientIdentity({
      cert: pki.path('client.crt'),
      key: pki.path('client-enc.key'),
      keyPassphrase: 'correct horse',
    });
    assert.equal(id?.subjectDn, 'CN=kong');
    assert.equal(id?.tls.passphrase, 'correct horse');
  });

  it('PKCS#12 with its password: the leaf and the CA in the file', async () => {
    const id = (await loadClientIdentity({ p12: pki.path('client.p12'), p12Password: 'p12 secret' }))!;
    assert.equal(id.subjectDn, 'CN=kong');
    assert.equal(id.x5tS256, x5tS256(pki.client.x509));
    assert.deepEqual(
      id.chain.map((c) => c.subject),
      [pki.client.x509.subject, pki.ca.x509.subject],
    );
    assert.ok(Buffer.isBuffer(id.tls.pfx));
  });

  it('missing file', async () => {
    await usage(
      { cert: pki.path('nope.crt'), key: pki.path('client.key') },
      'INPUT_UNREADABLE',
      /cannot read the certificate .*nope\.crt: no such file/,
      /certs init/,
    );
  });

  it('--cert without --key', async () => {
    await usage(
      { cert: pki.path('client.crt') },
      'BAD_ARGUMENTS',
      /--cert was given without --key/,
      /--key FILE/,
    );
  });

  it('--p12 together with --cert', async () => {
    await usage(
      { p12: pki.path('client.p12'), cert: pki.path('client.crt') },
      'BAD_ARGUMENTS',
      /cannot be combined/,
      /either/,
    );
  });

  it('a key where the certificate should be', async () => {
    await usage(
      { cert: pki.path('client.key'), key: pki.path('client.key') },
      'NO_CERTIFICATE',
      /holds no certificate \(it holds a private key\)/,
      /--key/,
    );
  });

  it('a certificate where the key should be', async () => {
    await usage(
      { cert: pki.path('client.crt'), key: pki.path('client.crt') },
      'BAD_KEY',
      /holds no private key \(it holds a certificate\)/,
      /--cert/,
    );
  });

  it('key does not match the certificate', async () => {
    await usage(
      { cert: pki.path('client.crt'), key: pki.path('wrong.key') },
      'KEY_MISMATCH',
      /does not belong to the certificate/,
      /mtls-oauth certs inspect .*client\.crt --key .*wrong\.key/,
    );
  });

  it('encrypted key without a passphrase', async () => {
    await usage(
      { cert: pki.path('client.crt'), key: pki.path('client-enc.key') },
      'KEY_PASSPHRASE_REQUIRED',
      /is encrypted and no passphrase was given/,
      /MTLS_OAUTH_KEY_PASSPHRASE/,
    );
  });

  it('encrypted key with a wrong passphrase', async () => {
    await usage(
      { cert: pki.path('client.crt'), key: pki.path('client-enc.key'), keyPassphrase: 'battery staple' },
      'KEY_PASSPHRASE',
      /wrong passphrase/,
      /MTLS_OAUTH_KEY_PASSPHRASE/,
    );
  });

  it('encrypted key with a wrong passphrase that gets past the padding check', async () => {
    const keyPassphrase = unluckyPassphrase(readFileSync(pki.path('client-enc.key'), 'utf8'));
    await usage(
      { cert: pki.path('client.crt'), key: pki.path('client-enc.key'), keyPassphrase },
      'KEY_PASSPHRASE',
      /wrong passphrase/,
      /MTLS_OAUTH_KEY_PASSPHRASE/,
    );
  });

  it('PKCS#12 with a wrong password', async () => {
    await usage(
      { p12: pki.path('client.p12'), p12Password: 'wrong' },
      'P12_PASSWORD',
      /wrong password for the PKCS#12 file/,
      /MTLS_OAUTH_P12_PASSWORD/,
    );
  });

  it('PKCS#12 without a password', async () => {
    await usage(
      { p12: pki.path('client.p12') },
      'P12_PASSWORD_REQUIRED',
      /PKCS#12 file .* is protected by a password, and no password was given/,
      /MTLS_OAUTH_P12_PASSWORD/,
    );
  });

  it('a DER certificate and key are read as well as PEM', async () => {
    const der = pki.path('client.der');
    const keyDer = pki.path('client.key.der');
    writeFileSync(der, pki.client.x509.raw);
    writeFileSync(
      keyDer,
      createPrivateKey(readFileSync(pki.path('client.key'))).export({ type: 'pkcs8', format: 'der' }),
    );
    const id = (await loadClientIdentity({ cert: der, key: keyDer }))!;
    assert.equal(id.subjectDn, 'CN=kong');
    assert.match(id.tls.cert ?? '', /^-----BEGIN CERTIFICATE-----/);
    assert.match(id.tls.key ?? '', /^-----BEGIN PRIVATE KEY-----/);
  });

  it('a PEM file given as PKCS#12', async () => {
    await usage(
      { p12: pki.path('client.crt'), p12Password: 'x' },
      'BAD_P12',
      /is a PEM certificate, not a PKCS#12 file/,
      /--cert FILE --key FILE/,
    );
  });
});
