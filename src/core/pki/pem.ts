// Reading what users hand us: PEM (one block or many), DER, and private keys (plain or encrypted),
// with one clear usage error for each way the input can be wrong.

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { errnoCode, usageError } from '../errors.ts';
import { fileLimitError, MAX_PEM_BLOCKS } from '../limits.ts';

export interface PemBlock {
  label: string;
  /** RFC 1421 headers of legacy encrypted keys (Proc-Type, DEK-Info). */
  headers: Record<string, string>;
  der: Buffer;
  /** The block's text, BEGIN to END line. */
  text: string;
}

const BEGIN = /-----BEGIN ([A-Z0-9 #]+)-----/g;
const PRIVATE_KEY_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];

export function looksLikePem(data: Buffer | string): boolean {
  const head = typeof data === 'string' ? data : data.subarray(0, 64 * 1024).toString('latin1');
  return head.includes('-----BEGIN ');
}

/** Every PEM block in the text; a block without its END line or with bad base64 is an error. */
export function parsePem(text: string, source: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BEGIN)) {
    if (blocks.length >= MAX_PEM_BLOCKS)
      throw fileLimitError(source, 'the number of PEM blocks', undefined, MAX_PEM_BLOCKS);
    const label = m[1];
    const start = m.index ?? 0;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, start);
    const next = text.indexOf('-----BEGIN ', start + m[0].length);
    if (end < 0 || (next >= 0 && next < end)) {
      throw corrupt(source, `the ${label} block has no END line`);
    }
    const body = text.slice(start + m[0].length, end);
    const headers: Record<string, string> = {};
    const lines = body.split(/\r?\n/);
    const b64: string[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      const h = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (h && b64.length === 0) headers[h[1]] = h[2];
      else b64.push(line.trim());
    }
    const joined = b64.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(joined) || joined.length % 4 !== 0 || joined.length === 0) {
      throw corrupt(source, `the ${label} block is not valid base64`);
    }
    blocks.push({
      label,
      headers,
      der: Buffer.from(joined, 'base64'),
      text: text.slice(start, end + endMarker.length),
    });
  }
  return blocks;
}

function corrupt(source: string, why: string) {
  return usageError('CORRUPT_PEM', `${source} is not a valid PEM file: ${why}`, {
    hint: 'the file may be truncated or edited; export it again',
  });
}

export interface ReadCertificatesOptions {
  /** What the file should be, for the hint: "CA certificate". */
  what?: string;
  /** The hint when the file holds a private key instead (e.g. which flag takes a key). */
  ifKey?: string;
}

/** Certificates from PEM (all CERTIFICATE blocks) or a single DER certificate. */
export function readCertificates(
  data: Buffer,
  source: string,
  { what = 'certificate', ifKey }: ReadCertificatesOptions = {},
): X509Certificate[] {
  if (looksLikePem(data)) {
    const all = parsePem(data.toString('latin1'), source);
    const blocks = all.filter(
      (b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE',
    );
    if (blocks.length === 0) {
      const holdsKey = all.some((b) => PRIVATE_KEY_LABELS.includes(b.label));
      throw usageError(
        'NO_CERTIFICATE',
        `${source} holds no certificate${holdsKey ? ' (it holds a private key)' : ''}`,
        {
          hint: holdsKey && ifKey ? ifKey : `give the ${what} as PEM (-----BEGIN CERTIFICATE-----) or DER`,
        },
      );
    }
    return blocks.map((b, i) =>
      parseCertificateDer(b.der, blocks.length > 1 ? `${source} #${i + 1}` : source),
    );
  }
  return [parseCertificateDer(data, source)];
}

export function parseCertificateDer(der: Buffer, source: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw usageError('BAD_CERTIFICATE', `${source} is not a valid X.509 certificate`, {
      hint: 'the file may be corrupt, or hold something else (a key, a CSR, a PKCS#12 file)',
    });
  }
}

export function isEncryptedKey(data: Buffer | string): boolean {
  const text = typeof data === 'string' ? data : data.toString('latin1');
  if (text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,ENCRYPTED/.test(text))
    return true;
  return typeof data !== 'string' && !looksLikePem(data) && isEncryptedDer(data);
}

