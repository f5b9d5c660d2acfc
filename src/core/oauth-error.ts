// OAuth error responses (RFC 6749 §5.2) as MtlsOAuthErrors whose hints know about mutual TLS:
// for invalid_client with a certificate method they name what the certificate carries and what the
// connection record says was (or was not) sent.

import { verdictOf } from './diagnosis/verdict.ts';
import { oauthErrorCode } from './error-codes.ts';
import { MtlsOAuthError } from './errors.ts';
import { redactJson, redactText } from './redact.ts';
import { type ConnectionRecord, sanList } from './transport/diagnostics.ts';
import type { ClientIdentity } from './transport/identity.ts';

export interface OAuthErrorBody {
  error: string;
  error_description?: string;
  error_uri?: string;
}

export function isOAuthErrorBody(v: unknown): v is OAuthErrorBody {
  return (
    !!v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    typeof (v as Record<string, unknown>).error === 'string' &&
    (v as Record<string, unknown>).error !== ''
  );
}

export interface OAuthErrorContext {
  /** "token request", "introspection", "revocation" */
  step: string;
  status: number;
  body: OAuthErrorBody;
  authMethod: string;
  clientId?: string;
  identity?: ClientIdentity;
  /** The connection the request went over (what was requested, what was sent). */
  connection?: ConnectionRecord;
  endpoint: string;
}

/** `subject DN "CN=kong,O=Example", SANs dns:kong.example` (or `no SANs`). */
export function certificateFacts(identity: ClientIdentity): string {
  const sans = sanList(identity.certificate.subjectAltName);
  return `subject DN "${identity.subjectDn}", ${sans.length ? `SANs ${sans.join(', ')}` : 'no SANs'}`;
}

/** The verdict warnings that explain a refused client by what its connection carried. */
const CONNECTION_EXPLAINS = new Set([
  'TLS_CLIENT_CERT_NOT_REQUESTED',
  'TLS_NO_CLIENT_CERT',
  'TLS_CLIENT_CERT_NOT_SENT',
  'TLS_CLIENT_CA_NOT_LISTED',
  'PLAIN_HTTP',
]);

function invalidClientWithCertificate(c: OAuthErrorContext): string {
  const host = (() => {
    try {
      return new URL(c.endpoint).host;
    } catch {
      return c.endpoint;
    }
  })();
  const conn = c.connection;
  // What the connection says first: the one verdict on it (diagnosis/verdict.ts), as `tls` gives it.
  // A self-signed certificate is never among the CAs a server names: with
  // self_signed_tls_client_auth the list does not matter.
  const v = conn ? verdictOf({ url: c.endpoint, record: conn, status: c.status }) : undefined;
  if (
    v?.code &&
    CONNECTION_EXPLAINS.has(v.code) &&
    !(v.code === 'TLS_CLIENT_CA_NOT_LISTED' && c.authMethod !== 'tls_client_auth')
  ) {
    return `${v.message}; ${v.hint}`;
  }
  if (!c.identity) {
    return 'no client certificate was sent (none is configured): pass --cert FILE --key FILE (or --p12 FILE)';
  }
  if (conn && !conn.clientCertSent) {
    return `no client certificate was sent on the connection to ${host}; run with -v to see the TLS handshake`;
  }
  if (c.authMethod === 'self_signed_tls_client_auth') {
    return `with self_signed_tls_client_auth the IdP looks for this exact certificate (x5t#S256 ${c.identity.x5tS256}) in the jwks or jwks_uri registered for client "${c.clientId ?? '?'}"; a regenerated certificate must be registered again`;
  }
  return `the certificate sent has ${certificateFacts(c.identity)}, issued by "${c.identity.issuerDn}". With tls_client_auth the IdP compares the value registered for client "${c.clientId ?? '?'}" (tls_client_auth_subject_dn, or one tls_client_auth_san_* entry) with it exactly, character for character, and the IdP must trust the issuing CA; check the registration, the client_id and the CA`;
}

