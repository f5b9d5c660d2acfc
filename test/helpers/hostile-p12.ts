// PKCS#12 files built to cost (docs/security.md "Work bounded by the attacker"): a MAC or an
// encryption whose iteration count is written as any INTEGER, 2^40 included. Made structurally
// (RFC 7292: PFX, AuthenticatedSafe, EncryptedData with PBES2, MacData) with the project's ASN.1
// helpers; making one with openssl -iter 2^40 would itself run for ever.
import { randomBytes } from 'node:crypto';
import { asn1, bin, explicit, implicitBytes, nul, octets, oid, seq, toDer } from '../../src/core/pki/asn1.ts';

/** An INTEGER of any size, from its big-endian bytes (forge's own encoder stops at 32 bits). */
export function bigInteger(hex: string) {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, bin(Buffer.from(hex, 'hex')));
}

/** 2^40 as an INTEGER: a count any derivation would spend days on. */
export const TWO_TO_THE_40 = '010000000000';

export function hostileP12(o: { macIterations?: string; encryptionIterations?: string }): Buffer {
  const encrypted = seq([
    oid('1.2.840.113549.1.7.6'), // encryptedData
    explicit(
      0,
      seq([
        bigInteger('00'),
        seq([
          oid('1.2.840.113549.1.7.1'), // data
          seq([
            oid('1.2.840.113549.1.5.13'), // PBES2
            seq([
              seq([
                oid('1.2.840.113549.1.5.12'), // PBKDF2
                seq([
                  octets(randomBytes(16)),
                  bigInteger(o.encryptionIterations ?? '0800'),
                  seq([oid('1.2.840.113549.2.9'), nul()]), // HMAC-SHA256
                ]),
              ]),
              seq([oid('2.16.840.1.101.3.4.1.42'), octets(randomBytes(16))]), // AES-256-CBC
            ]),
          ]),
          implicitBytes(0, randomBytes(48)),
        ]),
      ]),
    ),
  ]);
  const authSafe = toDer(seq([encrypted]));
  const mac =
    o.macIterations === undefined
      ? undefined
      : seq([
          seq([seq([oid('2.16.840.1.101.3.4.2.1'), nul()]), octets(randomBytes(32))]), // SHA-256
          octets(randomBytes(8)),
          bigInteger(o.macIterations),
        ]);
  return toDer(
    seq([bigInteger('03'), seq([oid('1.2.840.113549.1.7.1'), explicit(0, octets(authSafe))]), mac]),
  );
}
