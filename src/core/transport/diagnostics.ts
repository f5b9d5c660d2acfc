// What we know about each connection (ConnectionRecord), and its plain-text description for the
// verbose log. What a failure means is diagnosis/classify.ts's job; the verdict, diagnosis/verdict.ts's.

import { X509Certificate } from 'node:crypto';
import { certificateNames } from '../pki/der.ts';
import { sha256Fingerprint, x5tS256 } from '../pki/thumbprint.ts';
import type { ClientIdentity } from './identity.ts';

export interface CertSummary {
  /** RFC 4514 */
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sans: string[];
  sha256: string;
  x5tS256?: string;
}

export interface ConnectionRecord {
  /** host:port */
  target: string;
  withClientCert: boolean;
  /** tcpMs: DNS + TCP connect (to the proxy, when there is one); proxyMs: the CONNECT exchange; tlsMs: the TLS handshake after that */
  timings: { tcpMs?: number; proxyMs?: number; tlsMs?: number };
  protocol?: string;
  cipher?: string;
  alpn?: string | null;
  /** as received, leaf first */
  serverChain: CertSummary[];
  /** authorized / authorizationError */
  verified: boolean;
  verifyError?: string;
  /** from the server's CertificateRequest (TLS 1.2 plaintext, TLS 1.3 decrypted via keylog) */
  clientCertRequested?: boolean;
  /** RFC 4514 strings from CertificateRequest certificate_authorities */
  acceptableCAs?: string[];
  /** whether the issuer of the configured certificate (or of one of its intermediates) is among
   *  acceptableCAs; set only when the server named CAs and a certificate is configured */
  clientCertIssuerListed?: boolean;
  signatureAlgorithms?: string[];
  clientCertSent?: { subject: string; x5tS256: string } | null;
  sessionReused?: boolean;
  /** e.g. "certificate_required (116)" */
  alerts?: string[];
  /** the socket's FIRST error (undici hides alert 116 behind "other side closed") */
  error?: { code: string; message: string };
  /** "https:" or "http:" */
  scheme?: string;
  /** --connect-to: the address actually dialled for `target` (SNI and verification stay on target's host) */
  connectedTo?: string;
  /** SNI sent, if any (never for an IP address) */
  servername?: string;
  /** verification was skipped on purpose (--insecure) */
  insecure?: boolean;
  /** the certificate this connection was configured to present, if any */
  clientCertConfigured?: { subject: string; issuer: string; x5tS256: string; source: string } | null;
  /** TLS 1.2: certificate_types of the CertificateRequest */
  certificateTypes?: string[];
  /** why the CertificateRequest analysis could not complete, if it could not */
  handshakeAnalysis?: string;
  /** number of HTTP requests sent over this connection */
  requests?: number;
  /** the HTTP proxy the connection was tunnelled through (CONNECT), without credentials: "http://proxy:3128" */
  proxy?: string;
}

const iso = (d: string) => {
  const t = new Date(d);
  return Number.isNaN(t.getTime()) ? d : t.toISOString();
};

/** "DNS:a, IP Address:1.2.3.4" (Node) -> ["dns:a", "ip:1.2.3.4"] (the tool's --san spelling). */
export function sanList(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  // Node quotes values containing a comma as JSON strings.
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;
  for (const m of subjectAltName.matchAll(re)) {
    if (!m[0]) continue;
    const type = m[1].trim();
    let value = m[2];
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {}
    }
    const t = { DNS: 'dns', 'IP Address': 'ip', URI: 'uri', email: 'email' }[type] ?? type.toLowerCase();
    out.push(`${t}:${value}`);
  }
  return out;
}

