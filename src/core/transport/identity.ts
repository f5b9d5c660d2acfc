// The client identity: the certificate and key this tool presents in the TLS handshake. Loaded and
// checked once, before any connection, so that a wrong file, a key that does not match or a wrong
// passphrase is a clear usage error instead of a TLS failure later.

import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext, TLSSocket } from 'node:tls';
import type { Settings } from '../config.ts';
import { errnoCode, isMtlsOAuthError, usageError } from '../errors.ts';
import { readInputFile } from '../files.ts';
import { certificateNames } from '../pki/der.ts';
import { privateKeyPem } from '../pki/keys.ts';
import { keyMatchesCertificate, loadPrivateKey, looksLikePem, readCertificates } from '../pki/pem.ts';
import { x5tS256 } from '../pki/thumbprint.ts';

export interface ClientIdentity {
  /** what undici/tls gets */
  tls: { cert?: string; key?: string; passphrase?: string; pfx?: Buffer };
  /** the leaf */
  certificate: X509Certificate;
  /** leaf first, then any intermediates in the file */
  chain: X509Certificate[];
  /** RFC 4514 (src/core/pki/dn.ts) */
  subjectDn: string;
  /** RFC 4514 issuer of the leaf (compared with the acceptable CA names) */
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

const MISSING_FILE_HINT =
  'check the path; `mtls-oauth certs init` writes certs/client.crt and certs/client.key';
/** What to run to see which certificate a key belongs to. */
export function keyMismatchHint(cert = 'CERT', key = 'KEY'): string {
  return `the key and certificate must be a pair: \`mtls-oauth certs inspect ${cert} --key ${key}\` compares them`;
}
const PASSPHRASE_FROM = 'MTLS_OAUTH_KEY_PASSPHRASE (or keyPassphrase in the config profile)';

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
    throw usageError('BAD_ARGUMENTS', `${have} was given without ${missing}`, {
      hint: 'give both --cert FILE and --key FILE (or --p12 FILE), or set MTLS_OAUTH_CERT and MTLS_OAUTH_KEY',
    });
  }
  // The same readers as `certs inspect` and `certs issue`: PEM or DER, one code per mistake.
  const chain = readCertificates(readInputFile(s.cert, 'the certificate', MISSING_FILE_HINT), s.cert, {
    what: 'client certificate',
    ifKey: 'this looks like a private key: pass it with --key, and the certificate with --cert',
  });
  const leaf = chain[0];
  const keyData = readInputFile(s.key, 'the private key', MISSING_FILE_HINT);
  const key = loadPrivateKey(keyData, s.key, s.keyPassphrase, {
    passphraseFrom: PASSPHRASE_FROM,
    ifCertificate: 'this is a certificate: pass it with --cert, and the private key with --key',
  });
  if (!keyMatchesCertificate(key, leaf)) {
    throw usageError(
      'KEY_MISMATCH',
      `the private key ${s.key} does not belong to the certificate ${s.cert}`,
      { hint: keyMismatchHint(s.cert, s.key) },
    );
  }
  // OpenSSL takes PEM only: DER input goes over as PEM (a DER key as unencrypted PKCS#8, in memory).
  const keyIsPem = looksLikePem(keyData);
  const tls = {
    cert: chain.map((c) => c.toString()).join(''),
    key: keyIsPem ? keyData.toString('utf8') : privateKeyPem(key),
    ...(keyIsPem && s.keyPassphrase !== undefined ? { passphrase: s.keyPassphrase } : {}),
  };
  // OpenSSL is the last word: what it refuses here it would refuse at connect time.
  const checked = tryContext(tls, s.cert);
  return summarize(leaf, chain, `${s.cert} + ${s.key}`, tls, checked);
}

function tryContext(tls: ClientIdentity['tls'], file: string) {
  try {
    return createSecureContext(tls);
  } catch (e) {
    throw translateContextError(e, file, tls.pfx ? { password: tls.passphrase } : undefined);
  }
}

/** Maps an OpenSSL error raised while loading a certificate and key (or a PKCS#12 file with its
 *  password) into the usage error the PEM and PKCS#12 readers would give for the same mistake. */
