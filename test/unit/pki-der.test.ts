// The one DER reader (src/core/pki/der.ts, no forge) prints names exactly as forge's reading does.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import forge from 'node-forge';
import {
  certificateNames,
  certificateParts,
  children,
  dnFromDer,
  nameOf,
  oidOf,
  readDer,
  timeOf,
} from '../../src/core/pki/der.ts';
import { type Dn, dnToAsn1 } from '../../src/core/pki/dn.ts';
import { dnViaForge } from '../helpers/forge-dn.ts';
import { makeCa } from '../helpers/pki.ts';

const toDer = (dn: Dn) => Buffer.from(forge.asn1.toDer(dnToAsn1(dn)).getBytes(), 'binary');
const viaForge = dnViaForge;

const OIDS = [
  '2.5.4.3', // CN
  '2.5.4.10', // O
  '2.5.4.11', // OU
  '2.5.4.6', // C (PrintableString)
  '2.5.4.7',
  '2.5.4.8',
  '2.5.4.9',
  '0.9.2342.19200300.100.1.25', // DC (IA5String)
  '0.9.2342.19200300.100.1.1',
  '1.2.840.113549.1.9.1', // emailAddress: OID=#hex
  '2.5.4.5', // serialNumber: OID=#hex
  '1.3.6.1.4.1.99999.1.2', // unknown
];
const value = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.constantFrom(' lead', 'trail ', '#hash', 'a,b+c', 'x"y\\z<>;=', 'tab\there', 'é ü 中文', '😀'),
);
const attribute = fc.record({ oid: fc.constantFrom(...OIDS), value });
const dnArb = fc.array(fc.array(attribute, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 });

describe('dnFromDer (no forge) against dn.ts (forge)', () => {
  it('prints the same RFC 4514 string for generated names', () => {
    fc.assert(
      fc.property(dnArb, (dn) => {
        const der = toDer(dn);
        assert.equal(dnFromDer(der), viaForge(der));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes BMPString values (UTF-16BE)', () => {
    const bmp = Buffer.from('Jürgen', 'utf16le').swap16();
    const tlv = (tag: number, content: Buffer) =>
      Buffer.concat([Buffer.from([tag, content.length]), content]);
    const der = tlv(
      0x30,
      tlv(0x31, tlv(0x30, Buffer.concat([tlv(0x06, Buffer.from([0x55, 4, 3])), tlv(0x1e, bmp)]))),
    );
    assert.equal(dnFromDer(der), 'CN=Jürgen');
    assert.equal(dnFromDer(der), viaForge(der));
  });

  it('certificate subject and issuer, with escapes', async () => {
    const ca = await makeCa('CN=Corp CA\\, Root,O=Example+OU=Platform,C=US');
    const leaf = await ca.issue({ subject: 'CN=\\#kong,O=Example\\, Inc.' });
    assert.deepEqual(certificateNames(leaf.x509.raw), {
      subject: 'CN=\\#kong,O=Example\\, Inc.',
      issuer: 'CN=Corp CA\\, Root,O=Example+OU=Platform,C=US',
    });
  });

  it('malformed input gives #hex, never an exception', () => {
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from([0x30]),
      Buffer.from([0x30, 0x05, 0x31]),
      Buffer.from([0x04, 0x00]),
    ]) {
      assert.equal(dnFromDer(bad), `#${bad.toString('hex')}`);
    }
  });
});

describe('certificateParts and the field readers', () => {
  const tlv = (tag: number, text: string) =>
    readDer(Buffer.concat([Buffer.from([tag, text.length]), Buffer.from(text)]));

  it('a certificate: version, names, validity and extensions, as Node reads them', async () => {
    const ca = await makeCa('CN=Parts CA');
    const leaf = await ca.issue({ subject: 'CN=parts' });
    const c = certificateParts(leaf.x509.raw);
    assert.equal(c.version, 3);
    assert.equal(nameOf(c.subject), 'CN=parts');
    assert.equal(nameOf(c.issuer), 'CN=Parts CA');
    const [notBefore, notAfter] = children(c.validity).map(timeOf);
    assert.equal(notBefore?.getTime(), new Date(leaf.x509.validFrom).getTime());
    assert.equal(notAfter?.getTime(), new Date(leaf.x509.validTo).getTime());
    assert.ok(c.extensions.map((e) => oidOf(children(e)[0])).includes('2.5.29.19'), 'basicConstraints');
  });

  it('times: UTCTime before and after 2050, GeneralizedTime, anything else undefined', () => {
    assert.equal(timeOf(tlv(0x17, '491231235959Z'))?.toISOString(), '2049-12-31T23:59:59.000Z');
    assert.equal(timeOf(tlv(0x17, '500101000000Z'))?.toISOString(), '1950-01-01T00:00:00.000Z');
    assert.equal(timeOf(tlv(0x18, '20500101000000Z'))?.toISOString(), '2050-01-01T00:00:00.000Z');
    assert.equal(timeOf(tlv(0x17, '500101000000+0100')), undefined);
    assert.equal(timeOf(tlv(0x04, '500101000000Z')), undefined);
  });

  it('a malformed certificate throws', () => {
    assert.throws(() => certificateParts(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])));
    assert.throws(() => certificateParts(Buffer.from([0x30, 0x00, 0x00])), /trailing/);
  });
});
