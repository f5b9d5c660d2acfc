// Certificates for tests, made in-process with the project's own PKI code (fast: EC P-256 by default).

import { X509Certificate } from 'node:crypto';
import { buildCertificate, derToPem } from '../../src/core/pki/certificate.ts';
import { parseDn } from '../../src/core/pki/dn.ts';
import { generateKey, type KeyPair, type KeyType, privateKeyPem } from '../../src/core/pki/keys.ts';
import { parseSans } from '../../src/core/pki/san.ts';

export interface Issued {
  cert: string;
  key: string;
  keyPair: KeyPair;
  x509: X509Certificate;
}

export interface TestCa extends Issued {
  subject: string;
  issue(opts: {
    subject: string;
    profile?: 'client' | 'server';
    sans?: string;
    keyType?: KeyType;
    notBefore?: Date;
    notAfter?: Date;
  }): Promise<Issued>;
}

const DAY = 86_400_000;

export async function makeCa(
  subject = 'CN=Test CA,O=mtls-oauth tests',
  keyType: KeyType = 'ec-p256',
): Promise<TestCa> {
  const keyPair = await generateKey(keyType);
  const dn = parseDn(subject);
  const der = buildCertificate({
    profile: 'ca',
    subject: dn,
    issuer: dn,
    publicKey: keyPair.publicKey,
    signingKey: keyPair.privateKey,
    issuerPublicKey: keyPair.publicKey,
    notAfter: new Date(Date.now() + 30 * DAY),
  });
  const ca: TestCa = {
    subject,
    cert: derToPem(der),
    key: privateKeyPem(keyPair.privateKey),
    keyPair,
    x509: new X509Certificate(der),
    async issue(o) {
      const kp = await generateKey(o.keyType ?? keyType);
      const cder = buildCertificate({
        profile: o.profile ?? 'client',
        subject: parseDn(o.subject),
        issuer: dn,
        publicKey: kp.publicKey,
        signingKey: keyPair.privateKey,
        issuerPublicKey: keyPair.publicKey,
        sans: parseSans(o.sans),
        notBefore: o.notBefore,
        notAfter: o.notAfter ?? new Date(Date.now() + 30 * DAY),
      });
      return {
        cert: derToPem(cder),
        key: privateKeyPem(kp.privateKey),
        keyPair: kp,
        x509: new X509Certificate(cder),
      };
    },
  };
  return ca;
}

/** A CA with a localhost server certificate (DNS localhost, IP 127.0.0.1 and ::1) and a `CN=kong` client. */
export async function makeTestPki(keyType: KeyType = 'ec-p256') {
  const ca = await makeCa('CN=Test CA,O=mtls-oauth tests', keyType);
  const server = await ca.issue({
    subject: 'CN=localhost',
    profile: 'server',
    sans: 'dns:localhost,ip:127.0.0.1,ip:::1',
  });
  const client = await ca.issue({ subject: 'CN=kong' });
  return { ca, server, client };
}
