// The client identity: the certificate and key this tool presents in the TLS handshake. Loaded and
// checked once, before any connection, so that a wrong file, a key that does not match or a wrong
// passphrase is a clear usage error instead of a TLS failure later.

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';
import type { Settings } from '../config.ts';
import { errnoCode, usageError, whyUnreadable } from '../errors.ts';
import { x5tS256 } from '../pki/thumbprint.ts';
import { certificateNames } from './x509-names.ts';

export interface ClientIdentity {
  /** what undici/tls gets */
  tls: { cert?: string; key?: string; passphrase?: string; pfx?: Buffer };
  /** the leaf */
  certificate: X509Certificate;
  /** leaf first, then any intermediates in the file */
  chain: X509Certificate[];
  /** RFC 4514 (src/core/pki/dn.ts) */
  subjectDn: string;
  /** RFC 4514 issuer of the leaf (added member: used for the acceptable-CA comparison) */
  issuerDn: string;
  /** src/core/pki/thumbprint.ts */
  x5tS256: string;
  /** "certs/client.crt + certs/client.key" or "client.p12" */
  source: string;
  /** The TLS context OpenSSL built from `tls` while checking it, for the first agent to take
   *  (takeCheckedContext): building another costs a few ms of every run. */
  checkedContext?: SecureContext;
}

/** The identity's checked TLS context, once: whoever takes it may add trust anchors to it. */
export function takeCheckedContext(identity: ClientIdentity): SecureContext | undefined {
  const ctx = identity.checkedContext;
  delete identity.checkedContext;
  return ctx;
}

type IdentitySettings = Pick<Settings, 'cert' | 'key' | 'p12' | 'keyPassphrase' | 'p12Password'>;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = errnoCode(e);
    throw usageError('CERT_FILE_UNREADABLE', `cannot read the ${what} ${path}: ${whyUnreadable(e)}`, {
      hint:
        code === 'ENOENT'
          ? `check the path; \`mtls-oauth certs init\` writes certs/client.crt and certs/client.key`
          : `make the file readable by this user`,
      cause: e,
    });
  }
}

/** Every certificate in a PEM text, in file order. */
export function parsePemCertificates(text: string, file: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    const looksLikeKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text);
    throw usageError('CERT_PARSE', `${file} holds no PEM certificate`, {
      hint: looksLikeKey
        ? 'this looks like a private key: pass it with --key, and the certificate with --cert'
        : 'the file must contain "-----BEGIN CERTIFICATE-----" (convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`)',
    });
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (e) {
      throw usageError(
        'CERT_PARSE',
        `certificate #${i + 1} in ${file} cannot be parsed: ${(e as Error).message}`,
        {
          hint: 'check the file with `openssl x509 -in FILE -noout -text`',
          cause: e,
        },
      );
    }
  });
}

function loadPrivateKey(pem: string, file: string, passphrase: string | undefined): KeyObject {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw usageError('CERT_PARSE', `${file} holds no PEM private key`, {
      hint: /BEGIN CERTIFICATE/.test(pem)
        ? 'this is a certificate: pass it with --cert, and the private key with --key'
        : 'the file must contain "-----BEGIN PRIVATE KEY-----" (or an RSA / EC / ENCRYPTED PRIVATE KEY block)',
    });
  }
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem);
  if (encrypted && !passphrase) {
    throw usageError('KEY_PASSPHRASE', `the private key ${file} is encrypted and no passphrase was given`, {
      hint: 'set MTLS_OAUTH_KEY_PASSPHRASE (or keyPassphrase in the config profile)',
    });
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', ...(encrypted ? { passphrase } : {}) });
  } catch (e) {
    // An encrypted key that will not open is a wrong passphrase: OpenSSL says "bad decrypt" only when the
    // padding check catches it; in about 1 of 256 wrong tries the padding passes by chance and the garbage
    // fails to decode ("DECODER routines::unsupported") instead.
    if (encrypted) {
      throw usageError('KEY_PASSPHRASE', `wrong passphrase for the private key ${file}`, {
        hint: 'check MTLS_OAUTH_KEY_PASSPHRASE; `openssl pkey -in FILE -noout` asks for it and tells you if it is right',
        cause: e,
      });
    }
    throw usageError('CERT_PARSE', `the private key ${file} cannot be parsed: ${(e as Error).message}`, {
      hint: 'check the file with `openssl pkey -in FILE -noout -text`',
      cause: e,
    });
  }
}

function summarize(
  leaf: X509Certificate,
  chain: X509Certificate[],
  source: string,
  tls: ClientIdentity['tls'],
  checkedContext: SecureContext,
): ClientIdentity {
  const names = certificateNames(leaf.raw);
  const identity: ClientIdentity = {
    tls,
    certificate: leaf,
    chain,
    subjectDn: names.subject,
    issuerDn: names.issuer,
    x5tS256: x5tS256(leaf),
    source,
  };
  // Not enumerable: the identity is printed and serialised; a native context is neither.
  Object.defineProperty(identity, 'checkedContext', {
    value: checkedContext,
    configurable: true,
    writable: true,
  });
  return identity;
}

