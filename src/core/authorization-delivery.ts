// How login's authorization request reaches the IdP: as query parameters of the URL the browser is
// sent to (RFC 6749 §4.1.1), or pushed to the PAR endpoint first (RFC 9126) so that the browser
// carries only client_id and request_uri.

import {
  type AuthorizationUrlInput,
  authorizationParams,
  authorizationUrl,
} from './authorization-request.ts';
import type { Metadata } from './discovery/metadata.ts';
import { type ParReason, type PushedRequest, parRequirement, pushAuthorizationRequest } from './par.ts';
import type { Session } from './session.ts';

export interface DeliveryOptions {
  /** --par: push the request even when the IdP does not require it. */
  par?: boolean;
}

/** The URL for the browser, and the pushed request when PAR was used. */
export interface DeliveredRequest {
  url: URL;
  pushed?: PushedRequest;
}

/** Why this login pushes its request, if it does: asked for, or required by the IdP. */
export function parReason(o: DeliveryOptions, metadata: Metadata): ParReason | undefined {
  if (o.par) return 'asked';
  return parRequirement(metadata);
}

export async function deliverAuthorizationRequest(
  session: Session,
  metadata: Metadata,
  input: AuthorizationUrlInput,
  o: DeliveryOptions,
): Promise<DeliveredRequest> {
  const params = authorizationParams(input);
  const reason = parReason(o, metadata);
  if (!reason) return { url: authorizationUrl(input.authorizationEndpoint, params) };
  const pushed = await pushAuthorizationRequest(session, {
    authorizationEndpoint: input.authorizationEndpoint,
    params,
    reason,
  });
  return { url: pushed.url, pushed };
}