export function summarizeCertificate(cert: X509Certificate | Buffer): CertSummary {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  let names: { subject: string; issuer: string };
  try {
    names = certificateNames(x.raw);
  } catch {
    names = {
      subject: x.subject.split('\n').reverse().join(','),
      issuer: x.issuer.split('\n').reverse().join(','),
    };
  }
  return {
    subject: names.subject,
    issuer: names.issuer,
    notBefore: iso(x.validFrom),
    notAfter: iso(x.validTo),
    sans: sanList(x.subjectAltName),
    sha256: sha256Fingerprint(x),
    x5tS256: x5tS256(x),
  };
}

/** Node's sentences for the verification codes (socket.authorizationError holds only the code). */
export const VERIFY_MESSAGES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  CERT_REVOKED: 'certificate revoked',
};

/** Is the issuer of our certificate (or of one of its intermediates) in the server's list? */
export function issuerAccepted(identity: ClientIdentity, acceptable: string[]): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ');
  const wanted = new Set(acceptable.map(norm));
  const issuers = [identity.issuerDn];
  for (const c of identity.chain.slice(1)) {
    try {
      const n = certificateNames(c.raw);
      issuers.push(n.issuer, n.subject);
    } catch {}
  }
  return issuers.some((i) => wanted.has(norm(i)));
}

// ---------------------------------------------------------------------------------------------
// Plain text (for the verbose log; the CLI renders records with colours in render-tls.ts)

/** A connection record as plain lines, for the verbose log. */
export function describeConnection(r: ConnectionRecord): string[] {
  const lines: string[] = [];
  const t = r.timings;
  const timing = [
    t.tcpMs !== undefined ? `tcp ${t.tcpMs} ms` : '',
    t.proxyMs !== undefined ? `CONNECT ${t.proxyMs} ms` : '',
    t.tlsMs !== undefined ? `tls ${t.tlsMs} ms` : '',
  ]
    .filter(Boolean)
    .join(', ');
  lines.push(
    `connection to ${r.target}${r.connectedTo ? ` at ${r.connectedTo} (--connect-to)` : ''}${r.proxy ? ` via proxy ${r.proxy}` : ''}${timing ? ` (${timing})` : ''}${r.withClientCert ? '' : ', no client certificate configured'}`,
  );
  if (r.scheme === 'http:') {
    lines.push('  plain HTTP (no TLS)');
  }
  if (r.protocol) {
    lines.push(
      `  ${r.protocol}, ${r.cipher ?? '?'}${r.alpn ? `, ALPN ${r.alpn}` : ''}${r.sessionReused ? ', session resumed' : ''}`,
    );
  }
  r.serverChain.forEach((c, i) => {
    lines.push(
      `  server cert ${i}: ${c.subject}  (issuer ${c.issuer}; ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)})`,
    );
    if (i === 0 && c.sans.length) lines.push(`    SANs: ${c.sans.join(', ')}`);
  });
  if (r.protocol || r.verifyError) {
    lines.push(
      r.verified
        ? '  server certificate verified'
        : `  server certificate NOT verified: ${r.verifyError ?? 'unknown'}${r.insecure ? ' (ignored: --insecure)' : ''}`,
    );
  }
  if (r.clientCertRequested === true) {
    lines.push(
      `  server requested a client certificate${r.acceptableCAs?.length ? `; acceptable CAs: ${r.acceptableCAs.join(' | ')}` : '; it names no acceptable CAs'}`,
    );
  } else if (r.clientCertRequested === false) {
    lines.push('  server did not request a client certificate');
  }
  if (r.clientCertSent)
    lines.push(
      `  client certificate sent: ${r.clientCertSent.subject} (x5t#S256 ${r.clientCertSent.x5tS256})`,
    );
  else if (r.clientCertRequested) lines.push('  no client certificate sent');
  if (r.alerts?.length) lines.push(`  alerts from the server: ${r.alerts.join(', ')}`);
  if (r.error) lines.push(`  error: ${r.error.code}: ${r.error.message.split('\n')[0]}`);
  if (r.handshakeAnalysis) lines.push(`  (handshake analysis: ${r.handshakeAnalysis})`);
  return lines;
}
