// Failures of the client certificate in the handshake: required and not sent, rejected (and why,
// from the alert and the certificate), from a CA the server does not accept; and any other alert.

import type { MtlsOAuthError } from '../errors.ts';
import { ALERT_NAMES, alertName } from '../transport/certificate-request.ts';
import { type ConnectionRecord, issuerAccepted } from '../transport/diagnostics.ts';
import { dateOnly, type Failure } from './failure.ts';

/** Alerts a server sends when it does not like the client certificate it got. */
const CLIENT_CERT_ALERTS = new Set([42, 43, 44, 45, 46, 48, 49, 51]);

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

/** The server refused the handshake over the client certificate (or its absence), or sent another alert. */
export function clientCertificateFailure(f: Failure): MtlsOAuthError | undefined {
  const { c, r, net, w, closedEarly } = f;
  const alert = receivedAlert(r);
  const sent = !!r?.clientCertSent;
  const requested = r?.clientCertRequested;
  const acceptable = r?.acceptableCAs ?? [];
  const id = c.identity;
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
  return undefined;
}
