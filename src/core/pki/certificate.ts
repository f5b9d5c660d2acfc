// X.509 v3 certificates for any Node KeyObject (EC P-256/P-384, RSA, Ed25519). node-forge cannot
// build EC certificates on its own ("OID is not RSA"), so forge serves only as the ASN.1/DER
// encoder here; the SubjectPublicKeyInfo and the signature come from Node's crypto.

import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto';
import { fromDer } from './asn1.ts';
import { type Dn, dnToAsn1 } from './dn.ts';
import forge, { type Asn1 as ForgeAsn1 } from './forge-lite.ts';
import type { San } from './san.ts';

const { asn1 } = forge;
const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

export type CertificateProfile = 'ca' | 'client' | 'server';

export interface CertificateSpec {
  profile: CertificateProfile;
  subject: Dn;
  issuer: Dn;
  publicKey: KeyObject;
  /** The issuer's private key (the subject's own for a self-signed certificate). */
  signingKey: KeyObject;
  /** The issuer's public key, for the authority key identifier. */
  issuerPublicKey: KeyObject;
  sans?: San[];
  notBefore?: Date;
  notAfter: Date;
  /**
   * The issuer's Name exactly as its certificate encodes it (DER). Chain builders such as Go's
   * compare issuer and subject byte for byte, so a certificate from a CA made elsewhere copies it.
   */
  issuerNameDer?: Buffer;
  /** The issuer's subject key identifier, when its certificate has one (else derived from its key). */
  authorityKeyIdentifier?: Buffer;
}

interface SignatureAlgorithm {
  oid: string;
  nullParams: boolean;
  digest: string | null;
}

/** The signature algorithm a key signs with: SHA-256 or stronger, never SHA-1. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { oid: '1.2.840.10045.4.3.3', nullParams: false, digest: 'sha384' };
      if (curve === 'secp521r1') return { oid: '1.2.840.10045.4.3.4', nullParams: false, digest: 'sha512' };
      return { oid: '1.2.840.10045.4.3.2', nullParams: false, digest: 'sha256' };
    }
    case 'rsa':
      return { oid: '1.2.840.113549.1.1.11', nullParams: true, digest: 'sha256' };
    case 'ed25519':
      return { oid: '1.3.101.112', nullParams: false, digest: null };
    default:
      throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType} key`);
  }
}

// fromDer keeps a BIT STRING's bytes as bytes (forge by default parses an RSA subjectPublicKey
// into ASN.1, and the key identifier would then hash nothing).
const derOf = fromDer;
const bytes = (a: ForgeAsn1) => Buffer.from(asn1.toDer(a).getBytes(), 'binary');
const oid = (o: string) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());

function algorithmIdentifier(alg: SignatureAlgorithm) {
  return asn1.create(U, T.SEQUENCE, true, [
    oid(alg.oid),
    ...(alg.nullParams ? [asn1.create(U, T.NULL, false, '')] : []),
  ]);
}

function time(d: Date) {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return d.getUTCFullYear() >= 2050
    ? asn1.create(U, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d))
    : asn1.create(U, T.UTCTIME, false, asn1.dateToUtcTime(d));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING (an identifier, not a signature). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = derOf(publicKey.export({ type: 'spki', format: 'der' }));
  const bitString = (spki.value as ForgeAsn1[])[1].value as string;
  return createHash('sha1')
    .update(Buffer.from(bitString.slice(1), 'binary'))
    .digest();
}

/** Positive, 16 octets, 127 random bits (RFC 5280 §4.1.2.2 allows 20; CA/B asks for at least 64). */
export function randomSerial(): Buffer {
  const s = randomBytes(16);
  s[0] &= 0x7f;
  if (s[0] === 0) s[0] = 0x01;
  return s;
}

function extension(id: string, critical: boolean, value: ForgeAsn1) {
  return asn1.create(U, T.SEQUENCE, true, [
    oid(id),
    ...(critical ? [asn1.create(U, T.BOOLEAN, false, '\xff')] : []),
    asn1.create(U, T.OCTETSTRING, false, asn1.toDer(value).getBytes()),
  ]);
}

