// Writing PKCS#12 for any key type. node-forge's own writer knows only RSA keys and always MACs
// with SHA-1, so the structure is written with forge's ASN.1 codec and Node's crypto does the
// crypto: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and the certificates, and an
// HMAC-SHA-256 MAC over the contents — what `openssl pkcs12 -export` writes since OpenSSL 3.

import {
  createCipheriv,
  createHash,
  createHmac,
  type KeyObject,
  pbkdf2Sync,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { type Asn1, bmp, explicit, implicitBytes, int, nul, octets, oid, seq, set, toDer } from '../asn1.ts';
import { AES256_CBC, HMAC_SHA256, OID, SHA256 } from './algorithms.ts';
import { bmpPassword, pkcs12Kdf } from './kdf.ts';

export interface P12Options {
  password: string;
  /** Shown by keychains and `openssl pkcs12 -info`. */
  friendlyName?: string;
  /** PBKDF2 iterations for the encryption (default 10000). */
  iterations?: number;
  /** Iterations of the PKCS#12 KDF for the MAC key (default 2048, as OpenSSL). */
  macIterations?: number;
}

function pbes2Encrypt(
  plain: Buffer,
  password: string,
  iterations: number,
): { algorithm: Asn1; data: Buffer } {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  const algorithm = seq([
    oid(OID.pbes2),
    seq([
      seq([oid(OID.pbkdf2), seq([octets(salt), int(iterations), seq([oid(HMAC_SHA256), nul()])])]),
      seq([oid(AES256_CBC), octets(iv)]),
    ]),
  ]);
  return { algorithm, data };
}

function bagAttributes(localKeyId: Buffer, friendlyName?: string): Asn1 {
  return set([
    seq([oid(OID.localKeyId), set([octets(localKeyId)])]),
    ...(friendlyName ? [seq([oid(OID.friendlyName), set([bmp(friendlyName)])])] : []),
  ]);
}

/**
 * A PKCS#12 file holding `key` and `certificates` (leaf first, then its chain), all encrypted
 * with the password (AES-256-CBC, PBKDF2-HMAC-SHA256) and MACed with HMAC-SHA-256.
 */
export function buildP12(
  key: KeyObject,
  certificates: Array<X509Certificate | Buffer>,
  opts: P12Options,
): Buffer {
  const iterations = opts.iterations ?? 10_000;
  const macIterations = opts.macIterations ?? 2048;
  const ders = certificates.map((c) => (c instanceof X509Certificate ? c.raw : c));
  const localKeyId = createHash('sha1')
    .update(ders[0] ?? key.export({ type: 'pkcs8', format: 'der' }))
    .digest();
  const attrs = bagAttributes(localKeyId, opts.friendlyName);

  const certBags = ders.map((der, i) =>
    seq([
      oid(OID.certBag),
      explicit(0, seq([oid(OID.x509Certificate), explicit(0, octets(der))])),
      i === 0 ? attrs : undefined,
    ]),
  );
  const certs = pbes2Encrypt(toDer(seq(certBags)), opts.password, iterations);
  const certInfo = seq([
    oid(OID.encryptedData),
    explicit(0, seq([int(0), seq([oid(OID.data), certs.algorithm, implicitBytes(0, certs.data)])])),
  ]);

  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const shrouded = pbes2Encrypt(pkcs8, opts.password, iterations);
  const keyBag = seq([
    oid(OID.shroudedKeyBag),
    explicit(0, seq([shrouded.algorithm, octets(shrouded.data)])),
    attrs,
  ]);
  const keyInfo = seq([oid(OID.data), explicit(0, octets(toDer(seq([keyBag]))))]);

  const authSafe = toDer(seq([certInfo, keyInfo]));
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf(bmpPassword(opts.password), macSalt, 3, macIterations, 32, 'sha256');
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  return toDer(
    seq([
      int(3),
      seq([oid(OID.data), explicit(0, octets(authSafe))]),
      seq([seq([seq([oid(SHA256), nul()]), octets(mac)]), octets(macSalt), int(macIterations)]),
    ]),
  );
}
