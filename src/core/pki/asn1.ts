// Small DER helpers over node-forge's ASN.1 codec, with Buffers at the edges.

import forge, { type ByteStringBuffer, type Asn1 as ForgeAsn1 } from './forge-lite.ts';

export const { asn1 } = forge;
export type Asn1 = ForgeAsn1;

const U = asn1.Class.UNIVERSAL;
const T = asn1.Type;

/** Parses DER strictly; BIT STRINGs stay bytes (forge would otherwise try to parse them as ASN.1). */
export function fromDer(der: Buffer): Asn1 {
  // @types/node-forge knows only the old boolean `strict` argument; forge takes options.
  const parse = asn1.fromDer as unknown as (bytes: ByteStringBuffer, options: object) => Asn1;
  return parse(forge.util.createBuffer(der.toString('binary')), {
    decodeBitStrings: false,
    parseAllBytes: true,
    strict: true,
  });
}

export function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export const bin = (b: Buffer) => b.toString('binary');
export const buf = (s: string) => Buffer.from(s, 'binary');

export const seq = (items: Array<Asn1 | undefined>) =>
  asn1.create(
    U,
    T.SEQUENCE,
    true,
    items.filter((x): x is Asn1 => x !== undefined),
  );
export const set = (items: Asn1[]) => asn1.create(U, T.SET, true, items);
export const oid = (o: string) => asn1.create(U, T.OID, false, asn1.oidToDer(o).getBytes());
export const octets = (b: Buffer) => asn1.create(U, T.OCTETSTRING, false, bin(b));
export const nul = () => asn1.create(U, T.NULL, false, '');
export const int = (n: number) => asn1.create(U, T.INTEGER, false, asn1.integerToDer(n).getBytes());
/** BMPString: forge writes each UTF-16 code unit itself (and reads it back into a string). */
export const bmp = (s: string) => asn1.create(U, T.BMPSTRING, false, s);
/** [n] EXPLICIT (constructed) wrapper. */
export const explicit = (n: number, inner: Asn1) =>
  asn1.create(asn1.Class.CONTEXT_SPECIFIC, n, true, [inner]);
/** [n] IMPLICIT primitive. */
export const implicitBytes = (n: number, b: Buffer) =>
  asn1.create(asn1.Class.CONTEXT_SPECIFIC, n, false, bin(b));

export function oidOf(node: Asn1 | undefined): string | undefined {
  if (!node || node.tagClass !== U || node.type !== T.OID) return undefined;
  return asn1.derToOid(forge.util.createBuffer(node.value as string));
}

export function children(node: Asn1 | undefined): Asn1[] {
  return Array.isArray(node?.value) ? (node.value as Asn1[]) : [];
}

export function bytesOf(node: Asn1 | undefined): Buffer {
  if (!node) return Buffer.alloc(0);
  if (typeof node.value === 'string') return buf(node.value);
  // A constructed OCTET STRING (BER) or a context wrapper: concatenate the parts.
  return Buffer.concat(children(node).map(bytesOf));
}

export function intOf(node: Asn1 | undefined): number | undefined {
  if (!node || node.type !== T.INTEGER || typeof node.value !== 'string') return undefined;
  const b = buf(node.value);
  if (b.length > 6) return undefined;
  return b.length === 0 ? 0 : b.readIntBE(0, b.length);
}

export function isType(node: Asn1 | undefined, type: number, tagClass: unknown = U): boolean {
  return !!node && node.tagClass === tagClass && node.type === type;
}

/** A UTCTime or GeneralizedTime; undefined when absent or not a valid date. */
export function timeOf(node: Asn1 | undefined): Date | undefined {
  if (!node || typeof node.value !== 'string') return undefined;
  let d: Date | undefined;
  try {
    if (node.type === T.UTCTIME) d = asn1.utcTimeToDate(node.value);
    else if (node.type === T.GENERALIZEDTIME) d = asn1.generalizedTimeToDate(node.value);
  } catch {
    return undefined;
  }
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

export { forge, T as Type, U as UNIVERSAL };
