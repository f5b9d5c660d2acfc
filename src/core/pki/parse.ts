// Everything a person (or an IdP) cares about in one X.509 certificate, read from its DER:
// names as RFC 4514 strings, validity, key, extensions, fingerprints.

import { type KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { MtlsOAuthError, usageError } from '../errors.ts';
import {
  boolOf,
  bytesOf,
  certificateParts,
  children,
  intOf,
  isContext,
  isContextClass,
  nameOf,
  oidFromBytes,
  oidOf,
  readDer,
  TAG,
  type Tlv,
  tagNumber,
  timeOf,
} from './der.ts';
import { describeKey } from './keys.ts';
import { sha256Fingerprint, x5tS256 } from './thumbprint.ts';

export const SIGNATURE_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa-with-SHA256',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};
/** Signature algorithms that TLS stacks refuse (or soon will) for certificates. */
const WEAK_SIGNATURES = new Set([
  '1.2.840.113549.1.1.2',
  '1.2.840.113549.1.1.4',
  '1.2.840.113549.1.1.5',
  '1.2.840.10045.4.1',
  '1.2.840.10040.4.3',
]);

export const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.4.1.311.20.2.2': 'msSmartcardLogin',
  '1.3.6.1.5.2.3.4': 'pkInitKDC',
};
export const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

const EXT = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  authorityKeyIdentifier: '2.5.29.35',
} as const;
const EXT_NAMES: Record<string, string> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extKeyUsage',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
  '1.3.6.1.4.1.11129.2.4.2': 'ctPrecertificateSCTs',
};

export type ValidityStatus = 'valid' | 'expired' | 'not-yet-valid';

export interface CertificateInfo {
  version: number;
  /** RFC 4514, most specific first: the value for tls_client_auth_subject_dn. */
  subject: string;
  issuer: string;
  /** Upper-case hex, as openssl prints it. */
  serial: string;
  notBefore: string;
  notAfter: string;
  validity: {
    status: ValidityStatus;
    /** Whole days until notAfter (negative once expired). */
    daysLeft: number;
    /** Valid now and expiring within 30 days. */
    expiringSoon: boolean;
  };
  publicKey: { type: string; description: string; bits?: number; curve?: string };
  signatureAlgorithm: string;
  signatureAlgorithmOid: string;
  weakSignature: boolean;
  /** `dns:…`, `ip:…`, `uri:…`, `email:…`, `dirName:…`, `other:OID`. */
  sans: string[];
  keyUsage?: { critical: boolean; usages: string[] };
  extendedKeyUsage?: { critical: boolean; usages: string[] };
  basicConstraints?: { critical: boolean; ca: boolean; pathLen?: number };
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** Names of the other extensions present. */
  otherExtensions: string[];
  selfSigned: boolean;
  /** Colon-separated upper-case hex SHA-256 of the DER. */
  sha256Fingerprint: string;
  /** RFC 8705 §3.1 thumbprint: what a certificate-bound token's cnf carries. */
  x5tS256: string;
  pem: string;
}

const colonHex = (b: Buffer) =>
  b
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1:');

function ipOf(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    const full = groups.join(':');
    // The URL parser writes IPv6 in its canonical compressed form.
    const host = new URL(`http://[${full}]/`).hostname.slice(1, -1);
    return isIP(host) ? host : full;
  }
  return `#${b.toString('hex')}`;
}

function generalName(n: Tlv): string {
  if (!isContextClass(n)) return `unknown:${tagNumber(n)}`;
  const raw = () => bytesOf(n);
  switch (tagNumber(n)) {
    case 0:
      return `other:${oidOf(children(n)[0]) ?? '?'}`;
    case 1:
      return `email:${raw().toString('latin1')}`;
    case 2:
      return `dns:${raw().toString('latin1')}`;
    case 4: {
      const name = children(n)[0];
      return name ? `dirName:${nameOf(name)}` : 'dirName:';
    }
    case 6:
      return `uri:${raw().toString('latin1')}`;
    case 7:
      return `ip:${ipOf(raw())}`;
    case 8:
      return `rid:${oidFromBytes(raw())}`;
    default:
      return `unknown:${tagNumber(n)}`;
  }
}

function keyUsageBits(bitString: Buffer): string[] {
  const unused = bitString[0] ?? 0;
  const bytes = bitString.subarray(1);
  const names: string[] = [];
  const total = bytes.length * 8 - unused;
  for (let i = 0; i < Math.min(total, KEY_USAGE_NAMES.length); i++) {
    if (bytes[i >> 3] & (0x80 >> (i & 7))) names.push(KEY_USAGE_NAMES[i]);
  }
  return names;
}

function publicKeyInfo(key: KeyObject | undefined, spkiOid: string | undefined) {
  if (!key) return { type: spkiOid ?? 'unknown', description: `unsupported key (${spkiOid ?? '?'})` };
  const d = key.asymmetricKeyDetails ?? {};
  const type = String(key.asymmetricKeyType);
  const curve =
    type === 'ec'
      ? d.namedCurve === 'prime256v1'
        ? 'P-256'
        : d.namedCurve === 'secp384r1'
          ? 'P-384'
          : d.namedCurve === 'secp521r1'
            ? 'P-521'
            : d.namedCurve
      : undefined;
  const bits =
    type === 'rsa' || type === 'rsa-pss' || type === 'dsa'
      ? d.modulusLength
      : curve
        ? Number(curve.slice(2)) || undefined
        : type === 'ed25519'
          ? 256
          : type === 'ed448'
            ? 456
            : undefined;
  return {
    type: type === 'ec' ? 'EC' : type === 'rsa' ? 'RSA' : describeKey(key),
    description: describeKey(key),
    ...(bits ? { bits } : {}),
    ...(curve ? { curve } : {}),
  };
}