export interface LoadPrivateKeyOptions {
  /** Where the passphrase comes from, for the hints: "MTLS_OAUTH_KEY_PASSPHRASE". */
  passphraseFrom?: string;
  /** The hint when the file holds a certificate instead (e.g. which flag takes a certificate). */
  ifCertificate?: string;
}

/**
 * The one private-key reader: PEM (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1) or DER PKCS#8, for the
 * certs commands and the client identity alike. Errors: KEY_PASSPHRASE_REQUIRED (encrypted, none
 * given), KEY_PASSPHRASE (wrong one), CORRUPT_PEM, BAD_KEY.
 */
export function loadPrivateKey(
  data: Buffer,
  source: string,
  passphrase?: string,
  options: LoadPrivateKeyOptions = {},
): KeyObject {
  const from = options.passphraseFrom;
  const required = () =>
    usageError(
      'KEY_PASSPHRASE_REQUIRED',
      `the private key ${source} is encrypted and no passphrase was given`,
      {
        hint: from
          ? `set ${from}`
          : 'give the passphrase through the environment variable option, or run in a terminal to be asked',
      },
    );
  // Any failure of an encrypted key is the passphrase: OpenSSL says "bad decrypt" only when the
  // padding check catches it; in about 1 of 256 wrong tries the padding passes by chance and the
  // garbage fails to decode instead.
  const wrong = (e: unknown) =>
    usageError('KEY_PASSPHRASE', `wrong passphrase for the private key ${source}`, {
      hint: `check ${from ?? 'the passphrase'} (it is case-sensitive); \`openssl pkey -in ${source} -noout\` asks for it and tells you if it is right`,
      details: { cause: errnoCode(e) },
    });
  if (looksLikePem(data)) {
    const all = parsePem(data.toString('latin1'), source);
    const blocks = all.filter((b) => PRIVATE_KEY_LABELS.includes(b.label));
    if (blocks.length === 0) {
      const holdsCert = all.some((b) => b.label === 'CERTIFICATE');
      throw usageError(
        'BAD_KEY',
        `${source} holds no private key${holdsCert ? ' (it holds a certificate)' : ''}`,
        {
          hint:
            holdsCert && options.ifCertificate
              ? options.ifCertificate
              : 'give the key as PEM (-----BEGIN PRIVATE KEY-----, or an RSA / EC / ENCRYPTED PRIVATE KEY block)',
        },
      );
    }
    const block = blocks[0];
    const encrypted = isEncryptedKey(block.text);
    if (encrypted && passphrase === undefined) throw required();
    try {
      return createPrivateKey({
        key: block.text,
        format: 'pem',
        passphrase: encrypted ? passphrase : undefined,
      });
    } catch (e) {
      if (encrypted) throw wrong(e);
      throw usageError('BAD_KEY', `${source} holds a private key that cannot be read`, {
        hint: 'the file may be corrupt or use an unsupported key type: check it with `openssl pkey -in FILE -noout -text`',
      });
    }
  }
  const encrypted = isEncryptedDer(data);
  if (encrypted && passphrase === undefined) throw required();
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: data, format: 'der', type, passphrase });
    } catch (e) {
      if (type === 'pkcs8' && encrypted) throw wrong(e);
    }
  }
  throw usageError('BAD_KEY', `${source} does not hold a private key`, {
    hint: 'give the key as PEM (-----BEGIN PRIVATE KEY-----) or DER PKCS#8',
  });
}

// The PKCS#5 OID arc (1.2.840.113549.1.5: PBES1 and PBES2) in DER, found in an EncryptedPrivateKeyInfo's
// AlgorithmIdentifier right after the outer SEQUENCE headers.
const PKCS5_OID_PREFIX = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05]);

/** Whether DER bytes are an encrypted PKCS#8 key (EncryptedPrivateKeyInfo). */
export function isEncryptedDer(data: Buffer): boolean {
  const at = data.subarray(0, 16).indexOf(PKCS5_OID_PREFIX);
  return at >= 0;
}

/** Whether a private key belongs to a certificate (public keys compared as SPKI DER). */
export function keyMatchesCertificate(key: KeyObject, cert: X509Certificate): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}
