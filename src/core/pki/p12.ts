// PKCS#12 (RFC 7292) for any key type: a client certificate, its chain and its private key in one
// password-protected file, as Windows, Java, browsers, curl and Node's `pfx` option take it.
//
// node-forge's own PKCS#12 writer knows only RSA keys and certificates and always MACs with SHA-1,
// so the structure is written here with forge's ASN.1 codec and Node's crypto does the crypto:
// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key and the certificates, and an HMAC-SHA-256
// MAC over the contents — what `openssl pkcs12 -export` writes by default since OpenSSL 3.
// The reader also takes the older forms (3DES, RC2, SHA-1 MACs) that other tools still write.

import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  type KeyObject,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
// RC2 (legacy PKCS#12 files) is not in OpenSSL 3's default provider; forge has it in JavaScript.
import 'node-forge/lib/rc2.js';
import { usageError } from '../errors.ts';
import { fileLimitError, iterationBudget, MAX_P12_BAGS } from '../limits.ts';
import {
  type Asn1,
  bmp,
  bytesOf,
  children,
  explicit,
  forge,
  fromDer,
  implicitBytes,
  int,
  intOf,
  nul,
  octets,
  oid,
  oidOf,
  seq,
  set,
  toDer,
} from './asn1.ts';
import type { ByteStringBuffer } from './forge-lite.ts';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
  pbeSha1And3DES: '1.2.840.113549.1.12.1.3',
  pbeSha1And2DES: '1.2.840.113549.1.12.1.4',
  pbeSha1AndRC2_128: '1.2.840.113549.1.12.1.5',
  pbeSha1AndRC2_40: '1.2.840.113549.1.12.1.6',
} as const;

/** hmacWith* PRF OIDs (PBKDF2) → Node digest names. */
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
/** Digest OIDs (MAC) → Node digest names. */
const DIGEST: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
/** PBES2 encryption schemes → Node cipher and key length. */
const CIPHER: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};

const AES256_CBC = '2.16.840.1.101.3.4.1.42';
const HMAC_SHA256 = '1.2.840.113549.2.9';
const SHA256 = '2.16.840.1.101.3.4.2.1';

// ---------------------------------------------------------------------------------------------
// Key derivation

/** The password as PKCS#12 wants it for its own KDF: BMPString (UTF-16BE) with a 00 00 terminator. */
function bmpPassword(password: string): Buffer {
  if (password === '') return Buffer.alloc(0);
  const out = Buffer.alloc((password.length + 1) * 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 Appendix B.2: id 1 = key, 2 = IV, 3 = MAC key. */
export function pkcs12Kdf(
  password: Buffer,
  salt: Buffer,
  id: 1 | 2 | 3,
  iterations: number,
  n: number,
  hash: string,
): Buffer {
  const u = createHash(hash).digest().length;
  const v = hash === 'sha384' || hash === 'sha512' ? 128 : 64;
  const fill = (src: Buffer) => {
    if (src.length === 0) return Buffer.alloc(0);
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length];
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]);
  const blocks: Buffer[] = [];
  for (let got = 0; got < n; got += u) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    blocks.push(A);
    if (got + u >= n) break;
    const B = Buffer.alloc(v);
    for (let i = 0; i < v; i++) B[i] = A[i % u];
    // I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I.
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const x = I[j + k] + B[k] + carry;
        I[j + k] = x & 0xff;
        carry = x >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, n);
}

// ---------------------------------------------------------------------------------------------
// Writing

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

// ---------------------------------------------------------------------------------------------
// Reading

export interface P12Contents {
  /** The private key, if the file has one. */
  key?: KeyObject;
  /** Every certificate, the one paired with the key first. */
  certificates: X509Certificate[];
  friendlyName?: string;
  /** "HMAC-SHA256, 2048 iterations" or "none". */
  mac: string;
  /** The encryption schemes used, e.g. ["PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC"]. */
  encryption: string[];
}

/** Whether DER bytes look like a PKCS#12 PFX (SEQUENCE { INTEGER 3, ContentInfo, ... }). */
export function looksLikeP12(der: Buffer): boolean {
  try {
    const parts = children(fromDer(der));
    return intOf(parts[0]) === 3 && oidOf(children(parts[1])[0]) === OID.data;
  } catch {
    return false;
  }
}

class WrongPassword extends Error {}

