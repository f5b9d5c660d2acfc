// The likely causes of a failure, most likely first, worked out from the error (its code, message
// and details) and from what the connections saw (ConnectionRecords: the server's chain and whether
// it verified, whether a client certificate was requested and from which CAs, whether ours was
// sent, alerts, proxy). The CLI's -v doctor prints them (src/cli/doctor.ts); deciding is done here.

import type { ConnectionRecord } from '../transport/diagnostics.ts';
import { issuerNotListed, type Verdict, verdictOf } from './verdict.ts';

export interface FailureFacts {
  code: string;
  message: string;
  hint?: string;
  kind?: string;
  details?: Record<string, unknown>;
}

export interface Cause {
  /** higher is more likely */
  score: number;
  /** the cause, one sentence */
  text: string;
  /** what to do */
  fix?: string;
  /** dedupe key */
  key: string;
}

const q = (s: string) => `'${s}'`;

function hostOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function hostnameOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

function isRecord(x: unknown): x is ConnectionRecord {
  return !!x && typeof x === 'object' && typeof (x as ConnectionRecord).target === 'string';
}

/** Connection records from an error's details.tls or an outcome's tls (one record or a list). */
export function recordsOf(...sources: unknown[]): ConnectionRecord[] {
  const out: ConnectionRecord[] = [];
  for (const s of sources) {
    for (const r of Array.isArray(s) ? s : [s]) if (isRecord(r) && !out.includes(r)) out.push(r);
  }
  return out;
}

function oneOf(names: string[]): string {
  return names.length === 1 ? q(names[0]) : `one of ${names.map(q).join(', ')}`;
}