function bitString(bits: number[]) {
  // KeyUsage: named bits, DER with trailing zero bits removed.
  let n = 0;
  for (const b of bits) n |= 1 << (15 - b);
  const hi = (n >> 8) & 0xff;
  const lo = n & 0xff;
  const octets = lo ? [hi, lo] : [hi];
  const last = octets[octets.length - 1];
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return asn1.create(U, T.BITSTRING, false, String.fromCharCode(unused, ...octets));
}

function sanEntry(s: San) {
  const C = asn1.Class.CONTEXT_SPECIFIC;
  switch (s.type) {
    case 'email':
      return asn1.create(C, 1, false, s.value);
    case 'dns':
      return asn1.create(C, 2, false, s.value);
    case 'uri':
      return asn1.create(C, 6, false, s.value);
    case 'ip':
      return asn1.create(
        C,
        7,
        false,
        (forge.util as unknown as { bytesFromIP(ip: string): string }).bytesFromIP(s.value),
      );
  }
}

function extensions(spec: CertificateSpec) {
  const exts: ForgeAsn1[] = [];
  const isCA = spec.profile === 'ca';
  // basicConstraints: CA:TRUE pathlen:0 (critical) for the CA; CA:FALSE for end entities.
  exts.push(
    extension(
      '2.5.29.19',
      true,
      asn1.create(
        U,
        T.SEQUENCE,
        true,
        isCA ? [asn1.create(U, T.BOOLEAN, false, '\xff'), asn1.create(U, T.INTEGER, false, '\x00')] : [],
      ),
    ),
  );
  // keyUsage (critical): keyCertSign(5)+cRLSign(6) for the CA; digitalSignature(0) for end entities,
  // plus keyEncipherment(2) for RSA only (TLS 1.2 RSA key exchange; never on EC keys, RFC 8813).
  const rsa = spec.publicKey.asymmetricKeyType === 'rsa';
  exts.push(extension('2.5.29.15', true, bitString(isCA ? [5, 6] : rsa ? [0, 2] : [0])));
  if (!isCA) {
    const eku = spec.profile === 'server' ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2';
    exts.push(extension('2.5.29.37', false, asn1.create(U, T.SEQUENCE, true, [oid(eku)])));
  }
  if (spec.sans?.length) {
    // Critical only when the subject is empty (RFC 5280 §4.2.1.6).
    exts.push(
      extension(
        '2.5.29.17',
        spec.subject.length === 0,
        asn1.create(U, T.SEQUENCE, true, spec.sans.map(sanEntry)),
      ),
    );
  }
  exts.push(
    extension(
      '2.5.29.14',
      false,
      asn1.create(U, T.OCTETSTRING, false, keyIdentifier(spec.publicKey).toString('binary')),
    ),
  );
  exts.push(
    extension(
      '2.5.29.35',
      false,
      asn1.create(U, T.SEQUENCE, true, [
        asn1.create(
          asn1.Class.CONTEXT_SPECIFIC,
          0,
          false,
          (spec.authorityKeyIdentifier ?? keyIdentifier(spec.issuerPublicKey)).toString('binary'),
        ),
      ]),
    ),
  );
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [asn1.create(U, T.SEQUENCE, true, exts)]);
}

/** Builds and signs a certificate; returns its DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const alg = signatureAlgorithmFor(spec.signingKey);
  const tbs = asn1.create(U, T.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(U, T.INTEGER, false, '\x02')]), // v3
    asn1.create(U, T.INTEGER, false, randomSerial().toString('binary')),
    algorithmIdentifier(alg),
    spec.issuerNameDer ? derOf(spec.issuerNameDer) : dnToAsn1(spec.issuer),
    asn1.create(U, T.SEQUENCE, true, [
      time(spec.notBefore ?? new Date(Date.now() - 5 * 60_000)),
      time(spec.notAfter),
    ]),
    dnToAsn1(spec.subject),
    derOf(spec.publicKey.export({ type: 'spki', format: 'der' })),
    extensions(spec),
  ]);
  const tbsDer = bytes(tbs);
  // ECDSA signatures from crypto.sign are DER (r, s), as X.509 wants; RSA is PKCS#1 v1.5.
  const signature = sign(alg.digest, tbsDer, spec.signingKey);
  return bytes(
    asn1.create(U, T.SEQUENCE, true, [
      tbs,
      algorithmIdentifier(alg),
      asn1.create(U, T.BITSTRING, false, `\x00${signature.toString('binary')}`),
    ]),
  );
}

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
