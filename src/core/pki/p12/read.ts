// Reading PKCS#12 files (RFC 7292): the MAC checked, the encrypted parts decrypted (decrypt.ts),
// the key and its certificate paired, within the limits on the work a file may ask for.

import {
  createHash,
  createHmac,
  createPrivateKey,
  type KeyObject,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import { usageError } from '../../errors.ts';
import { fileLimitError, iterationBudget, MAX_P12_BAGS } from '../../limits.ts';
import { type Asn1, bytesOf, children, fromDer, intOf, oidOf, toDer } from '../asn1.ts';
import { DIGEST, OID } from './algorithms.ts';
import { decrypt, describeAlg, iterationsOf, type Secret, type Spend, WrongPassword } from './decrypt.ts';
import { bmpPassword, pkcs12Kdf } from './kdf.ts';

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
