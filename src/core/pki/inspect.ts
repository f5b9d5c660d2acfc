// `certs inspect`: what a file holds (PEM with one certificate or a chain, DER, PKCS#12), each
// certificate described, the chain checked link by link, a key matched, and warnings for what
// would make a client certificate fail mutual TLS.

import type { KeyObject, X509Certificate } from 'node:crypto';
import type { Check } from '../check.ts';
import { MtlsOAuthError, usageError } from '../errors.ts';
import { describeKey } from './keys.ts';
import { looksLikeP12, readP12 } from './p12/index.ts';
import { type CertificateInfo, describeCertificate, signatureVerifies } from './parse.ts';
import { keyMatchesCertificate, loadPrivateKey, looksLikePem, parseCertificateDer, parsePem } from './pem.ts';

export interface ChainLink {
  /** Index of the certificate (0 = the first in the file). */
  index: number;
  /** Its issuer name equals the next certificate's subject. */
  issuerMatchesNext: boolean;
  /** Its signature verifies with the next certificate's key. */
  signedByNext: boolean;
}

/** What a certificate is, from its own content (not from where it stands in the file). */
export type CertificateRole = 'end-entity' | 'intermediate CA' | 'root CA';

export interface InspectReport {
  source: string;
  format: 'pem' | 'der' | 'pkcs12';
  certificates: CertificateInfo[];
  /** certificates[i]'s role. */
  roles: CertificateRole[];
  /** One entry per adjacent pair (certificate i and i+1). */
  chain: ChainLink[];
  key?: { source: string; type: string; matches: boolean };
  pkcs12?: { mac: string; encryption: string[]; friendlyName?: string; hasKey: boolean };
  checks: Check[];
}

export interface InspectInput {
  data: Buffer;
  source: string;
  /** PKCS#12 password (undefined: try the empty one, else P12_PASSWORD_REQUIRED). */
  password?: string;
  /** A separate private key to match (--key). */
  key?: { data: Buffer; source: string; passphrase?: string };
  now?: Date;
}

const KEY_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'];

function readFile(input: InspectInput): {
  format: InspectReport['format'];
  certs: X509Certificate[];
  key?: { key: KeyObject; source: string };
  pkcs12?: InspectReport['pkcs12'];
} {
  const { data, source } = input;
  if (looksLikePem(data)) {
    const blocks = parsePem(data.toString('latin1'), source);
    const certBlocks = blocks.filter((b) => /^(X509 |TRUSTED )?CERTIFICATE$/.test(b.label));
    if (certBlocks.length === 0) {
      const labels = [...new Set(blocks.map((b) => b.label))].join(', ') || 'nothing';
      throw usageError('NO_CERTIFICATE', `${source} holds no certificate (it holds: ${labels})`, {
        hint: 'inspect a certificate file (.crt, .pem, .der) or a PKCS#12 file (.p12, .pfx)',
      });
    }
    const certs = certBlocks.map((b, i) =>
      parseCertificateDer(b.der, certBlocks.length > 1 ? `${source} (certificate ${i + 1})` : source),
    );
    // A bundle with its key: match it too (unencrypted keys only; never ask for a passphrase here).
    const keyBlock = blocks.find((b) => KEY_LABELS.includes(b.label) && b.label !== 'ENCRYPTED PRIVATE KEY');
    let key: { key: KeyObject; source: string } | undefined;
    if (keyBlock && !keyBlock.headers['Proc-Type']) {
      try {
        key = { key: loadPrivateKey(Buffer.from(keyBlock.text), source), source };
      } catch {}
    }
    return { format: 'pem', certs, key };
  }
  if (looksLikeP12(data)) {
    const p12 = readP12(data, input.password, source);
    if (p12.certificates.length === 0) {
      throw usageError('NO_CERTIFICATE', `${source} holds no certificate`, {
        hint: 'the PKCS#12 file holds only a key',
      });
    }
    return {
      format: 'pkcs12',
      certs: p12.certificates,
      key: p12.key ? { key: p12.key, source } : undefined,
      pkcs12: {
        mac: p12.mac,
        encryption: p12.encryption,
        ...(p12.friendlyName ? { friendlyName: p12.friendlyName } : {}),
        hasKey: !!p12.key,
      },
    };
  }
  if (data[0] !== 0x30) {
    throw usageError('BAD_CERTIFICATE', `${source} is not a certificate (neither PEM, DER nor PKCS#12)`, {
      hint: 'inspect a certificate file (.crt, .pem, .der) or a PKCS#12 file (.p12, .pfx)',
    });
  }
  return { format: 'der', certs: [parseCertificateDer(data, source)] };
}

