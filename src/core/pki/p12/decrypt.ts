// Decrypting the encrypted parts of a PKCS#12 file: PBES2 (PBKDF2 with AES or 3DES), and the
// older PKCS#12 PBE schemes (3DES, 2DES, RC2) that other tools still write. Each derivation is
// paid for from the file's iteration budget (limits.ts) before it runs.

// RC2 (legacy PKCS#12 files) is not in OpenSSL 3's default provider; forge has it in JavaScript.
import 'node-forge/lib/rc2.js';
import { createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { usageError } from '../../errors.ts';
import { type Asn1, bytesOf, children, forge, intOf, oidOf } from '../asn1.ts';
import type { ByteStringBuffer } from '../forge-lite.ts';
import { CIPHER, OID, PRF } from './algorithms.ts';
import { pkcs12Kdf } from './kdf.ts';

export class WrongPassword extends Error {}

/** An iteration count as written; one too large for a JavaScript integer is infinite (and over any limit). */
export function iterationsOf(node: Asn1 | undefined): number {
  const n = intOf(node);
  if (n !== undefined) return Math.max(1, n);
  return node && typeof node.value === 'string' && node.value.length > 6 ? Number.POSITIVE_INFINITY : 1;
}

export type Spend = (iterations: number, what: string) => void;

export interface Secret {
  /** UTF-8 bytes, for PBES2. */
  utf8: Buffer;
  /** BMPString bytes, for the PKCS#12 KDF. */
  bmp: Buffer;
}

export function describeAlg(algorithm: Asn1): string {
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

export function decrypt(algorithm: Asn1, data: Buffer, secret: Secret, source: string, spend: Spend): Buffer {
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