/** An iteration count as written; one too large for a JavaScript integer is infinite (and over any limit). */
function iterationsOf(node: Asn1 | undefined): number {
  const n = intOf(node);
  if (n !== undefined) return Math.max(1, n);
  return node && typeof node.value === 'string' && node.value.length > 6 ? Number.POSITIVE_INFINITY : 1;
}

type Spend = (iterations: number, what: string) => void;

interface Secret {
  /** UTF-8 bytes, for PBES2. */
  utf8: Buffer;
  /** BMPString bytes, for the PKCS#12 KDF. */
  bmp: Buffer;
}

function describeAlg(algorithm: Asn1): string {
  const id = oidOf(children(algorithm)[0]);
  if (id === OID.pbes2) {
    const [kdf, scheme] = children(children(algorithm)[1]);
    const prfNode = children(children(kdf)[1]).find((n) => Array.isArray(n.value));
    const prf = PRF[oidOf(children(prfNode)[0]) ?? '1.2.840.113549.2.7'] ?? '?';
    const cipher = CIPHER[oidOf(children(scheme)[0]) ?? '']?.name ?? oidOf(children(scheme)[0]);
    return `PBES2 PBKDF2-HMAC-${prf.toUpperCase()} ${String(cipher).toUpperCase()}`;
  }
  return (
    {
      [OID.pbeSha1And3DES]: 'PBE-SHA1-3DES',
      [OID.pbeSha1And2DES]: 'PBE-SHA1-2DES',
      [OID.pbeSha1AndRC2_128]: 'PBE-SHA1-RC2-128',
      [OID.pbeSha1AndRC2_40]: 'PBE-SHA1-RC2-40',
    }[id ?? ''] ?? `unknown (${id})`
  );
}

function decrypt(algorithm: Asn1, data: Buffer, secret: Secret, source: string, spend: Spend): Buffer {
  const [idNode, params] = children(algorithm);
  const id = oidOf(idNode);
  const unsupported = () =>
    usageError(
      'P12_UNSUPPORTED',
      `${source} is encrypted with ${describeAlg(algorithm)}, which is not supported`,
      {
        hint: 'export it again with AES: openssl pkcs12 -export (OpenSSL 3 defaults)',
      },
    );
  try {
    if (id === OID.pbes2) {
      const [kdf, scheme] = children(params);
      if (oidOf(children(kdf)[0]) !== OID.pbkdf2) throw unsupported();
      const kdfParams = children(children(kdf)[1]);
      const salt = bytesOf(kdfParams[0]);
      const iterations = iterationsOf(kdfParams[1]);
      const prfNode = kdfParams.slice(2).find((n) => Array.isArray(n.value));
      const prf = PRF[oidOf(children(prfNode)[0]) ?? '1.2.840.113549.2.7'];
      const cipher = CIPHER[oidOf(children(scheme)[0]) ?? ''];
      if (!prf || !cipher) throw unsupported();
      const iv = bytesOf(children(scheme)[1]);
      spend(iterations, `encryption (${describeAlg(algorithm)})`);
      const key = pbkdf2Sync(secret.utf8, salt, iterations, cipher.keyLength, prf);
      const d = createDecipheriv(cipher.name, key, iv);
      return Buffer.concat([d.update(data), d.final()]);
    }
    const p = children(params);
    const salt = bytesOf(p[0]);
    const iterations = iterationsOf(p[1]);
    if (id !== OID.pbes2) {
      // A key and an IV: two derivations.
      spend(iterations, `encryption (${describeAlg(algorithm)})`);
      spend(iterations, `encryption (${describeAlg(algorithm)})`);
    }
    if (id === OID.pbeSha1And3DES || id === OID.pbeSha1And2DES) {
      let key = pkcs12Kdf(secret.bmp, salt, 1, iterations, id === OID.pbeSha1And3DES ? 24 : 16, 'sha1');
      if (key.length === 16) key = Buffer.concat([key, key.subarray(0, 8)]);
      const iv = pkcs12Kdf(secret.bmp, salt, 2, iterations, 8, 'sha1');
      const d = createDecipheriv('des-ede3-cbc', key, iv);
      return Buffer.concat([d.update(data), d.final()]);
    }
    if (id === OID.pbeSha1AndRC2_40 || id === OID.pbeSha1AndRC2_128) {
      // RC2 lives only in OpenSSL's legacy provider; forge has it in JavaScript.
      const bits = id === OID.pbeSha1AndRC2_40 ? 40 : 128;
      const key = pkcs12Kdf(secret.bmp, salt, 1, iterations, bits / 8, 'sha1');
      const iv = pkcs12Kdf(secret.bmp, salt, 2, iterations, 8, 'sha1');
      const rc2 = (forge as unknown as { rc2: RC2 }).rc2;
      if (!rc2) throw unsupported();
      const c = rc2.createDecryptionCipher(key.toString('binary'), bits);
      c.start(iv.toString('binary'));
      c.update(forge.util.createBuffer(data.toString('binary')));
      if (!c.finish()) throw new WrongPassword();
      return Buffer.from(c.output.getBytes(), 'binary');
    }
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? (e as { code?: string }).code : undefined;
    if (code === 'P12_UNSUPPORTED' || code === 'FILE_LIMIT') throw e;
    throw new WrongPassword();
  }
  throw unsupported();
}

