// Pushed Authorization Requests (RFC 9126): the authorization request's parameters are POSTed to
// the IdP's pushed_authorization_request_endpoint (its mTLS alias with a certificate, RFC 8705 §5),
// authenticated like the token endpoint (§2); the browser then gets only client_id and the
// request_uri the IdP answered with (§4), so nothing of the request travels through it.

import { authorizationUrl, type ExtraParams } from './authorization-request.ts';
import type { Check } from './check.ts';
import type { Metadata } from './discovery/metadata.ts';
import { MtlsOAuthError, usageError } from './errors.ts';
import { redactJson } from './redact.ts';
import { describeEndpoint, type Endpoint, type Session } from './session.ts';
import { authenticatedPost } from './token-endpoint.ts';

export const PAR_STEP = 'pushed authorization request';

/** Why PAR is used for a login: asked for (--par, a profile), or required by the IdP or the client. */
export type ParReason = 'asked' | 'required by the IdP' | 'profile';

export interface PushedRequest {
  endpoint: Endpoint;
  requestUri: string;
  /** Seconds the request_uri stays valid (RFC 9126 §2.2). */
  expiresIn: number;
  /** The URL for the browser: the authorization endpoint with client_id and request_uri only. */
  url: URL;
  reason: ParReason;
}

/**
 * Whether a login must push its request by the IdP's policy (require_pushed_authorization_requests,
 * RFC 9126 §5). A client registered to require PAR (§6) is not visible in the metadata: --par.
 */
export function parRequirement(
  metadata: Pick<Metadata, 'require_pushed_authorization_requests'>,
): ParReason | undefined {
  return metadata.require_pushed_authorization_requests === true ? 'required by the IdP' : undefined;
}

/** The PAR endpoint for this session, or a usage error naming why PAR was wanted. */
export function parEndpoint(session: Session, reason: ParReason): Endpoint {
  if (!session.hasEndpoint('pushed_authorization_request')) {
    throw usageError(
      'PAR_UNAVAILABLE',
      `pushed authorization requests (RFC 9126) are ${reason === 'asked' ? 'asked for (--par)' : reason}, but the IdP's metadata has no pushed_authorization_request_endpoint`,
      {
        hint: 'check `mtls-oauth discover ISSUER`: the IdP may not support PAR; drop --par (and --profile) to send the request through the browser',
      },
    );
  }
  return session.endpoint('pushed_authorization_request');
}

/**
 * Pushes `params` (the authorization request, or client_id and a request object) and returns the
 * browser's URL. The IdP's error answers are OAuth errors (exit 4) explained like token errors.
 */
export async function pushAuthorizationRequest(
  session: Session,
  o: { authorizationEndpoint: string; params: ExtraParams; reason: ParReason },
): Promise<PushedRequest> {
  const endpoint = parEndpoint(session, o.reason);
  const form: Record<string, string> = {};
  for (const [k, v] of o.params) {
    // A form field appears once; a repeated extra parameter (e.g. resource) joins with a space as scope does.
    form[k] = form[k] === undefined ? v : `${form[k]} ${v}`;
  }
  const { body, http } = await authenticatedPost(session.client, endpoint.url, PAR_STEP, form, [201, 200]);
  const b = (body ?? {}) as Record<string, unknown>;
  const bad = (why: string) =>
    new MtlsOAuthError('oauth', 'BAD_PAR_RESPONSE', `${PAR_STEP}: the response ${why}`, {
      hint: 'the IdP answered with a document that is not an RFC 9126 §2.2 response (request_uri, expires_in)',
      details: { status: http.status, url: endpoint.url, response: redactJson(body) },
    });
  if (typeof b.request_uri !== 'string' || b.request_uri === '') throw bad('has no request_uri');
  if (typeof b.expires_in !== 'number' || !Number.isFinite(b.expires_in) || b.expires_in <= 0) {
    throw bad('has no positive expires_in');
  }
  // §4: client_id and request_uri only (the endpoint's own query parameters are kept).
  const url = authorizationUrl(o.authorizationEndpoint, [
    ['client_id', session.credentials.clientId],
    ['request_uri', b.request_uri],
  ]);
  return { endpoint, requestUri: b.request_uri, expiresIn: b.expires_in, url, reason: o.reason };
}

/** The `par` check of a login report. */
export function parCheck(pushed: PushedRequest | undefined, metadata: Metadata): Check {
  if (pushed) {
    return {
      name: 'par',
      status: 'pass',
      detail: `request pushed to ${describeEndpoint(pushed.endpoint)} (${pushed.reason}); the browser got only client_id and request_uri (valid ${pushed.expiresIn} s)`,
    };
  }
  return {
    name: 'par',
    status: 'skip',
    detail: metadata.pushed_authorization_request_endpoint
      ? 'not used: the IdP offers PAR without requiring it (--par pushes the request)'
      : 'not used: the IdP does not offer PAR (no pushed_authorization_request_endpoint)',
  };
}