function daysBetween(a: Date, b: Date): number {
  return Math.round((b.getTime() - a.getTime()) / 86_400_000);
}

/** Reads a certificate; `source` names it in errors. Throws BAD_CERTIFICATE for anything unparsable. */
export function describeCertificate(
  input: X509Certificate | Buffer,
  opts: { now?: Date; source?: string } = {},
): CertificateInfo {
  try {
    return describe(input, opts);
  } catch (e) {
    // OpenSSL accepted it, but a damaged structure can still trip the reading: bad input, not a bug.
    if (e instanceof MtlsOAuthError) throw e;
    throw usageError(
      'BAD_CERTIFICATE',
      `${opts.source ?? 'the certificate'} cannot be read: ${(e as Error)?.message}`,
      {
        hint: 'the certificate is damaged; check it with openssl x509 -noout -text',
      },
    );
  }
}

function describe(input: X509Certificate | Buffer, opts: { now?: Date; source?: string }): CertificateInfo {
  const source = opts.source ?? 'the certificate';
  let x509: X509Certificate;
  let cert: ReturnType<typeof certificateParts>;
  try {
    x509 = input instanceof X509Certificate ? input : new X509Certificate(input);
    cert = certificateParts(x509.raw);
  } catch {
    throw usageError('BAD_CERTIFICATE', `${source} is not a valid X.509 certificate`, {
      hint: 'the file may be corrupt, or hold something else (a key, a CSR, a PKCS#12 file)',
    });
  }
  const now = opts.now ?? new Date();
  const [nbNode, naNode] = children(cert.validity);
  const notBefore = timeOf(nbNode) ?? new Date(x509.validFrom);
  const notAfter = timeOf(naNode) ?? new Date(x509.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw usageError('BAD_CERTIFICATE', `${source} has a validity date that cannot be read`, {
      hint: 'the certificate is damaged; check it with openssl x509 -noout -dates',
    });
  }
  const status: ValidityStatus = now < notBefore ? 'not-yet-valid' : now > notAfter ? 'expired' : 'valid';
  const daysLeft = daysBetween(now, notAfter);
  const sigOid = oidOf(children(cert.signatureAlgorithm)[0]) ?? '?';

  const info: CertificateInfo = {
    version: cert.version,
    subject: nameOf(cert.subject),
    issuer: nameOf(cert.issuer),
    serial: x509.serialNumber.toUpperCase(),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    validity: { status, daysLeft, expiringSoon: status === 'valid' && daysLeft < 30 },
    publicKey: publicKeyInfo(
      (() => {
        try {
          return x509.publicKey;
        } catch {
          return undefined;
        }
      })(),
      oidOf(children(children(cert.subjectPublicKeyInfo)[0])[0]),
    ),
    signatureAlgorithm: SIGNATURE_ALGORITHMS[sigOid] ?? sigOid,
    signatureAlgorithmOid: sigOid,
    weakSignature: WEAK_SIGNATURES.has(sigOid),
    sans: [],
    otherExtensions: [],
    selfSigned: false,
    sha256Fingerprint: sha256Fingerprint(x509),
    x5tS256: x5tS256(x509),
    pem: x509.toString(),
  };

  for (const ext of cert.extensions) {
    const parts = children(ext);
    const id = oidOf(parts[0]) ?? '?';
    const critical = boolOf(parts[1]) === true;
    const valueNode = parts[parts.length - 1];
    let value: Tlv;
    try {
      value = readDer(bytesOf(valueNode));
    } catch {
      info.otherExtensions.push(`${EXT_NAMES[id] ?? id} (unreadable)`);
      continue;
    }
    switch (id) {
      case EXT.basicConstraints: {
        const [a, b] = children(value);
        const ca = boolOf(a) === true;
        const pathLen = intOf(a?.tag === TAG.INTEGER ? a : b);
        info.basicConstraints = { critical, ca, ...(pathLen !== undefined ? { pathLen } : {}) };
        break;
      }
      case EXT.keyUsage:
        info.keyUsage = { critical, usages: keyUsageBits(bytesOf(value)) };
        break;
      case EXT.extKeyUsage:
        info.extendedKeyUsage = {
          critical,
          usages: children(value).map((n) => {
            const o = oidOf(n) ?? '?';
            return EKU_NAMES[o] ?? o;
          }),
        };
        break;
      case EXT.subjectAltName:
        info.sans = children(value).map(generalName);
        break;
      case EXT.subjectKeyIdentifier:
        info.subjectKeyId = colonHex(bytesOf(value));
        break;
      case EXT.authorityKeyIdentifier: {
        const keyId = children(value).find((n) => isContext(n, 0));
        if (keyId) info.authorityKeyId = colonHex(bytesOf(keyId));
        break;
      }
      default:
        info.otherExtensions.push(EXT_NAMES[id] ?? id);
    }
  }
  info.selfSigned = info.subject === info.issuer && signatureVerifies(x509, x509);
  return info;
}

/** Whether `cert`'s signature verifies with `issuer`'s public key. */
export function signatureVerifies(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** The raw DER of the certificate's subject Name (to copy, byte for byte, as an issuer). */
export function subjectNameDer(cert: X509Certificate): Buffer {
  return Buffer.from(certificateParts(cert.raw).subject.der);
}

/** The subject key identifier bytes, when the certificate has the extension. */
export function subjectKeyIdentifier(cert: X509Certificate): Buffer | undefined {
  const info = describeCertificate(cert);
  return info.subjectKeyId ? Buffer.from(info.subjectKeyId.replace(/:/g, ''), 'hex') : undefined;
}