interface RC2 {
  createDecryptionCipher(
    key: string,
    bits: number,
  ): {
    start(iv: string): void;
    update(b: ByteStringBuffer): void;
    finish(): boolean;
    output: ByteStringBuffer;
  };
}

function verifyMac(pfx: Asn1[], authSafe: Buffer, password: string, spend: Spend): Secret | undefined {
  const macData = pfx[2];
  const candidates: Secret[] =
    password === ''
      ? // An empty password is either no bytes or a lone terminator, depending on the writer.
        [
          { utf8: Buffer.alloc(0), bmp: Buffer.alloc(0) },
          { utf8: Buffer.alloc(0), bmp: Buffer.alloc(2) },
        ]
      : [{ utf8: Buffer.from(password, 'utf8'), bmp: bmpPassword(password) }];
  if (!macData) return candidates[0];
  const [digestInfo, saltNode, iterNode] = children(macData);
  const [algId, digestNode] = children(digestInfo);
  const algOid = oidOf(children(algId)[0]) ?? '';
  if (algOid === OID.pbmac1) {
    throw usageError(
      'P12_UNSUPPORTED',
      'the PKCS#12 file uses a PBMAC1 integrity check, which is not supported',
      {
        hint: 'export it again with: openssl pkcs12 -export -macalg sha256',
      },
    );
  }
  const hash = DIGEST[algOid];
  if (!hash) {
    throw usageError('P12_UNSUPPORTED', `the PKCS#12 file uses an unknown MAC algorithm (${algOid})`, {
      hint: 'export it again with: openssl pkcs12 -export -macalg sha256',
    });
  }
  const expected = bytesOf(digestNode);
  const salt = bytesOf(saltNode);
  const iterations = iterationsOf(iterNode);
  for (const c of candidates) {
    spend(iterations, 'MAC');
    const key = pkcs12Kdf(c.bmp, salt, 3, iterations, createHash(hash).digest().length, hash);
    const mac = createHmac(hash, key).update(authSafe).digest();
    if (mac.length === expected.length && timingSafeEqual(mac, expected)) return c;
  }
  return undefined;
}

function macDescription(pfx: Asn1[]): string {
  const macData = pfx[2];
  if (!macData) return 'none';
  const [digestInfo, , iterNode] = children(macData);
  const hash = DIGEST[oidOf(children(children(digestInfo)[0])[0]) ?? ''] ?? '?';
  return `HMAC-${hash.toUpperCase()}, ${iterationsOf(iterNode)} iterations`;
}

function attribute(bag: Asn1[], attrOid: string): Asn1 | undefined {
  for (const a of children(bag[2])) {
    const [id, values] = children(a);
    if (oidOf(id) === attrOid) return children(values)[0];
  }
  return undefined;
}

function bmpText(node: Asn1 | undefined): string | undefined {
  // forge decodes a BMPString into a JavaScript string.
  return node && typeof node.value === 'string' ? node.value : undefined;
}

/**
 * Opens a PKCS#12 file. With `password` undefined, tries the empty password and throws
 * P12_PASSWORD_REQUIRED if that is not it; a wrong password is P12_PASSWORD.
 */
