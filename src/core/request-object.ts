// Signed authorization requests (RFC 9101, JAR): the authorization request's parameters as the
// claims of a JWT signed with the client's key (--signing-key), sent as the `request` parameter
// with client_id beside it (§5), through the browser or pushed by PAR (RFC 9126 §3). The IdP
// verifies it with the public key registered for the client (jwks or jwks_uri).

import { randomUUID } from 'node:crypto';
import type { ExtraParams } from './authorization-request.ts';
import type { Check } from './check.ts';
import type { JwtSigner } from './client-auth.ts';
import type { Settings } from './config.ts';
import { usageError } from './errors.ts';

/** Signs claims with a header; assertionSigner (client-auth.ts) makes one from a key file. */
export type { JwtSigner } from './client-auth.ts';

/** RFC 9101 §10.8: the media type of a request object, in its `typ` header. */
export const REQUEST_OBJECT_TYP = 'oauth-authz-req+jwt';

/** Lifetime of a request object; short, as FAPI 2.0 Message Signing asks (under 60 minutes). */
const LIFETIME_SECONDS = 300;

/**
 * The request object's claims: every authorization parameter (a repeated one, e.g. resource, as an
 * array), plus iss (the client), aud (the issuer, RFC 9101 §4), iat, nbf, exp and jti.
 */
export function requestObjectClaims(
  params: ExtraParams,
  o: { clientId: string; audience: string; now?: number },
): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [k, v] of params) {
    const prev = claims[k];
    claims[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const now = o.now ?? Math.floor(Date.now() / 1000);
  return {
    ...claims,
    iss: o.clientId,
    aud: o.audience,
    client_id: o.clientId,
    iat: now,
    nbf: now,
    exp: now + LIFETIME_SECONDS,
    jti: randomUUID(),
  };
}

/** The parameters that carry a signed request object: client_id and request (RFC 9101 §5). */
export async function requestObjectParams(
  sign: JwtSigner,
  params: ExtraParams,
  o: { clientId: string; audience: string; algs?: readonly string[] },
): Promise<{ params: Array<[string, string]>; jwt: string }> {
  const jwt = await sign(requestObjectClaims(params, o), {
    typ: REQUEST_OBJECT_TYP,
    ...(o.algs ? { algs: o.algs } : {}),
  });
  return {
    params: [
      ['client_id', o.clientId],
      ['request', jwt],
    ],
    jwt,
  };
}

/** The `request_object` check of a login report. */
export function requestObjectCheck(jwt: string | undefined): Check {
  if (!jwt) {
    return {
      name: 'request_object',
      status: 'skip',
      detail: 'not used (--request-object signs the request)',
    };
  }
  const header = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8')) as {
    alg?: string;
    kid?: string;
  };
  return {
    name: 'request_object',
    status: 'pass',
    detail: `the authorization request was sent as a signed request object (${header.alg}${header.kid ? `, kid ${header.kid}` : ''}) and the IdP accepted it`,
  };
}

/** The signer of --request-object: the --signing-key (PEM or JWK), the same reader as private_key_jwt. */
export async function requestObjectSigner(settings: Pick<Settings, 'signingKey'>): Promise<JwtSigner> {
  if (!settings.signingKey) {
    throw usageError('MISSING_SIGNING_KEY', '--request-object needs a signing key', {
      hint: 'pass --signing-key FILE (PEM or JWK; MTLS_OAUTH_SIGNING_KEY) whose public key is registered for the client (jwks or jwks_uri)',
    });
  }
  const [{ assertionSigner }, { readSigningKeyFile }] = await Promise.all([
    import('./client-auth.ts'),
    import('./session.ts'),
  ]);
  return assertionSigner(readSigningKeyFile(settings.signingKey), settings.signingKey);
}
