// The one verdict on a connection to an endpoint: the checks (handshake, server certificate, client
// certificate requested? from which CAs? sent? accepted?), one status with one code, and one hint.
// `tls`, `tls --all`, smoke's tls step and every command's -v log render this result; none of them
// decides anything about TLS on its own. It reads only the connection record, the HTTP status and
// the project's own error (classified by transport/diagnostics.ts): never a library's error codes.

import type { Check, CheckStatus } from '../check.ts';
import type { ConnectionRecord } from '../transport/diagnostics.ts';

export type VerdictStatus = 'pass' | 'warn' | 'fail';

export interface Verdict {
  status: VerdictStatus;
  /** fail: the error's code; warn: the warning's code (VERDICT_WARNINGS); pass: none */
  code?: string;
  /** what happened, one sentence */
  message: string;
  /** what to do (warn and fail) */
  hint?: string;
  /** the checks, in the order a person reads them */
  checks: Check[];
  /** the facts on one line (smoke's per-origin check) */
  summary: string;
}

/** The warnings a verdict can give: the handshake completed, but mTLS client authentication will not work as it is. */
export const VERDICT_WARNINGS = {
  PLAIN_HTTP: 'plain http: no TLS, so no client certificate',
  TLS_SERVER_NOT_VERIFIED: 'the server certificate was not verified (--insecure)',
  TLS_CLIENT_CERT_NOT_REQUESTED: 'the server did not ask for a client certificate',
  TLS_NO_CLIENT_CERT: 'the server asked for a client certificate and none is configured',
  TLS_CLIENT_CERT_NOT_SENT: 'the server asked for a client certificate and this call sent none',
  TLS_CLIENT_CA_NOT_LISTED: 'the issuer of the client certificate is not among the CAs the server accepts',
} as const;
export type VerdictWarning = keyof typeof VERDICT_WARNINGS;

export interface VerdictInput {
  url: string;
  record?: ConnectionRecord;
  /** the HTTP status, when the server answered */
  status?: number;
  /** the server answered over this connection, status not at hand (the doctor: record.requests) */
  answered?: boolean;
  /** the failure, when it did not */
  error?: { code: string; message: string; hint?: string };
  /** calls with the certificate go to other origins (mtls_endpoint_aliases): not asking here is expected */
  certificateCallsElsewhere?: boolean;
}

const SERVER_CODES = new Set([
  'TLS_SERVER_UNTRUSTED',
  'TLS_SERVER_SELF_SIGNED',
  'TLS_SERVER_EXPIRED',
  'TLS_HOSTNAME_MISMATCH',
]);
const CLIENT_CODES = new Set([
  'TLS_CLIENT_CERT_REQUIRED',
  'TLS_CLIENT_CERT_REJECTED',
  'TLS_CLIENT_CA_NOT_ACCEPTED',
]);

const quoted = (names: string[]) => names.map((n) => `"${n}"`).join(', ');
const issuedBy = (names: string[]) =>
  names.length === 1 ? `issued by "${names[0]}"` : `issued by one of ${quoted(names)}`;

interface Warning {
  code: VerdictWarning;
  message: string;
  hint: string;
}

const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();

/**
 * Whether the server named the CAs it accepts and the issuer of our certificate is not among them:
 * the connector's finding (which knows the intermediates), else a comparison of the names. A
 * self-signed certificate (self_signed_tls_client_auth) is never among the CAs a server names: the
 * IdP matches it against the client's registered keys, not its issuer, so the list does not apply.
 */
export function issuerNotListed(r: ConnectionRecord): boolean {
  const acceptable = r.acceptableCAs ?? [];
  const ours = r.clientCertConfigured;
  if (!ours || acceptable.length === 0 || ours.issuer === ours.subject) return false;
  if (r.clientCertIssuerListed !== undefined) return !r.clientCertIssuerListed;
  return !acceptable.map(norm).includes(norm(ours.issuer));
}