/** The ranked causes (most likely first). */
export function likelyCauses(err: FailureFacts, records: ConnectionRecord[]): Cause[] {
  const causes: Cause[] = [];
  const add = (c: Cause) => {
    const i = causes.findIndex((x) => x.key === c.key);
    if (i < 0) causes.push(c);
    else if (c.score > causes[i].score) causes[i] = c;
  };
  const d = err.details ?? {};
  const url = (d.url ?? d.endpoint) as string | undefined;
  const failed =
    records.find((r) => r.error || r.alerts?.length || (r.verifyError && !r.insecure)) ??
    records[records.length - 1];
  const host = hostOf(url) ?? failed?.target ?? 'the server';

  // Evidence from the connections (whatever the error).
  for (const r of records) {
    const ours = r.clientCertConfigured;
    const acceptable = r.acceptableCAs ?? [];
    if (r.clientCertRequested && ours && issuerNotListed(r)) {
      add({
        key: 'ca-mismatch',
        // With the certificate refused (handshake or invalid_client), a CA the server did not ask for is the likeliest reason.
        score: [
          'TLS_CLIENT_CA_NOT_ACCEPTED',
          'TLS_CLIENT_CERT_REJECTED',
          'OAUTH_INVALID_CLIENT',
          'CLIENT_REFUSED',
        ].includes(err.code)
          ? 100
          : 80,
        text: `the server (${r.target}) asked for a certificate from ${oneOf(acceptable)} but yours is from ${q(ours.issuer)}`,
        fix: `use a client certificate issued by ${oneOf(acceptable)}, or have the server trust ${q(ours.issuer)} for client certificates`,
      });
    }
    if (r.verifyError && !r.insecure) {
      const top = r.serverChain[r.serverChain.length - 1];
      add({
        key: 'server-untrusted',
        score: 75,
        text: `the server certificate of ${r.target} is not trusted (${r.verifyError})${top ? `; its chain ends at ${q(top.issuer)}` : ''}`,
        fix: "pass --ca FILE with the CA certificate that issued the IdP's server certificate (or fix the server's chain)",
      });
    }
    if (r.clientCertRequested && !ours) {
      add({
        key: 'no-cert-configured',
        score: 60,
        text: `${r.target} asked for a client certificate and none is configured`,
        fix: `pass --cert FILE --key FILE (or --p12 FILE)${acceptable.length ? `, from ${oneOf(acceptable)}` : ''}`,
      });
    }
  }
  const proxied = records.find((r) => r.proxy);
  if (proxied && (err.kind === 'network' || err.kind === 'timeout')) {
    add({
      key: 'proxy',
      score: err.code === 'PROXY_FAILED' ? 100 : 20,
      text: `the connection went through the proxy ${proxied.proxy} (HTTPS_PROXY)`,
      fix: `if the IdP is reachable directly, set NO_PROXY=${hostnameOf(url) ?? proxied.target.replace(/:\d+$/, '')}`,
    });
  }
  if (records.some((r) => r.insecure)) {
    add({
      key: 'insecure',
      score: 5,
      text: "the server certificate was not verified in this run (--insecure): the answers prove nothing about the server's identity",
    });
  }

  // The error itself.
  const r = failed;
  const ours = r?.clientCertConfigured;
  switch (err.code) {
    case 'TLS_CLIENT_CA_NOT_ACCEPTED':
      if (!causes.some((c) => c.key === 'ca-mismatch')) {
        add({ key: 'ca-mismatch', score: 100, text: err.message, fix: err.hint });
      }
      break;
    case 'TLS_SERVER_UNTRUSTED':
    case 'TLS_SERVER_SELF_SIGNED': {
      const top = r?.serverChain[r.serverChain.length - 1];
      add({
        key: 'server-untrusted',
        score: 100,
        text: `the server certificate is not trusted${
          !top
            ? ''
            : top.subject !== top.issuer
              ? `: its chain ends at ${q(top.issuer)}, which is not among the trusted CAs`
              : r!.serverChain.length === 1
                ? `: it is self-signed (${q(top.subject)})`
                : `: its chain ends at the root ${q(top.subject)}, which is not trusted here`
        }`,
        fix: "pass --ca FILE with the IdP's CA certificate (with --ca-mode replace, only that CA is trusted)",
      });
      break;
    }
    case 'TLS_SERVER_EXPIRED':
      add({ key: 'server-expired', score: 100, text: err.message.replace(/^[^:]*: /, ''), fix: err.hint });
      break;
    case 'TLS_HOSTNAME_MISMATCH':
      add({
        key: 'hostname',
        score: 100,
        text: `the server certificate is not issued for ${hostnameOf(url) ?? host}${r?.serverChain[0]?.sans.length ? ` (it names ${r.serverChain[0].sans.join(', ')})` : ''}`,
        fix: err.hint,
      });
      break;
    case 'TLS_CLIENT_CERT_REQUIRED':
      add(
        ours && r && !r.withClientCert
          ? {
              key: 'cert-required-plain',
              score: 100,
              text: `${r.target} demands a client certificate even for ${String(d.step ?? 'this call')}, which is made without one on purpose`,
              fix: err.hint,
            }
          : {
              key: 'no-cert-configured',
              score: 100,
              text: `the server requires a client certificate and none was sent${ours ? '' : ' (none is configured)'}`,
              fix: `pass --cert FILE --key FILE (or --p12 FILE)${r?.acceptableCAs?.length ? `, issued by ${oneOf(r.acceptableCAs)}` : ''}`,
            },
      );
      break;
    case 'TLS_CLIENT_CERT_REJECTED':
      add({
        key: 'cert-rejected',
        score: 100,
        text: `the server rejected your certificate${ours ? ` ${q(ours.subject)} (from ${q(ours.issuer)})` : ''}${d.alert ? `: alert ${String(d.alert)}` : ''}`,
        fix: err.hint,
      });
      break;
    case 'TIMEOUT': {
      const phase = d.phase as string | undefined;
      const secs = typeof d.timeoutMs === 'number' ? `${d.timeoutMs / 1000} s` : 'the time limit';
      const text: Record<string, string> = {
        connect: `no TCP connection to ${host} within ${secs}: the host is down or a firewall drops the packets`,
        proxy: `the proxy did not open a tunnel to ${host} within ${secs}`,
        tls: `${host} accepts TCP but never completed a TLS handshake within ${secs}: it is probably not an HTTPS port (plain HTTP? another protocol?)`,
        headers: `${host} accepted the request but sent no answer within ${secs}: the IdP (or something in between) is stuck or overloaded`,
        body: `${host} started answering but the response stalled (not complete within ${secs})`,
      };
      add({ key: 'timeout', score: 100, text: text[phase ?? ''] ?? err.message, fix: err.hint });
      break;
    }
    case 'CONNECTION_REFUSED':
      add({
        key: 'refused',
        score: 100,
        text: `nothing listens on ${r?.target ?? host}`,
        fix: 'check the port in the URL (discovery, --*-endpoint flags) and that the IdP is running',
      });
      break;
    case 'DNS_FAILURE':
      add({
        key: 'dns',
        score: 100,
        text: `the host name ${hostnameOf(url) ?? host} does not resolve from here`,
        fix: err.hint,
      });
      break;
    case 'PROXY_FAILED':
      add({
        key: 'proxy',
        score: 100,
        text: err.message.replace(/^[^:]*: /, ''),
        fix: err.hint,
      });
      break;
    case 'RESPONSE_TOO_LARGE':
    case 'HEADERS_TOO_LARGE':
    case 'JSON_TOO_DEEP':
    case 'NOT_JSON':
      add({
        key: 'not-oauth',
        score: 100,
        text: `${url ?? host} does not answer like an OAuth endpoint (${err.code}: ${err.message.replace(/^[^:]*: /, '').slice(0, 160)})`,
        fix: 'check the URL (run `mtls-oauth discover ISSUER` for the endpoints) and any proxy or gateway in front of the IdP',
      });
      break;
    case 'RESPONSE_INCOMPLETE':
      add({
        key: 'incomplete',
        score: 100,
        text: `the connection to ${host} broke in the middle of the response`,
        fix: err.hint,
      });
      break;
    case 'OAUTH_INVALID_CLIENT':
    case 'CLIENT_REFUSED': {
      const endpoint = (d.endpoint ?? url) as string | undefined;
      if (r && ours && r.clientCertRequested === false) {
        add({
          key: 'not-requested',
          score: 100,
          text: `no client certificate was requested on ${endpoint ?? r.target}, so none was sent`,
          fix: `use the mtls alias of that endpoint (mtls_endpoint_aliases in the discovery document: \`mtls-oauth discover ISSUER\` shows it, and --issuer makes every command use it) or have ${hostOf(endpoint) ?? r.target} request client certificates`,
        });
      } else if (r && !ours) {
        add({
          key: 'no-cert-configured',
          score: 100,
          text: 'no client certificate is configured, and the IdP authenticates this client by its certificate',
          fix: 'pass --cert FILE --key FILE (or --p12 FILE)',
        });
      } else if (r?.clientCertSent) {
        add({
          key: 'not-registered',
          score: 90,
          text: `the IdP received your certificate ${q(r.clientCertSent.subject)}${ours ? ` (from ${q(ours.issuer)})` : ''} but does not accept it for this client`,
          fix: `register exactly ${q(r.clientCertSent.subject)} as tls_client_auth_subject_dn (RFC 4514, character for character) or the certificate in the client's jwks (self_signed_tls_client_auth), check --client-id, and make the IdP trust the issuing CA`,
        });
      } else if (err.hint) {
        add({ key: 'oauth', score: 90, text: err.message, fix: err.hint });
      }
      break;
    }
    default:
      if (err.code.startsWith('OAUTH_') && err.hint) {
        add({ key: 'oauth', score: 90, text: err.message, fix: err.hint });
      }
  }
  return causes.sort((a, b) => b.score - a.score);
}

/**
 * The error to diagnose: a smoke report's failed step, when the outcome is one (the outcome's own
 * error only says "a step failed"), else the error itself.
 */
export function failureToDiagnose(error: FailureFacts, result: unknown): FailureFacts {
  return smokeStepError(result) ?? error;
}

function smokeStepError(result: unknown): FailureFacts | undefined {
  const steps = (result as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return undefined;
  for (const s of steps) {
    const e = (s as { status?: string; error?: FailureFacts }).error;
    if ((s as { status?: string }).status === 'fail' && e && typeof e.code === 'string') return e;
  }
  return undefined;
}

/** The verdict on each connection (verdict.ts), the failed one judged with the error it ended in. */
export function connectionVerdicts(
  err: FailureFacts,
  records: ConnectionRecord[],
): Array<{ record: ConnectionRecord; verdict: Verdict }> {
  const failedOn = recordsOf(err.details?.tls)[0];
  return records.map((record) => ({
    record,
    verdict: verdictOf({
      url: record.target,
      record,
      answered: (record.requests ?? 0) > 0,
      ...(record === failedOn && err.kind !== 'oauth' && err.kind !== 'check' ? { error: err } : {}),
    }),
  }));
}
