import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { certificateNames } from '../../src/core/pki/der.ts';
import { formatDn, parseDn } from '../../src/core/pki/dn.ts';
import { makeCa } from '../helpers/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-dn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function subjectOf(pem: string): string {
  return certificateNames(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).subject;
}

describe('RFC 4514 distinguished names', () => {
  it('round-trips most-specific-first with escapes', () => {
    for (const s of [
      'CN=kong',
      'CN=kong,O=Example,C=US',
      'CN=a\\,b,OU=x\\+y+O=z',
      'CN=\\#hash',
      'CN=\\ lead',
      'CN=a=b,O=x',
    ]) {
      assert.equal(formatDn(parseDn(s)), s);
    }
  });

  it('encodes DER least specific first', () => {
    const dn = parseDn('CN=kong,O=Example,C=US');
    assert.deepEqual(
      dn.map((r) => r[0].oid),
      ['2.5.4.6', '2.5.4.10', '2.5.4.3'],
    );
  });

  it('rejects malformed subjects with a usage error', () => {
    for (const bad of ['', 'kong', 'XX=1', 'CN=', 'C=USA', 'CN=a\\']) {
      assert.throws(
        () => parseDn(bad),
        (e: { kind?: string; code?: string }) => e.kind === 'usage',
      );
    }
  });

  it('matches `openssl x509 -nameopt RFC2253` for certificates it builds', async () => {
    const ca = await makeCa('CN=Corp CA,O=Example\\, Inc.,C=US');
    const leaf = await ca.issue({
      subject: 'CN=kong,OU=Gate=ways,O=Example\\, Inc.,L=S\\C3\\A3o Paulo,C=BR',
    });
    const file = join(dir, 'leaf.crt');
    writeFileSync(file, leaf.cert);
    const referee = execFileSync(
      'openssl',
      ['x509', '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253,-esc_msb'],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .replace(/^subject=/, '');
    assert.equal(subjectOf(leaf.cert), referee);
  });

  it('prints attributes outside RFC 4514 §3 as OID=#hex of their DER (§2.4)', async () => {
    const ca = await makeCa();
    const leaf = await ca.issue({ subject: 'emailAddress=ops@example.com,CN=kong' });
    const hex = Buffer.concat([Buffer.from([0x16, 15]), Buffer.from('ops@example.com')]).toString('hex');
    assert.equal(subjectOf(leaf.cert), `1.2.840.113549.1.9.1=#${hex},CN=kong`);
  });
});
