// Failures of the server's certificate: self-signed, expired, not for this host name, untrusted.

import { readFileSync } from 'node:fs';
import type { MtlsOAuthError } from '../errors.ts';
import { certificateNames } from '../pki/der.ts';
import { readCertificates } from '../pki/pem.ts';
import { VERIFY_MESSAGES } from '../transport/diagnostics.ts';
import { dateOnly, type Failure } from './failure.ts';

/** Codes Node uses for a server certificate that did not verify, grouped by what the user should do. */
const SELF_SIGNED = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * What the --ca file that did not work holds, by name: a wrong --ca must not read like no --ca.
 * The common mistake (certs init's ca.crt is the client CA) is said outright.
 */
function givenCaNote(file: string, clientIssuer: string | undefined): string {
  let subjects: string[] = [];
  try {
    subjects = readCertificates(readFileSync(file), file).map((x) => certificateNames(x.raw).subject);
  } catch {
    return `--ca ${file} did not sign it`;
  }
  const named = subjects.length ? ` (${subjects.join('; ')})` : '';
  if (clientIssuer && subjects.includes(clientIssuer)) {
    return `--ca ${file}${named} is the CA that issued your client certificate, not the one that issued the IdP's server certificate`;
  }
  return `--ca ${file}${named} did not sign it`;
}

/** The server's certificate did not verify (and --insecure is not in force). */
export function serverCertificateFailure(f: Failure): MtlsOAuthError | undefined {
  const { c, r, codes, net, w } = f;
  const verify =
    r?.verifyError ??
    [...codes].find((x) => SELF_SIGNED.has(x) || EXPIRED.has(x) || UNTRUSTED.has(x) || HOSTNAME.has(x));
  if (verify && !r?.insecure) {
    const leaf = r?.serverChain[0];
    const root = r?.serverChain[r.serverChain.length - 1];
    const insecureNote = ' (--insecure skips this check, for testing only)';
    const caHint = c.caFile
      ? `${givenCaNote(c.caFile, c.identity?.issuerDn)}${c.caMode === 'replace' ? ' (used instead of the system roots)' : ''}: pass the CA certificate of the IdP's server with --ca FILE`
      : 'pass the CA certificate that issued it with --ca FILE';
    if (SELF_SIGNED.has(verify)) {
      const which = verify === 'DEPTH_ZERO_SELF_SIGNED_CERT' ? leaf : root;
      return net(
        'TLS_SERVER_SELF_SIGNED',
        verify === 'DEPTH_ZERO_SELF_SIGNED_CERT'
          ? `${w}: the server's certificate${which ? ` (${which.subject})` : ''} is self-signed and not trusted`
          : `${w}: the server's certificate chain ends in a self-signed root${which ? ` (${which.subject})` : ''} that is not trusted`,
        `${c.caFile ? `${givenCaNote(c.caFile, c.identity?.issuerDn)}; ` : ''}if you trust it, pass that certificate${which ? ` (SHA-256 ${which.sha256})` : ''} with --ca FILE${insecureNote}`,
        { verifyError: verify },
      );
    }
    if (EXPIRED.has(verify)) {
      const now = new Date().toISOString();
      const bad =
        r?.serverChain.find((x) => (verify === 'CERT_HAS_EXPIRED' ? x.notAfter < now : x.notBefore > now)) ??
        leaf;
      return net(
        'TLS_SERVER_EXPIRED',
        verify === 'CERT_HAS_EXPIRED'
          ? `${w}: the server's certificate${bad ? ` ${bad.subject} expired on ${dateOnly(bad.notAfter)}` : ' has expired'}`
          : `${w}: the server's certificate${bad ? ` ${bad.subject} is valid only from ${dateOnly(bad.notBefore)}` : ' is not yet valid'}`,
        `the server must renew its certificate, or this machine's clock is wrong (it says ${now.slice(0, 16).replace('T', ' ')} UTC)${insecureNote}`,
        { verifyError: verify },
      );
    }
    if (HOSTNAME.has(verify)) {
      let host = '';
      try {
        host = new URL(c.url).hostname.replace(/^\[|\]$/g, '');
      } catch {}
      const sans = leaf?.sans ?? [];
      return net(
        'TLS_HOSTNAME_MISMATCH',
        `${w}: the server's certificate is not valid for ${host}${sans.length ? `; it names ${sans.join(', ')}` : leaf ? ` (it has no subject alternative names; subject ${leaf.subject})` : ''}`,
        sans.length
          ? `use a URL with one of the names in the certificate, or give the server a certificate with ${/^[\d.]+$|:/.test(host) ? 'ip' : 'dns'}:${host} in its SANs`
          : `give the server a certificate with ${/^[\d.]+$|:/.test(host) ? 'ip' : 'dns'}:${host} in its subject alternative names (the CN alone is not checked)`,
        { verifyError: verify },
      );
    }
    const sentOnlyLeaf = r && r.serverChain.length === 1 && leaf && leaf.issuer !== leaf.subject;
    return net(
      'TLS_SERVER_UNTRUSTED',
      `${w}: the server's certificate${leaf ? ` (${leaf.subject}, issued by ${leaf.issuer})` : ''} is not trusted: ${VERIFY_MESSAGES[verify] ?? verify}`,
      `${caHint}${sentOnlyLeaf ? '; the server also sent no intermediate certificate, which many clients need' : ''}${insecureNote}`,
      { verifyError: verify },
    );
  }

  return undefined;
}
