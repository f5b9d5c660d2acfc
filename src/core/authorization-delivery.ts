// How login's authorization request reaches the IdP: as query parameters of the URL the browser is
// sent to (RFC 6749 §4.1.1), as a signed request object (RFC 9101), or pushed to the PAR endpoint
// first (RFC 9126) so that the browser carries only client_id and request_uri; a request object
// may be pushed too.

import {
  type AuthorizationUrlInput,
  authorizationParams,
  authorizationUrl,
} from './authorization-request.ts';
import type { Metadata } from './discovery/metadata.ts';
import { type ParReason, type PushedRequest, parRequirement, pushAuthorizationRequest } from './par.ts';
import { type JwtSigner, requestObjectParams } from './request-object.ts';
import type { Session } from './session.ts';

export interface DeliveryOptions {
  /** --par: push the request even when the IdP does not require it. */
  par?: boolean;
  /** A security profile that requires PAR (--security-profile fapi2). */
  profileRequiresPar?: boolean;
  /** --request-object: sign the request with this signer (RFC 9101). */
  requestObject?: JwtSigner;
  /** The algorithms a security profile allows for the request object (fapi2.ts FAPI2_ALGS). */
  signingAlgs?: readonly string[];
}

/** The URL for the browser, the pushed request when PAR was used, the request object when signed. */
export interface DeliveredRequest {
  url: URL;
  pushed?: PushedRequest;
  requestObject?: string;
}

/** Why this login pushes its request, if it does: asked for, a profile, or required by the IdP. */
export function parReason(o: DeliveryOptions, metadata: Metadata): ParReason | undefined {
  if (o.par) return 'asked';
  if (o.profileRequiresPar) return 'profile';
  return parRequirement(metadata);
}

export async function deliverAuthorizationRequest(
  session: Session,
  metadata: Metadata,
  input: AuthorizationUrlInput,
  o: DeliveryOptions,
): Promise<DeliveredRequest> {
  let params = authorizationParams(input);
  let requestObject: string | undefined;
  if (o.requestObject) {
    // RFC 9101 §4: aud is the IdP's issuer identifier.
    const signed = await requestObjectParams(o.requestObject, params, {
      clientId: input.clientId,
      audience: metadata.issuer,
      // The profile's algorithms, else what the IdP says it takes (an RSA key signs PS256 where RS256 is not taken).
      algs: o.signingAlgs ?? stringsOf(metadata.request_object_signing_alg_values_supported),
    });
    params = signed.params;
    requestObject = signed.jwt;
  }
  const reason = parReason(o, metadata);
  const extra = requestObject ? { requestObject } : {};
  if (!reason) return { url: authorizationUrl(input.authorizationEndpoint, params), ...extra };
  const pushed = await pushAuthorizationRequest(session, {
    authorizationEndpoint: input.authorizationEndpoint,
    params,
    reason,
  });
  return { url: pushed.url, pushed, ...extra };
}

/** A metadata member that should be a list of strings, if it is one. */
function stringsOf(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;
}