function loadPem(s: IdentitySettings): ClientIdentity {
  if (!s.cert || !s.key) {
    const [have, missing] = s.cert ? ['--cert', '--key'] : ['--key', '--cert'];
    throw usageError('CERT_FILE_UNREADABLE', `${have} was given without ${missing}`, {
      hint: 'give both --cert FILE and --key FILE (or --p12 FILE), or set MTLS_OAUTH_CERT and MTLS_OAUTH_KEY',
    });
  }
  const certPem = readFile(s.cert, 'certificate').toString('utf8');
  const keyPem = readFile(s.key, 'private key').toString('utf8');
  const chain = parsePemCertificates(certPem, s.cert);
  const leaf = chain[0];
  const key = loadPrivateKey(keyPem, s.key, s.keyPassphrase);
  if (!leaf.checkPrivateKey(key)) {
    throw usageError(
      'KEY_MISMATCH',
      `the private key ${s.key} does not belong to the certificate ${s.cert}`,
      {
        hint: 'the key and certificate must be a pair: compare `openssl x509 -in CERT -noout -pubkey` with `openssl pkey -in KEY -pubout`',
      },
    );
  }
  const tls = { cert: certPem, key: keyPem, ...(s.keyPassphrase ? { passphrase: s.keyPassphrase } : {}) };
  // OpenSSL is the last word: what it refuses here it would refuse at connect time.
  const checked = tryContext(tls, s.cert);
  return summarize(leaf, chain, `${s.cert} + ${s.key}`, tls, checked);
}

function tryContext(tls: ClientIdentity['tls'], file: string) {
  try {
    return createSecureContext(tls);
  } catch (e) {
    throw translateContextError(e, file, !!tls.pfx);
  }
}

/** Maps an OpenSSL error raised while loading a certificate and key into a usage error. */
export function translateContextError(e: unknown, file: string, isP12: boolean) {
  const code = errnoCode(e) ?? '';
  const msg = String((e as Error)?.message ?? e);
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/.test(msg)) {
    return usageError('KEY_MISMATCH', `the private key does not belong to the certificate (${file})`, {
      hint: 'the key and certificate must be a pair: compare `openssl x509 -in CERT -noout -pubkey` with `openssl pkey -in KEY -pubout`',
      cause: e,
    });
  }
  if (isP12 && /mac verify failure|invalid password|bad decrypt/i.test(msg)) {
    return usageError('P12_PASSWORD', `wrong password for the PKCS#12 file ${file}`, {
      hint: 'check MTLS_OAUTH_P12_PASSWORD; `openssl pkcs12 -in FILE -noout` asks for it and tells you if it is right',
      cause: e,
    });
  }
  if (code === 'ERR_OSSL_BAD_DECRYPT' || /bad decrypt/i.test(msg)) {
    return usageError('KEY_PASSPHRASE', `wrong passphrase for the private key (${file})`, {
      hint: 'check MTLS_OAUTH_KEY_PASSPHRASE',
      cause: e,
    });
  }
  return usageError(
    'CERT_PARSE',
    `${isP12 ? 'the PKCS#12 file' : 'the certificate or key'} ${file} cannot be used: ${msg}`,
    {
      hint: isP12
        ? 'check the file with `openssl pkcs12 -in FILE -info -noout`'
        : 'check the files with `openssl x509 -in CERT -noout -text` and `openssl pkey -in KEY -noout`',
      cause: e,
    },
  );
}

async function loadP12(s: IdentitySettings): Promise<ClientIdentity> {
  const file = s.p12!;
  const pfx = readFile(file, 'PKCS#12 file');
  const tls = { pfx, ...(s.p12Password !== undefined ? { passphrase: s.p12Password } : {}) };
  const ctx = tryContext(tls, file);
  // OpenSSL parsed it: ask it which certificate it will present.
  const probe = new TLSSocket(null as never, { secureContext: ctx });
  const raw = (probe.getCertificate() as { raw?: Buffer } | null)?.raw;
  probe.destroy();
  if (!raw) {
    throw usageError('CERT_PARSE', `the PKCS#12 file ${file} holds no certificate`, {
      hint: 'check the file with `openssl pkcs12 -in FILE -info -noout`',
    });
  }
  const leaf = new X509Certificate(raw);
  const chain = [leaf, ...(await p12ExtraCertificates(pfx, s.p12Password ?? '', leaf))];
  return summarize(leaf, chain, file, tls, ctx);
}

/** The other certificates in a PKCS#12 file (intermediates), best effort: the leaf is what matters.
 *  OpenSSL has already opened the file; the project's own reader (pki/p12.ts) lists its certificates. */
async function p12ExtraCertificates(pfx: Buffer, password: string, leaf: X509Certificate) {
  try {
    const { readP12 } = await import('../pki/p12.ts');
    return readP12(pfx, password, 'PKCS#12').certificates.filter((c) => !c.raw.equals(leaf.raw));
  } catch {
    return [];
  }
}

/** Reads --cert/--key (PEM, optional passphrase) or --p12 (+password). Validates: files exist, PEM/PKCS#12
 *  parse, key matches certificate, passphrase right. All failures: MtlsOAuthError kind 'usage' (exit 2). */
export async function loadClientIdentity(s: IdentitySettings): Promise<ClientIdentity | undefined> {
  if (s.p12 && (s.cert || s.key)) {
    throw usageError('CERT_FILE_UNREADABLE', '--p12 cannot be combined with --cert/--key', {
      hint: 'give either a PKCS#12 file (--p12) or a PEM certificate and key (--cert and --key)',
    });
  }
  if (s.p12) return loadP12(s);
  if (s.cert || s.key) return loadPem(s);
  return undefined;
}