export function readP12(der: Buffer, password: string | undefined, source: string): P12Contents {
  const notP12 = () =>
    usageError('BAD_P12', `${source} is not a valid PKCS#12 file`, {
      hint: 'the file may be truncated or corrupt; export it again',
    });
  let pfx: Asn1[];
  let authSafe: Buffer;
  try {
    pfx = children(fromDer(der));
    if (intOf(pfx[0]) !== 3) throw notP12();
    const [ctype, content] = children(pfx[1]);
    if (oidOf(ctype) !== OID.data) throw notP12();
    authSafe = bytesOf(children(content)[0]);
  } catch {
    throw notP12();
  }
  // Every derivation is paid for from one budget, checked before it runs (limits.ts).
  const spend = iterationBudget(source);
  const secret = verifyMac(pfx, authSafe, password ?? '', spend);
  if (!secret) {
    if (password === undefined || password === '') {
      throw usageError(
        'P12_PASSWORD_REQUIRED',
        `${source} is protected by a password, and no password was given`,
        {
          hint: 'give the password through an environment variable (--password-env VAR), or run in a terminal to be asked',
        },
      );
    }
    throw usageError('P12_PASSWORD', `wrong password for ${source} (the integrity check failed)`, {
      hint: 'check the password (it is case-sensitive)',
    });
  }
  const out: P12Contents = { certificates: [], mac: macDescription(pfx), encryption: [] };
  const keys: Array<{ key: KeyObject; id?: Buffer }> = [];
  const certs: Array<{ cert: X509Certificate; id?: Buffer; name?: string }> = [];

  let bags = 0;
  let decrypted = false;
  const readBags = (safeContents: Buffer, depth = 0) => {
    for (const bagNode of children(fromDer(safeContents))) {
      if (++bags > MAX_P12_BAGS) throw fileLimitError(source, 'the number of bags', undefined, MAX_P12_BAGS);
      const bag = children(bagNode);
      const type = oidOf(bag[0]);
      const value = children(bag[1])[0];
      const id = attribute(bag, OID.localKeyId);
      const localKeyId = id ? bytesOf(id) : undefined;
      const name = bmpText(attribute(bag, OID.friendlyName));
      if (type === OID.certBag) {
        const [certType, certValue] = children(value);
        if (oidOf(certType) !== OID.x509Certificate) continue;
        certs.push({ cert: new X509Certificate(bytesOf(children(certValue)[0])), id: localKeyId, name });
      } else if (type === OID.keyBag) {
        keys.push({
          key: createPrivateKey({ key: toDer(value), format: 'der', type: 'pkcs8' }),
          id: localKeyId,
        });
        if (name) out.friendlyName ??= name;
      } else if (type === OID.shroudedKeyBag) {
        const [alg, enc] = children(value);
        out.encryption.push(describeAlg(alg));
        const plain = decrypt(alg, bytesOf(enc), secret, source, spend);
        decrypted = true;
        keys.push({ key: createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' }), id: localKeyId });
        if (name) out.friendlyName ??= name;
      } else if (type === OID.safeContentsBag && depth < 4) {
        readBags(toDer(value), depth + 1);
      }
    }
  };

  try {
    for (const ci of children(fromDer(authSafe))) {
      const [ctype, content] = children(ci);
      const t = oidOf(ctype);
      if (t === OID.data) {
        readBags(bytesOf(children(content)[0]));
      } else if (t === OID.encryptedData) {
        const [, eci] = children(children(content)[0]);
        const [, alg, encNode] = children(eci);
        out.encryption.push(describeAlg(alg));
        const plain = decrypt(alg, bytesOf(encNode), secret, source, spend);
        decrypted = true;
        readBags(plain);
      }
    }
  } catch (e) {
    // Without a MAC, a wrong password can decrypt to garbage with valid padding (1 in 256 for
    // CBC): what then fails to parse is the password's fault, not the file's.
    const garbage = !pfx[2] && decrypted && !(e instanceof Error && 'kind' in e);
    if (e instanceof WrongPassword || garbage) {
      throw usageError('P12_PASSWORD', `wrong password for ${source} (decryption failed)`, {
        hint: 'check the password (it is case-sensitive)',
      });
    }
    if (e instanceof Error && 'kind' in e) throw e;
    throw notP12();
  }
  out.encryption = [...new Set(out.encryption)];
  out.key = keys[0]?.key;
  // The certificate paired with the key first: by localKeyId, else by public key.
  const keyId = keys[0]?.id;
  const paired = (c: { cert: X509Certificate; id?: Buffer }) => {
    if (keyId && c.id?.equals(keyId)) return true;
    try {
      return out.key !== undefined && c.cert.checkPrivateKey(out.key);
    } catch {
      return false;
    }
  };
  const pairedIndex = certs.findIndex(paired);
  if (pairedIndex > 0) certs.unshift(...certs.splice(pairedIndex, 1));
  out.certificates = certs.map((c) => c.cert);
  out.friendlyName ??= certs[0]?.name;
  return out;
}