/** The verdict on one probe (or on the connection any request went over). */
export function verdictOf(v: VerdictInput): Verdict {
  const r = v.record;
  const err = v.error;
  const code = err?.code ?? '';
  const checks: Check[] = [];
  const facts: string[] = [];
  const warnings: Warning[] = [];
  const ours = r?.clientCertConfigured ?? null;
  const acceptable = r?.acceptableCAs ?? [];
  const answered = v.status !== undefined || (!!v.answered && !err);
  const got = v.status !== undefined ? `HTTP ${v.status}` : 'an answer';

  // The handshake.
  if (r?.scheme === 'http:') {
    checks.push({ name: 'TLS', status: 'warn', detail: 'plain http: no TLS' });
    facts.push('plain http');
    warnings.push({
      code: 'PLAIN_HTTP',
      message: `${v.url} is plain http: no TLS, so no client certificate can be presented`,
      hint: 'mutual TLS needs an https:// URL (plain http:// is accepted on loopback only, for tests)',
    });
  } else if (!r?.protocol) {
    checks.push({ name: 'TLS handshake', status: 'fail', detail: err?.message ?? 'no handshake' });
  } else {
    checks.push({ name: 'TLS handshake', status: 'pass', detail: `${r.protocol}, ${r.cipher}` });
    facts.push(r.protocol);
  }

  // The server's certificate.
  if (r?.protocol || SERVER_CODES.has(code)) {
    if (r?.verified) {
      checks.push({
        name: 'server certificate',
        status: 'pass',
        detail: `verified (${r.serverChain[0]?.subject ?? '?'})`,
      });
    } else if (r?.insecure) {
      checks.push({
        name: 'server certificate',
        status: 'warn',
        detail: `not verified (${r.verifyError}); --insecure`,
      });
      facts.push('server certificate NOT verified (--insecure)');
      warnings.push({
        code: 'TLS_SERVER_NOT_VERIFIED',
        message: `the server certificate of ${r.target} was not verified (${r.verifyError}): --insecure`,
        hint: "drop --insecure and pass the CA that issued the server's certificate with --ca FILE",
      });
    } else {
      checks.push({
        name: 'server certificate',
        status: 'fail',
        detail: err?.message ?? r?.verifyError ?? 'not verified',
      });
    }
  }

  // The client certificate: requested? from which CAs? sent? accepted?
  if (r?.clientCertRequested === true) {
    const cas = acceptable.length ? `; acceptable CAs: ${acceptable.join(' | ')}` : '; no CA named';
    checks.push({ name: 'client certificate requested', status: 'pass', detail: `yes${cas}` });
    facts.push(
      `client certificate requested${acceptable.length ? ` (acceptable CAs: ${acceptable.join(' | ')})` : ''}`,
    );
    if (r.clientCertSent) {
      checks.push({ name: 'client certificate sent', status: 'pass', detail: r.clientCertSent.subject });
      facts.push(`sent ${r.clientCertSent.subject}`);
      if (err && (CLIENT_CODES.has(code) || !answered)) {
        checks.push({ name: 'client certificate accepted', status: 'fail', detail: err.message });
      } else if (answered && ours && issuerNotListed(r)) {
        const message = `the server completed the handshake, but the issuer of your certificate ("${ours.issuer}") is not among the CAs it accepts (${quoted(acceptable)})`;
        checks.push({
          name: 'client certificate accepted',
          status: 'warn',
          detail: `only at the TLS level (${got}): its issuer "${ours.issuer}" is not among the acceptable CAs, so the server did not verify it`,
        });
        facts.push(
          `handshake completed (${got}), but its issuer "${ours.issuer}" is not among the CAs the server named`,
        );
        warnings.push({
          code: 'TLS_CLIENT_CA_NOT_LISTED',
          message,
          hint: `the server does not enforce client certificates at the handshake, so the IdP will likely refuse this one (invalid_client): use a certificate ${issuedBy(acceptable)}, or have "${ours.issuer}" added to the server's trusted client CAs`,
        });
      } else if (answered) {
        checks.push({
          name: 'client certificate accepted',
          status: 'pass',
          detail: 'the server completed the handshake and answered over this connection',
        });
        facts.push(`accepted at the TLS level (${got})`);
      }
    } else {
      const none = !ours;
      checks.push({
        name: 'client certificate sent',
        status: err ? 'fail' : 'warn',
        detail: none ? 'no: none configured (--cert/--key or --p12)' : 'no',
      });
      facts.push(none ? 'none configured (--cert/--key or --p12)' : 'ours was NOT sent');
      if (!err) {
        const from = acceptable.length ? `, ${issuedBy(acceptable)}` : '';
        warnings.push(
          none
            ? {
                code: 'TLS_NO_CLIENT_CERT',
                message: `no client certificate was sent (none is configured), although ${r.target} asked for one`,
                hint: `pass your client certificate with --cert FILE --key FILE (or --p12 FILE)${from}`,
              }
            : {
                code: 'TLS_CLIENT_CERT_NOT_SENT',
                message: `${r.target} asked for a client certificate and this call sent none`,
                hint: `this call is made without the client certificate on purpose; if the IdP authenticates the client by it here, use the endpoint meant for mTLS (mtls_endpoint_aliases)${from}`,
              },
        );
      }
    }
  } else if (r?.clientCertRequested === false) {
    if (!ours) {
      checks.push({ name: 'client certificate requested', status: 'pass', detail: 'no' });
      facts.push('no client certificate requested or configured');
    } else if (v.certificateCallsElsewhere) {
      checks.push({
        name: 'client certificate requested',
        status: 'pass',
        detail: 'no (expected: calls with a certificate go to the mtls_endpoint_aliases)',
      });
      facts.push(
        'client certificate not requested (expected: calls with it go to the mtls_endpoint_aliases)',
      );
    } else {
      const detail =
        'no: the server did not ask for one, so mTLS client authentication cannot happen on this connection (TLS terminated in front of the IdP?)';
      checks.push({ name: 'client certificate requested', status: 'warn', detail });
      facts.push(
        'client certificate NOT requested: mTLS client authentication cannot happen on this connection (TLS terminated in front of the IdP?)',
      );
      warnings.push({
        code: 'TLS_CLIENT_CERT_NOT_REQUESTED',
        message: `${r.target} did not ask for a client certificate, so none was sent: mTLS client authentication cannot happen on this connection`,
        hint: "call the IdP's mTLS endpoint (mtls_endpoint_aliases, found by --issuer discovery) or have this endpoint request client certificates (is TLS terminated in front of the IdP?)",
      });
    }
  } else if (r?.protocol && r.clientCertRequested === undefined) {
    const why = r.handshakeAnalysis ?? (r.sessionReused ? 'resumed session' : 'not known');
    checks.push({ name: 'client certificate requested', status: 'skip', detail: `unknown (${why})` });
    facts.push(`client certificate request unknown (${why})`);
  } else if (CLIENT_CODES.has(code)) {
    checks.push({ name: 'client certificate', status: 'fail', detail: err!.message });
  }

  // The answer.
  if (v.status !== undefined) {
    checks.push({
      name: 'HTTP',
      status: 'pass',
      detail: `status ${v.status} (any status is fine here: this probes TLS)`,
    });
  } else if (err && !checks.some((c) => c.status === 'fail')) {
    checks.push({ name: 'request', status: 'fail', detail: err.message });
  }

  if (err) {
    return {
      status: 'fail',
      code: err.code,
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
      checks,
      summary: err.message,
    };
  }
  const w = warnings[warnings.length - 1];
  const summary = facts.join('; ');
  if (w) return { status: 'warn', code: w.code, message: w.message, hint: w.hint, checks, summary };
  return { status: 'pass', message: summary || got, checks, summary };
}

/** The verdict for --json and reports: status, code, message, hint (the checks go separately). */
export function verdictFacts(v: Verdict): Pick<Verdict, 'status' | 'code' | 'message' | 'hint'> {
  return {
    status: v.status,
    ...(v.code ? { code: v.code } : {}),
    message: v.message,
    ...(v.hint ? { hint: v.hint } : {}),
  };
}

/** The worst of several statuses (fail > warn > pass; skip counts as pass). */
export function worstStatus(statuses: Iterable<CheckStatus>): VerdictStatus {
  let out: VerdictStatus = 'pass';
  for (const s of statuses) {
    if (s === 'fail') return 'fail';
    if (s === 'warn') out = 'warn';
  }
  return out;
}
