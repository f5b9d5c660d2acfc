// What we know about each connection (ConnectionRecord), and the translation of a failed connection
// into an MtlsOAuthError with a stable code and a hint that uses those facts.

import { X509Certificate } from 'node:crypto';
import { errnoCode, MtlsOAuthError } from '../errors.ts';
import { sha256Fingerprint, x5tS256 } from '../pki/thumbprint.ts';
import { ALERT_NAMES, alertName } from './certificate-request.ts';
import type { ClientIdentity } from './identity.ts';
import { certificateNames } from './x509-names.ts';

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
  // Added members (the contract allows additions):
  /** "https:" or "http:" */
  scheme?: string;
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

// ---------------------------------------------------------------------------------------------
// Failure classification

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

/** Alerts a server sends when it does not like the client certificate it got. */
const CLIENT_CERT_ALERTS = new Set([42, 43, 44, 45, 46, 48, 49, 51]);

export interface FailureContext {
  url: string;
  /** e.g. "token request": named in messages */
  step?: string;
  record?: ConnectionRecord;
  identity?: ClientIdentity;
  withClientCert: boolean;
  timeoutMs: number;
  timedOut?: boolean;
  caFile?: string;
  caMode?: 'add' | 'replace';
  /** how far the request got: 'headers' (sent, waiting for the answer) or 'body' (headers received) */
  phase?: 'headers' | 'body';
  /** the size limit on response headers, in bytes (HEADERS_TOO_LARGE) */
  maxHeaderBytes?: number;
}

/** Where a request stood when it failed (timeouts name it). */
export type RequestPhase = 'connect' | 'proxy' | 'tls' | 'headers' | 'body';

export function requestPhase(c: Pick<FailureContext, 'record' | 'phase'>): RequestPhase {
  const r = c.record;
  if (!r || r.timings.tcpMs === undefined) return 'connect';
  if (r.proxy && r.timings.proxyMs === undefined) return 'proxy';
  if (r.scheme !== 'http:' && r.protocol === undefined) return 'tls';
  return c.phase === 'body' ? 'body' : 'headers';
}

const secondsText = (ms: number) => `${Math.round(ms) / 1000} s`;

/** The fatal alert the server sent, from the decrypted records or from OpenSSL's error message. */
export function receivedAlert(record: ConnectionRecord | undefined): number | undefined {
  const m = record?.error?.message.match(/SSL alert number (\d+)/);
  if (m) return Number(m[1]);
  for (const a of record?.alerts ?? []) {
    const n = Number(a.match(/\((\d+)\)$/)?.[1]);
    if (n && n !== 0) return n;
  }
  return undefined;
}

const where = (c: FailureContext) => {
  let host = c.url;
  try {
    host = new URL(c.url).host;
  } catch {}
  return c.step ? `${c.step} to ${host}` : host;
};

function dateOnly(s: string) {
  return s.slice(0, 10);
}

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

function errorChain(e: unknown): Array<{ code?: string; message: string; name?: string }> {
  const out: Array<{ code?: string; message: string; name?: string }> = [];
  for (let cur = e, n = 0; cur && n < 5; cur = (cur as { cause?: unknown }).cause, n++) {
    out.push({
      code: errnoCode(cur),
      message: String((cur as Error).message ?? cur),
      name: (cur as Error).name,
    });
  }
  return out;
}