/** A plain-language hint for an OAuth error, using what we know of the TLS connection. */
export function oauthHint(c: OAuthErrorContext): string | undefined {
  const mtls = c.authMethod === 'tls_client_auth' || c.authMethod === 'self_signed_tls_client_auth';
  const e = c.body.error;
  if (e === 'invalid_client' && mtls) return invalidClientWithCertificate(c);
  if (c.status === 404 || c.status === 405) {
    return `HTTP ${c.status}: the endpoint URL ${c.endpoint} is probably wrong; check discovery (\`mtls-oauth discover ISSUER\`) or the --*-endpoint flag`;
  }
  // Several IdPs (oidc-provider among them) answer a wrong redirect_uri with invalid_request.
  if (e === 'invalid_request' && /redirect_uri/.test(c.body.error_description ?? '')) {
    return oauthHint({ ...c, body: { ...c.body, error: 'invalid_redirect_uri' } });
  }
  switch (e) {
    case 'invalid_client':
      return `the IdP did not accept the client credentials (${c.authMethod}): check --client-id, --auth and the secret or signing key`;
    case 'unauthorized_client':
      return 'the client is not allowed to use this grant: add it to the client registration (grant_types)';
    case 'invalid_grant':
      return 'the code, refresh token or credentials were not accepted: expired, already used, revoked, or issued to another client or certificate (a certificate-bound refresh token works only with that certificate)';
    case 'invalid_scope':
      return 'request only scopes the client is registered for (--scope)';
    case 'unsupported_grant_type':
      return 'the IdP does not support this grant type (see grant_types_supported in `mtls-oauth discover ISSUER`)';
    case 'unsupported_token_type':
      return 'the IdP cannot revoke this kind of token; try another --token-type-hint, or revoke the refresh token';
    case 'invalid_redirect_uri':
      return 'the redirect_uri is not registered for this client: register the loopback URI (http://127.0.0.1/callback: any port, RFC 8252 §7.3) or give the registered one with --redirect-uri';
    case 'invalid_request_object':
      return 'the IdP refused the signed request object: register the public key of --signing-key for the client (jwks or jwks_uri) and check its algorithm against request_object_signing_alg_values_supported';
    case 'invalid_request_uri':
      return 'the pushed request (request_uri) expired or was used already: start the login again';
    case 'invalid_request':
      return 'the IdP rejected the request as malformed or missing a parameter; run with -v to see it';
    case 'invalid_target':
      return 'the IdP does not know the --resource (RFC 8707) or --audience value';
    case 'access_denied':
      return 'the IdP refused the request for this client or user';
    case 'temporarily_unavailable':
    case 'server_error':
      return 'the IdP failed; retry later and look at its logs';
    default:
      return undefined;
  }
}

/** The code of an HTTP 401/403 without an OAuth error body: the IdP refusing the client all the same. */
export const CLIENT_REFUSED = 'CLIENT_REFUSED';
/** The OAuth error a refusal stands for (smoke's --expect-fail token=invalid_client accepts it). */
export const CLIENT_REFUSED_AS = 'invalid_client';

/**
 * An HTTP 401 or 403 without an OAuth error body from the token, introspection or revocation
 * endpoint: the IdP answered, and refused the client (several IdPs send a bare 401/403). An OAuth
 * error (exit 4) with the hint invalid_client would get.
 */
export function clientRefused(c: Omit<OAuthErrorContext, 'body'> & { bodyStart: string }): MtlsOAuthError {
  const hint = oauthHint({ ...c, body: { error: CLIENT_REFUSED_AS } });
  return new MtlsOAuthError(
    'oauth',
    CLIENT_REFUSED,
    `${c.step} failed: the IdP refused the client with HTTP ${c.status} and ${c.bodyStart ? `no OAuth error: "${c.bodyStart}"` : 'an empty body'}`,
    {
      hint,
      details: {
        status: c.status,
        endpoint: c.endpoint,
        ...(c.connection ? { tls: c.connection } : {}),
      },
    },
  );
}

export function oauthError(c: OAuthErrorContext): MtlsOAuthError {
  // The IdP's words, with anything token-shaped in them redacted (errors are printed and kept by CI).
  const desc = c.body.error_description ? `: ${redactText(c.body.error_description)}` : '';
  const hint = oauthHint(c);
  const uri = c.body.error_uri ? ` (more: ${c.body.error_uri})` : '';
  return new MtlsOAuthError(
    'oauth',
    oauthErrorCode(c.body.error),
    `${c.step} failed: ${c.body.error}${desc} (HTTP ${c.status})`,
    {
      hint: hint || uri ? `${hint ?? 'see the IdP documentation'}${uri}` : undefined,
      details: {
        status: c.status,
        response: redactJson(c.body),
        endpoint: c.endpoint,
        ...(c.connection ? { tls: c.connection } : {}),
      },
    },
  );
}
