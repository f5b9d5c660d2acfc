// Making certificates: a test CA with a client certificate (`certs init`), and more client or
// server certificates from an existing CA (`certs issue`) — one made here or the user's own.

import { type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { usageError } from '../errors.ts';
import { buildCertificate, type CertificateProfile, derToPem, signatureAlgorithmFor } from './certificate.ts';
import { type Dn, formatDn, parseDn } from './dn.ts';
import { describeKey, generateKey, type KeyType, privateKeyPem } from './keys.ts';
import { type CertificateInfo, describeCertificate, subjectNameDer } from './parse.ts';
import { keyMatchesCertificate, loadPrivateKey, readCertificates } from './pem.ts';
import { parseSans, type San } from './san.ts';

const DAY = 86_400_000;
export const DEFAULT_DAYS = 365;
/** A test CA outlives the certificates it signs: ten years, or longer if they ask for longer. */
export const CA_DAYS = 3650;
const MAX_DAYS = 36_500;

export interface Issued {
  certificate: X509Certificate;
  /** PEM of the certificate. */
  pem: string;
  privateKey: KeyObject;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  info: CertificateInfo;
}

/** `--days`: a whole number of days, 1 to 36500. */
export function parseDays(value: string | number | undefined, fallback = DEFAULT_DAYS): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_DAYS) {
    throw usageError(
      'BAD_DAYS',
      `--days must be a whole number of days from 1 to ${MAX_DAYS}, got "${value}"`,
      {
        hint: 'for example --days 365',
      },
    );
  }
  return n;
}

/** The subject from --cn or --subject (exactly one; `fallbackCn` when neither). */
export function subjectFrom(opts: { cn?: string; subject?: string }, fallbackCn?: string): Dn {
  if (opts.cn !== undefined && opts.subject !== undefined) {
    throw usageError('BAD_SUBJECT', 'give --cn or --subject, not both', {
      hint: '--subject takes a whole DN: --subject "CN=kong,O=Example,C=US"',
    });
  }
  if (opts.subject !== undefined) return parseDn(opts.subject);
  const cn = opts.cn ?? fallbackCn;
  if (cn === undefined || cn.trim() === '') {
    throw usageError('BAD_SUBJECT', 'the certificate needs a subject', {
      hint: 'give --cn NAME or --subject "CN=NAME,O=..."',
    });
  }
  return [[{ oid: '2.5.4.3', value: cn }]];
}

function issued(der: Buffer, privateKey: KeyObject, now: Date): Issued {
  const certificate = new X509Certificate(der);
  let info: CertificateInfo | undefined;
  return {
    certificate,
    pem: derToPem(der),
    privateKey,
    keyPem: privateKeyPem(privateKey),
    // Read back from the DER on first use (it costs a few milliseconds of a start-up).
    get info() {
      info ??= describeCertificate(certificate, { now });
      return info;
    },
  };
}

export interface TestPkiOptions {
  /** The client's subject (default CN=kong). */
  subject?: Dn;
  caSubject?: Dn;
  keyType?: KeyType;
  /** Validity of the client certificate in days. */
  days?: number;
  sans?: San[];
  now?: Date;
}

export interface TestPki {
  ca: Issued;
  client: Issued;
}

/** A fresh CA (CA:TRUE, pathlen:0, keyCertSign+cRLSign) and a client certificate it signed. */
export async function createTestPki(opts: TestPkiOptions = {}): Promise<TestPki> {
  const keyType = opts.keyType ?? 'ec-p256';
  const now = opts.now ?? new Date();
  const days = opts.days ?? DEFAULT_DAYS;
  const subject = opts.subject ?? parseDn('CN=kong');
  // A name of its own, so that two test CAs are never mistaken for each other by name.
  const caSubject =
    opts.caSubject ?? parseDn(`CN=mtls-oauth test CA ${randomBytes(3).toString('hex')},O=mtls-oauth`);
  // Both keys at once: RSA generation runs on libuv's thread pool.
  const [caKeys, clientKeys] = await Promise.all([generateKey(keyType), generateKey(keyType)]);
  const notBefore = new Date(now.getTime() - 5 * 60_000);
  const caDer = buildCertificate({
    profile: 'ca',
    subject: caSubject,
    issuer: caSubject,
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    issuerPublicKey: caKeys.publicKey,
    notBefore,
    notAfter: new Date(now.getTime() + Math.max(days, CA_DAYS) * DAY),
  });
  const clientDer = buildCertificate({
    profile: 'client',
    subject,
    issuer: caSubject, // encoded exactly as in the CA certificate just built
    publicKey: clientKeys.publicKey,
    signingKey: caKeys.privateKey,
    issuerPublicKey: caKeys.publicKey,
    sans: opts.sans,
    notBefore,
    notAfter: new Date(now.getTime() + days * DAY),
  });
  return { ca: issued(caDer, caKeys.privateKey, now), client: issued(clientDer, clientKeys.privateKey, now) };
}

export interface LoadedCa {
  certificate: X509Certificate;
  key: KeyObject;
  info: CertificateInfo;
  /** Things worth telling the user (an expired CA, ...). */
  warnings: string[];
}