/** Turns a failed request (the error undici gave + what the connection saw) into an MtlsOAuthError. */
export function classifyFailure(e: unknown, c: FailureContext): MtlsOAuthError {
  if (e instanceof MtlsOAuthError) return e;
  // A bug of ours is not a network failure: let it surface as one.
  if ((e instanceof TypeError || e instanceof ReferenceError || e instanceof RangeError) && !errnoCode(e)) {
    return new MtlsOAuthError('internal', 'INTERNAL', `unexpected error: ${e.message}`, {
      hint: 'this is a bug in mtls-oauth; run again with --debug and report the stack trace',
      cause: e,
    });
  }
  const r = c.record;
  const chain = errorChain(e);
  const codes = new Set(chain.map((x) => x.code).filter(Boolean) as string[]);
  if (r?.error?.code) codes.add(r.error.code);
  const first = r?.error ?? { code: chain[0]?.code ?? 'UNKNOWN', message: chain[0]?.message ?? String(e) };
  const details = (extra: Record<string, unknown> = {}) => ({
    url: c.url,
    ...(c.step ? { step: c.step } : {}),
    cause: { code: chain[0]?.code, message: chain[0]?.message },
    ...extra,
    ...(r ? { tls: r } : {}),
  });
  const net = (code: string, message: string, hint: string, extra?: Record<string, unknown>) =>
    new MtlsOAuthError('network', code, message, { hint, cause: e, details: details(extra) });
  const w = where(c);

  // Before any byte went out: the identity itself.
  if (codes.has('ERR_OSSL_X509_KEY_VALUES_MISMATCH')) {
    return new MtlsOAuthError('usage', 'KEY_MISMATCH', 'the private key does not belong to the certificate', {
      hint: 'the key and certificate must be a pair: compare `openssl x509 -in CERT -noout -pubkey` with `openssl pkey -in KEY -pubout`',
      cause: e,
      details: details(),
    });
  }
  if (codes.has('ERR_OSSL_BAD_DECRYPT')) {
    return new MtlsOAuthError('usage', 'KEY_PASSPHRASE', 'wrong passphrase for the private key', {
      hint: 'check MTLS_OAUTH_KEY_PASSPHRASE',
      cause: e,
      details: details(),
    });
  }

  // Timeouts: the message names the step and where it stood.
  const timeoutCodes = [
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'ETIMEDOUT',
  ];
  if (c.timedOut || timeoutCodes.some((t) => codes.has(t))) {
    const phase = requestPhase(c);
    let origin = c.url;
    try {
      origin = new URL(c.url).origin;
    } catch {}
    const via = r?.proxy ? ` via the proxy ${r.proxy}` : '';
    const where: Record<RequestPhase, string> = {
      connect: r?.proxy ? `connecting to the proxy ${r.proxy} (for ${origin})` : `connecting to ${origin}`,
      proxy: `waiting for the proxy ${r?.proxy} to open a tunnel (CONNECT) to ${origin}`,
      tls: `in the TLS handshake with ${origin}${via}`,
      headers: `waiting for the response headers from ${c.url}${via}`,
      body: `reading the response body from ${c.url}${via}`,
    };
    const hints: Record<RequestPhase, string> = {
      connect:
        'the TCP connection did not complete: the host may be down, or a firewall drops packets to that port; check the host and port (proxy? VPN?) and raise the limit with --timeout SECONDS',
      proxy: `the proxy ${r?.proxy} accepted the connection but did not open the tunnel in time: check the proxy, or set NO_PROXY=${(() => {
        try {
          return new URL(c.url).hostname;
        } catch {
          return 'HOST';
        }
      })()} to connect directly`,
      tls: 'the port accepts TCP but does not complete a TLS handshake: is it really HTTPS (not plain HTTP or another protocol)? A firewall or proxy may also hold the connection',
      headers:
        'the server accepted the request but sent no answer in time: the IdP may be overloaded or stuck, or something in between holds the request; raise the limit with --timeout SECONDS',
      body: 'the server started answering but the rest of the response did not arrive in time (a stalled or very slow body); raise the limit with --timeout SECONDS if the IdP is only slow',
    };
    return new MtlsOAuthError(
      'timeout',
      'TIMEOUT',
      `${c.step ?? 'request'} timed out after ${secondsText(c.timeoutMs)} ${where[phase]}`,
      {
        hint: hints[phase],
        cause: e,
        details: details({ timeoutMs: c.timeoutMs, phase }),
      },
    );
  }

  // Response headers over the limit (undici's maxHeaderSize, or the probe's own).
  if (codes.has('UND_ERR_HEADERS_OVERFLOW')) {
    const limit = c.maxHeaderBytes ? ` (${Math.round(c.maxHeaderBytes / 1024)} KiB)` : '';
    return net(
      'HEADERS_TOO_LARGE',
      `${w}: the response headers are larger than the limit${limit}; stopped reading`,
      'an OAuth endpoint answers with a few hundred bytes of headers: the URL probably points at something else (a misbehaving proxy or server); run with -v to see the start of the answer',
      c.maxHeaderBytes ? { limit: c.maxHeaderBytes } : undefined,
    );
  }

  // The proxy (HTTPS_PROXY) before the tunnel was open.
  if (r?.proxy && r.timings.proxyMs === undefined) {
    const src = 'HTTPS_PROXY';
    let host = 'HOST';
    try {
      host = new URL(c.url).hostname;
    } catch {}
    const bypass = `or set NO_PROXY=${host} to connect directly`;
    if (codes.has('PROXY_CONNECT_FAILED')) {
      const status = Number(first.message.match(/: HTTP (\d{3})/)?.[1]) || undefined;
      return net(
        'PROXY_FAILED',
        `${w}: ${first.message}`,
        status === 407
          ? `the proxy wants credentials: put them in the proxy URL (${src}=http://USER:PASSWORD@${r.proxy.replace(/^http:\/\//, '')}), ${bypass}`
          : `the proxy does not let this tool reach ${host}: check its rules (allowed hosts and ports for CONNECT), ${bypass}`,
        { proxy: r.proxy, ...(status ? { proxyStatus: status } : {}) },
      );
    }
    if (codes.has('PROXY_CLOSED') || codes.has('PROXY_BAD_ANSWER')) {
      return net(
        'PROXY_FAILED',
        `${w}: ${first.message}`,
        `check that ${r.proxy} is an HTTP proxy that supports CONNECT, ${bypass}`,
        { proxy: r.proxy },
      );
    }
    if (r.timings.tcpMs === undefined) {
      const why = codes.has('ECONNREFUSED')
        ? 'connection refused'
        : [...codes].some((x) => /^EAI_|ENOTFOUND/.test(x))
          ? 'its host name cannot be resolved'
          : first.message.split('\n')[0];
      return net(
        'PROXY_FAILED',
        `${w}: cannot reach the proxy ${r.proxy} (${src}): ${why}`,
        `check ${src} (and https_proxy), or unset it / ${bypass}`,
        { proxy: r.proxy },
      );
    }
  }

  // DNS and TCP.
  if (
    codes.has('ENOTFOUND') ||
    codes.has('EAI_AGAIN') ||
    codes.has('EAI_NODATA') ||
    codes.has('EAI_NONAME')
  ) {
    let host = c.url;
    try {
      host = new URL(c.url).hostname;
    } catch {}
    return net(
      'DNS_FAILURE',
      `${w}: the host name ${host} cannot be resolved (${codes.has('EAI_AGAIN') ? 'DNS lookup timed out or failed temporarily' : 'no such host'})`,
      'check the spelling of the URL (issuer, endpoints in the discovery document) and your DNS / VPN',
    );
  }
  if (codes.has('ECONNREFUSED')) {
    return net(
      'CONNECTION_REFUSED',
      `${w}: connection refused (nothing listens on ${r?.target ?? 'that port'})`,
      'check the port in the URL and that the server is running',
    );
  }
  if (codes.has('EHOSTUNREACH') || codes.has('ENETUNREACH')) {
    return net(
      'CONNECTION_FAILED',
      `${w}: ${first.message}`,
      'the network cannot reach that host: VPN? proxy? firewall?',
    );
  }

  // The server's certificate.
  const verify =
    r?.verifyError ??
    [...codes].find((x) => SELF_SIGNED.has(x) || EXPIRED.has(x) || UNTRUSTED.has(x) || HOSTNAME.has(x));
  if (verify && !r?.insecure) {
    const leaf = r?.serverChain[0];
    const root = r?.serverChain[r.serverChain.length - 1];
    const insecureNote = ' (--insecure skips this check, for testing only)';
    const caHint = c.caFile
      ? `the CA in ${c.caFile}${c.caMode === 'replace' ? ' (used instead of the system roots)' : ''} did not sign it: pass the right CA certificate with --ca FILE`
      : 'pass the CA certificate that issued it with --ca FILE';
    if (SELF_SIGNED.has(verify)) {
      const which = verify === 'DEPTH_ZERO_SELF_SIGNED_CERT' ? leaf : root;
      return net(
        'TLS_SERVER_SELF_SIGNED',
        verify === 'DEPTH_ZERO_SELF_SIGNED_CERT'
          ? `${w}: the server's certificate${which ? ` (${which.subject})` : ''} is self-signed and not trusted`
          : `${w}: the server's certificate chain ends in a self-signed root${which ? ` (${which.subject})` : ''} that is not trusted`,
        `if you trust it, pass that certificate${which ? ` (SHA-256 ${which.sha256})` : ''} with --ca FILE${insecureNote}`,
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

  // The client certificate.
  const alert = receivedAlert(r);
  const sent = !!r?.clientCertSent;
  const requested = r?.clientCertRequested;
  const acceptable = r?.acceptableCAs ?? [];
  const id = c.identity;
  const closedEarly =
    codes.has('UND_ERR_SOCKET') ||
    codes.has('ECONNRESET') ||
    codes.has('EPIPE') ||
    /other side closed|socket hang up|disconnected before secure TLS/i.test(first.message);
  const alertText = alert !== undefined ? ` (alert ${alertName(alert)})` : '';
  const accepts = (ns: string[]) =>
    ns.length === 1 ? `issued by ${ns[0]}` : `issued by one of: ${ns.join('; ')}`;

  if (alert === 116 || ((alert === 40 || closedEarly) && requested && !sent)) {
    const how =
      alert === 116
        ? ' (alert certificate_required)'
        : alert === 40
          ? ' (alert handshake_failure)'
          : ' (the server closed the connection)';
    let hint: string;
    if (!c.withClientCert && id) {
      hint = `this call is made without a client certificate on purpose${c.step ? ` (${c.step})` : ''}, but the server demands one: use the endpoint meant for mTLS (mtls_endpoint_aliases) or ask the IdP admin to make client certificates optional here`;
    } else {
      hint = `pass your client certificate with --cert FILE --key FILE (or --p12 FILE)${acceptable.length ? `; the server accepts certificates ${accepts(acceptable)}` : ''}`;
    }
    return net(
      'TLS_CLIENT_CERT_REQUIRED',
      `${w}: the server requires a client certificate and none was sent${how}`,
      hint,
      {
        ...(alert !== undefined ? { alert: alertName(alert) } : {}),
      },
    );
  }

  const rejected =
    sent &&
    ((alert !== undefined && (CLIENT_CERT_ALERTS.has(alert) || alert === 40)) || (closedEarly && requested));
  if (rejected && id) {
    const now = new Date();
    const ours = `yours (${id.subjectDn}) is issued by ${id.issuerDn}`;
    const yourCert = `your certificate (${id.subjectDn}) is issued by ${id.issuerDn}`;
    if (acceptable.length > 0 && !issuerAccepted(id, acceptable)) {
      return net(
        'TLS_CLIENT_CA_NOT_ACCEPTED',
        `${w}: the server rejected the client certificate${alertText}: it is not from a CA the server accepts`,
        `the server accepts client certificates ${accepts(acceptable)}; ${ours}. Use a certificate from an accepted CA, or have ${id.issuerDn} added to the server's trusted client CAs`,
        { acceptableCAs: acceptable, ...(alert !== undefined ? { alert: alertName(alert) } : {}) },
      );
    }
    const expired = id.certificate.validTo && new Date(id.certificate.validTo) < now;
    const notYet = id.certificate.validFrom && new Date(id.certificate.validFrom) > now;
    let why: string;
    let hint: string;
    switch (alert) {
      case 48:
        why = 'the server does not trust the CA that issued it';
        hint = `${yourCert}, which the server does not trust: have ${id.issuerDn} added to its trusted client CAs, or use a certificate from a CA it trusts${id.chain.length === 1 ? ' (if yours comes from an intermediate CA, put the intermediate after the leaf in the --cert file)' : ''}`;
        break;
      case 45:
        why = 'the server says it has expired';
        hint = `your certificate ${id.subjectDn} is valid until ${dateOnly(new Date(id.certificate.validTo).toISOString())}: issue a new one (mtls-oauth certs issue)`;
        break;
      case 44:
        why = 'the server says it has been revoked';
        hint = 'issue a new client certificate and register it at the IdP';
        break;
      case 42:
      case 43:
      case 46:
        why = `the server refused it (${ALERT_NAMES[alert]})`;
        hint = expired
          ? `your certificate ${id.subjectDn} expired on ${dateOnly(new Date(id.certificate.validTo).toISOString())}: issue a new one (mtls-oauth certs issue)`
          : notYet
            ? `your certificate ${id.subjectDn} is not valid before ${new Date(id.certificate.validFrom).toISOString()}: check the clocks here and on the server, or issue one valid now`
            : `check that the certificate has extendedKeyUsage clientAuth and that the server trusts ${id.issuerDn} for client certificates`;
        break;
      case 49:
        why = 'the server denied access to this certificate (access_denied)';
        hint =
          'the server knows the certificate but does not allow it: check the IdP/gateway configuration for this client';
        break;
      case 51:
        why = 'the server could not verify our CertificateVerify signature (decrypt_error)';
        hint =
          'the key type or signature algorithm may not be supported by the server; try an EC P-256 or RSA 2048 certificate';
        break;
      default:
        why =
          alert !== undefined
            ? `the server ended the handshake (${alertName(alert)})`
            : 'the server closed the connection right after receiving it, without saying why';
        hint = expired
          ? `your certificate ${id.subjectDn} expired on ${dateOnly(new Date(id.certificate.validTo).toISOString())}: issue a new one (mtls-oauth certs issue)`
          : notYet
            ? `your certificate ${id.subjectDn} is not valid before ${new Date(id.certificate.validFrom).toISOString()}: check the clocks`
            : `${yourCert}; check that the server trusts ${id.issuerDn} for client certificates, and its log for the reason`;
    }
    return net('TLS_CLIENT_CERT_REJECTED', `${w}: the server rejected the client certificate: ${why}`, hint, {
      ...(alert !== undefined ? { alert: alertName(alert) } : {}),
      ...(acceptable.length ? { acceptableCAs: acceptable } : {}),
    });
  }

  if (alert !== undefined) {
    return net(
      'CONNECTION_FAILED',
      `${w}: the TLS handshake failed: the server sent alert ${alertName(alert)}`,
      alert === 70
        ? 'the server and this tool share no TLS version (this tool speaks TLS 1.2 and 1.3)'
        : alert === 40
          ? 'the server and this tool agree on no cipher suite or parameters; `openssl s_client -connect HOST:PORT` shows what the server offers'
          : alert === 112
            ? 'the server does not know the host name we sent (SNI): check the URL'
            : 'run `mtls-oauth tls URL -v` for the whole handshake, or compare with `openssl s_client -connect HOST:PORT`',
      { alert: alertName(alert) },
    );
  }
  // http:// to a port that speaks TLS: the server reads a ClientHello-less request and hangs up
  // (or answers with a TLS alert record, which is no HTTP).
  if (r?.scheme === 'http:' && (closedEarly || [...codes].some((x) => x.startsWith('HPE_')))) {
    let https = c.url;
    try {
      const u = new URL(c.url);
      u.protocol = 'https:';
      https = u.toString();
    } catch {}
    return net(
      'TLS_EXPECTED',
      `${w}: the server closed the connection without answering the plain HTTP request: the port probably speaks TLS`,
      `use https:// (${https}); \`openssl s_client -connect HOST:PORT\` shows what the port speaks`,
    );
  }
  if (closedEarly) {
    const duringHandshake = r && r.scheme !== 'http:' && r.protocol === undefined;
    return net(
      'CONNECTION_FAILED',
      `${w}: the server closed the connection ${duringHandshake ? 'during the TLS handshake' : 'before answering'}`,
      duringHandshake
        ? 'is the port really HTTPS? `openssl s_client -connect HOST:PORT` shows what it speaks'
        : 'the server or a proxy dropped the request; run with -v to see the exchange',
    );
  }
  if (codes.has('ERR_SSL_WRONG_VERSION_NUMBER') || /wrong version number/i.test(first.message)) {
    return net(
      'NOT_TLS',
      `${w}: the server did not answer with TLS (wrong version number): the port probably speaks plain HTTP`,
      'use the right HTTPS port, or an http:// URL (loopback only, for tests); `openssl s_client -connect HOST:PORT` shows what the port speaks',
    );
  }
  return net(
    'CONNECTION_FAILED',
    `${w}: ${first.message.split('\n')[0]}`,
    'run with -v to see each connection and exchange',
  );
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
    `connection to ${r.target}${r.proxy ? ` via proxy ${r.proxy}` : ''}${timing ? ` (${timing})` : ''}${r.withClientCert ? '' : ', no client certificate configured'}`,
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