function fmtDate(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** What would make this certificate fail as a TLS client certificate. */
export function clientCertificateChecks(info: CertificateInfo): Check[] {
  const checks: Check[] = [];
  const v = info.validity;
  if (v.status === 'expired') {
    checks.push({
      name: 'validity',
      status: 'warn',
      detail: `expired on ${fmtDate(info.notAfter)}: servers reject it`,
    });
  } else if (v.status === 'not-yet-valid') {
    checks.push({
      name: 'validity',
      status: 'warn',
      detail: `not valid until ${fmtDate(info.notBefore)}: servers reject it (check the clocks)`,
    });
  } else if (v.expiringSoon) {
    checks.push({
      name: 'validity',
      status: 'warn',
      detail: `expires in ${v.daysLeft} day${v.daysLeft === 1 ? '' : 's'} (${fmtDate(info.notAfter)})`,
    });
  } else {
    checks.push({ name: 'validity', status: 'pass', detail: `valid for ${v.daysLeft} more days` });
  }
  const isCa = !!info.basicConstraints?.ca;
  if (isCa) {
    checks.push({
      name: 'end-entity',
      status: 'warn',
      detail: 'a CA certificate (CA:TRUE): fine to trust, but servers reject it as a client certificate',
    });
  }
  const eku = info.extendedKeyUsage?.usages;
  if (!isCa) {
    if (!eku) {
      checks.push({
        name: 'clientAuth',
        status: 'warn',
        detail: 'no extendedKeyUsage: most servers accept that, some IdPs require clientAuth',
      });
    } else if (!eku.includes('clientAuth') && !eku.includes('anyExtendedKeyUsage')) {
      checks.push({
        name: 'clientAuth',
        status: 'warn',
        detail: `extendedKeyUsage lacks clientAuth (${eku.join(', ')}): servers reject it as a client certificate`,
      });
    } else {
      checks.push({ name: 'clientAuth', status: 'pass', detail: 'extendedKeyUsage includes clientAuth' });
    }
    const ku = info.keyUsage?.usages;
    if (ku && !ku.includes('digitalSignature')) {
      checks.push({
        name: 'keyUsage',
        status: 'warn',
        detail: `keyUsage lacks digitalSignature (${ku.join(', ') || 'none'}): the key may not sign the TLS handshake`,
      });
    }
  }
  if (info.weakSignature) {
    checks.push({
      name: 'signature',
      status: 'warn',
      detail: `signed with ${info.signatureAlgorithm}: OpenSSL 3 and current IdPs reject SHA-1 and MD5 signatures`,
    });
  }
  if (info.publicKey.type === 'RSA' && (info.publicKey.bits ?? 0) < 2048) {
    checks.push({
      name: 'key size',
      status: 'warn',
      detail: `RSA ${info.publicKey.bits}: OpenSSL's default security level refuses RSA keys under 2048 bits`,
    });
  }
  return checks;
}

/** Reads and inspects a certificate file. Usage errors for unreadable input and wrong passwords. */
export function inspectCertificates(input: InspectInput): InspectReport {
  try {
    return inspect(input);
  } catch (e) {
    // A damaged file can trip the parsers anywhere (an impossible date, a truncated structure):
    // that is bad input, not a bug.
    if (e instanceof MtlsOAuthError) throw e;
    throw usageError('BAD_CERTIFICATE', `${input.source} cannot be read: ${(e as Error)?.message ?? e}`, {
      hint: 'the file may be damaged: check it with `openssl x509 -in FILE -noout -text` (or `openssl pkcs12 -info -in FILE` for PKCS#12)',
      cause: e,
    });
  }
}

function roleOf(c: CertificateInfo): CertificateRole {
  if (!c.basicConstraints?.ca) return 'end-entity';
  return c.selfSigned ? 'root CA' : 'intermediate CA';
}

/**
 * A chain must start with the end-entity certificate, each one followed by its issuer (RFC 8446
 * §4.4.2): a server checks the first one as the client's. Said when it is not so.
 */
function orderCheck(
  certs: X509Certificate[],
  infos: CertificateInfo[],
  roles: CertificateRole[],
): Check | undefined {
  if (certs.length < 2 || roles[0] === 'end-entity') return undefined;
  // Each certificate issued by the one before it: the chain was written issuer first.
  const reversed = certs.every((c, i) => i === 0 || signatureVerifies(c, certs[i - 1]));
  const leaf = roles.indexOf('end-entity');
  if (leaf < 0) return undefined; // a bundle of CAs: no client certificate to put first
  const parts = [
    `#1 is a ${roles[0]} (${infos[0].subject})`,
    ...(leaf > 0 ? [`the end-entity certificate (${infos[leaf].subject}) is #${leaf + 1}`] : []),
    ...(reversed ? ['the chain is in reverse order'] : []),
  ];
  return {
    name: 'order',
    status: 'warn',
    detail: `the order is wrong: ${parts.join('; ')}. The client certificate must come first, then each issuer in turn`,
  };
}

function inspect(input: InspectInput): InspectReport {
  const { format, certs, key: embeddedKey, pkcs12 } = readFile(input);
  const certificates = certs.map((c, i) =>
    describeCertificate(c, {
      now: input.now,
      source: certs.length > 1 ? `${input.source} #${i + 1}` : input.source,
    }),
  );
  const roles = certificates.map(roleOf);
  const report: InspectReport = {
    source: input.source,
    format,
    certificates,
    roles,
    chain: [],
    checks: [],
  };
  if (pkcs12) report.pkcs12 = pkcs12;

  for (let i = 0; i + 1 < certs.length; i++) {
    report.chain.push({
      index: i,
      issuerMatchesNext: certificates[i].issuer === certificates[i + 1].subject,
      signedByNext: signatureVerifies(certs[i], certs[i + 1]),
    });
  }

  const checks = clientCertificateChecks(certificates[0]);
  const order = orderCheck(certs, certificates, roles);
  if (order) checks.push(order);
  for (const link of report.chain) {
    const a = certificates[link.index];
    const b = certificates[link.index + 1];
    const ok = link.signedByNext && link.issuerMatchesNext;
    checks.push({
      name: `chain ${link.index + 1}→${link.index + 2}`,
      status: ok ? 'pass' : 'warn',
      detail: ok
        ? `${a.subject} is signed by ${b.subject}`
        : `${a.subject} is not signed by the next certificate, ${b.subject}: the chain is broken or out of order`,
    });
  }
  // Problems further up the chain are worth a word too.
  for (const [i, c] of certificates.entries()) {
    if (i === 0) continue;
    if (c.validity.status !== 'valid') {
      checks.push({
        name: `certificate ${i + 1} validity`,
        status: 'warn',
        detail: `${c.subject} ${c.validity.status === 'expired' ? `expired on ${fmtDate(c.notAfter)}` : `is not valid until ${fmtDate(c.notBefore)}`}`,
      });
    }
    if (c.weakSignature && !c.selfSigned) {
      checks.push({
        name: `certificate ${i + 1} signature`,
        status: 'warn',
        detail: `${c.subject} is signed with ${c.signatureAlgorithm}`,
      });
    }
  }

  let keyToMatch: { key: KeyObject; source: string } | undefined = embeddedKey;
  if (input.key) {
    keyToMatch = {
      key: loadPrivateKey(input.key.data, input.key.source, input.key.passphrase),
      source: input.key.source,
    };
  }
  if (keyToMatch) {
    const matches = keyMatchesCertificate(keyToMatch.key, certs[0]);
    report.key = { source: keyToMatch.source, type: describeKey(keyToMatch.key), matches };
    checks.push({
      name: 'key',
      status: matches ? 'pass' : 'fail',
      detail: matches
        ? `the private key in ${keyToMatch.source} belongs to this certificate`
        : `the private key in ${keyToMatch.source} does not belong to this certificate (${certificates[0].subject})`,
    });
  }
  report.checks = checks;
  return report;
}