export function translateContextError(e: unknown, file: string, p12?: { password?: string }) {
  const code = errnoCode(e) ?? '';
  const msg = String((e as Error)?.message ?? e);
  if (code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/.test(msg)) {
    return usageError('KEY_MISMATCH', `the private key does not belong to the certificate (${file})`, {
      hint: keyMismatchHint(),
      cause: e,
    });
  }
  if (p12 && /mac verify failure|invalid password|bad decrypt/i.test(msg)) {
    return p12.password === undefined || p12.password === ''
      ? usageError(
          'P12_PASSWORD_REQUIRED',
          `the PKCS#12 file ${file} is protected by a password, and no password was given`,
          {
            hint: 'set MTLS_OAUTH_P12_PASSWORD (or p12Password in the config profile)',
            cause: e,
          },
        )
      : usageError('P12_PASSWORD', `wrong password for the PKCS#12 file ${file}`, {
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
  if (p12) {
    return usageError('BAD_P12', `the PKCS#12 file ${file} cannot be used: ${msg}`, {
      hint: 'check the file with `openssl pkcs12 -in FILE -info -noout`',
      cause: e,
    });
  }
  return usageError('BAD_CERTIFICATE', `the certificate or key ${file} cannot be used: ${msg}`, {
    hint: 'check the files with `openssl x509 -in CERT -noout -text` and `openssl pkey -in KEY -noout`',
    cause: e,
  });
}

async function loadP12(s: IdentitySettings): Promise<ClientIdentity> {
  const file = s.p12!;
  const pfx = readInputFile(file, 'the PKCS#12 file', MISSING_FILE_HINT);
  if (looksLikePem(pfx)) {
    const what = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pfx.toString('latin1'))
      ? 'a PEM private key'
      : 'a PEM certificate';
    throw usageError('BAD_P12', `${file} is ${what}, not a PKCS#12 file`, {
      hint: 'give a PEM certificate and its key with --cert FILE --key FILE',
    });
  }
  // The project's reader opens it first: it checks the work the file asks for (iteration counts,
  // limits.ts) before deriving anything, which OpenSSL would not, and lists the chain.
  const ours = await readOwnP12(pfx, s.p12Password, file);
  const tls = { pfx, ...(s.p12Password !== undefined ? { passphrase: s.p12Password } : {}) };
  const ctx = tryContext(tls, file);
  // OpenSSL parsed it: ask it which certificate it will present.
  const probe = new TLSSocket(null as never, { secureContext: ctx });
  const raw = (probe.getCertificate() as { raw?: Buffer } | null)?.raw;
  probe.destroy();
  if (!raw) {
    throw usageError('NO_CERTIFICATE', `the PKCS#12 file ${file} holds no certificate`, {
      hint: 'check the file with `openssl pkcs12 -in FILE -info -noout`',
    });
  }
  const leaf = new X509Certificate(raw);
  // The other certificates (intermediates), as the project's reader saw them: the leaf is OpenSSL's.
  const others = ours?.certificates.filter((c) => !c.raw.equals(leaf.raw)) ?? [];
  return summarize(leaf, [leaf, ...others], file, tls, ctx);
}

/**
 * pki/p12/'s view of the file. A file over a limit is refused here; any other failure (an
 * algorithm it does not read, a wrong password) is left for OpenSSL to report in its own words.
 */
async function readOwnP12(pfx: Buffer, password: string | undefined, file: string) {
  const { readP12 } = await import('../pki/p12/index.ts');
  try {
    return readP12(pfx, password, `the PKCS#12 file ${file}`);
  } catch (e) {
    if (isMtlsOAuthError(e) && e.code === 'FILE_LIMIT') throw e;
    return undefined;
  }
}

/** Reads --cert/--key (PEM, optional passphrase) or --p12 (+password). Validates: files exist, PEM/PKCS#12
 *  parse, key matches certificate, passphrase right. All failures: MtlsOAuthError kind 'usage' (exit 2). */
export async function loadClientIdentity(s: IdentitySettings): Promise<ClientIdentity | undefined> {
  if (s.p12 && (s.cert || s.key)) {
    throw usageError('BAD_ARGUMENTS', '--p12 cannot be combined with --cert/--key', {
      hint: 'give either a PKCS#12 file (--p12) or a PEM certificate and key (--cert and --key)',
    });
  }
  if (s.p12) return loadP12(s);
  if (s.cert || s.key) return loadPem(s);
  return undefined;
}

/** An identity from PEM in memory (smoke's throw-away certificate), checked as a file's would be. */
export function identityFromPem(certPem: string, keyPem: string, source: string): ClientIdentity {
  const leaf = new X509Certificate(certPem);
  const tls = { cert: certPem, key: keyPem };
  return summarize(leaf, [leaf], source, tls, tryContext(tls, source));
}