/**
 * Loads and checks a CA for issuing: a CA certificate (CA:TRUE; keyCertSign when keyUsage is
 * present) and its private key (matching, of a type that can sign). Errors are usage errors:
 * CA_NOT_CA, CA_NO_KEYCERTSIGN, KEY_MISMATCH, CA_KEY_UNSUPPORTED, KEY_PASSPHRASE_REQUIRED,
 * KEY_PASSPHRASE, CORRUPT_PEM, BAD_CERTIFICATE, BAD_KEY.
 */
export function loadCa(input: {
  cert: Buffer;
  certSource: string;
  key: Buffer;
  keySource: string;
  passphrase?: string;
  now?: Date;
}): LoadedCa {
  const certificate = readCertificates(input.cert, input.certSource, { what: 'CA certificate' })[0];
  const info = describeCertificate(certificate, { source: input.certSource, now: input.now });
  const hint =
    'use the ca.crt and ca.key that `mtls-oauth certs init` wrote, or a CA certificate with CA:TRUE and keyCertSign';
  if (!info.basicConstraints?.ca) {
    throw usageError(
      'CA_NOT_CA',
      `${input.certSource} is not a CA certificate (${info.basicConstraints ? 'basicConstraints CA:FALSE' : 'no basicConstraints CA:TRUE'}): ${info.subject}`,
      { hint },
    );
  }
  if (info.keyUsage && !info.keyUsage.usages.includes('keyCertSign')) {
    throw usageError(
      'CA_NO_KEYCERTSIGN',
      `${input.certSource} may not sign certificates (its keyUsage lacks keyCertSign): ${info.subject}`,
      { hint },
    );
  }
  const key = loadPrivateKey(input.key, input.keySource, input.passphrase);
  if (!keyMatchesCertificate(key, certificate)) {
    throw usageError('KEY_MISMATCH', `${input.keySource} is not the private key of ${input.certSource}`, {
      hint: 'give the key that belongs to this CA certificate',
    });
  }
  try {
    signatureAlgorithmFor(key);
  } catch {
    throw usageError('CA_KEY_UNSUPPORTED', `cannot sign with the CA's ${describeKey(key)} key`, {
      hint: 'supported CA keys: EC P-256/P-384/P-521, RSA, Ed25519',
    });
  }
  const warnings: string[] = [];
  if (info.validity.status === 'expired') {
    warnings.push(`the CA certificate expired on ${info.notAfter}: certificates it signs will not verify`);
  } else if (info.validity.status === 'not-yet-valid') {
    warnings.push(`the CA certificate is not valid until ${info.notBefore}`);
  }
  return { certificate, key, info, warnings };
}

export interface IssueOptions {
  subject: Dn;
  profile: Exclude<CertificateProfile, 'ca'>;
  keyType?: KeyType;
  days?: number;
  sans?: San[];
  now?: Date;
}

/** For a server certificate without SANs: the CN as a DNS name or IP address, if it is one. */
export function defaultServerSans(subject: Dn): San[] {
  const cn = subject
    .flat()
    .reverse()
    .find((a) => a.oid === '2.5.4.3')?.value;
  if (!cn) return [];
  try {
    return parseSans(cn.includes(':') || /^[\d.]+$/.test(cn) ? `ip:${cn}` : `dns:${cn}`);
  } catch {
    return [];
  }
}

/** Issues a client or server certificate from a loaded CA. */
export async function issueCertificate(
  ca: LoadedCa,
  opts: IssueOptions,
): Promise<Issued & { warnings: string[]; sans: San[] }> {
  const now = opts.now ?? new Date();
  const days = opts.days ?? DEFAULT_DAYS;
  const warnings: string[] = [];
  let notAfter = new Date(now.getTime() + days * DAY);
  const caNotAfter = new Date(ca.info.notAfter);
  if (notAfter > caNotAfter && ca.info.validity.status !== 'expired') {
    notAfter = caNotAfter;
    warnings.push(`the CA expires on ${ca.info.notAfter}; the certificate's validity is cut to match`);
  }
  let sans = opts.sans ?? [];
  if (opts.profile === 'server' && sans.length === 0) {
    sans = defaultServerSans(opts.subject);
    if (sans.length === 0) {
      throw usageError('BAD_SAN', 'a server certificate needs a DNS name or IP address', {
        hint: 'give --san dns:host.example.com (clients check the server name against the SANs)',
      });
    }
  }
  const keys = await generateKey(opts.keyType ?? 'ec-p256');
  const ski = ca.info.subjectKeyId ? Buffer.from(ca.info.subjectKeyId.replace(/:/g, ''), 'hex') : undefined;
  const der = buildCertificate({
    profile: opts.profile,
    subject: opts.subject,
    issuer: [],
    issuerNameDer: subjectNameDer(ca.certificate),
    authorityKeyIdentifier: ski,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    issuerPublicKey: ca.certificate.publicKey,
    sans,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter,
  });
  return { ...issued(der, keys.privateKey, now), warnings: [...ca.warnings, ...warnings], sans };
}

/** A file name from a subject's CN: "kong" → "kong", "api.example.com" → "api.example.com". */
export function baseNameFor(subject: Dn, fallback: string): string {
  const cn = subject
    .flat()
    .reverse()
    .find((a) => a.oid === '2.5.4.3')?.value;
  const base = (cn ?? '')
    .toLowerCase()
    .replace(/^\*\./, 'wildcard.')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 64);
  return base || fallback;
}

export { formatDn };
