// Client registrations for the embedded IdP, made from a client certificate (RFC 8705 §2).

import type { X509Certificate } from 'node:crypto';
import { rfc4514Subject } from './referee.ts';
import type { ClientMetadata } from './server.ts';

/** Where a native client's loopback redirect may land (any port, RFC 8252 §7.3). */
export const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1/callback';

/**
 * tls_client_auth (RFC 8705 §2.1): the certificate's subject DN as tls_client_auth_subject_dn
 * (computed by the referee, src/idp/referee.ts); client credentials, the authorization-code flow
 * with a loopback redirect, refresh tokens; tokens bound to the certificate.
 */
export function tlsClientAuthClient(clientId: string, cert: X509Certificate): ClientMetadata {
  return {
    client_id: clientId,
    application_type: 'native', // loopback redirect URIs on any port (RFC 8252 §7.3)
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: rfc4514Subject(cert),
    tls_client_certificate_bound_access_tokens: true,
    // The password grant (which Kong supports) does not exist in oidc-provider.
    grant_types: [
      'client_credentials',
      'authorization_code',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:token-exchange', // src/idp/grants.ts
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
      'urn:ietf:params:oauth:grant-type:device_code', // login --device
    ],
    response_types: ['code'],
    redirect_uris: [LOOPBACK_REDIRECT_URI],
    scope: 'openid offline_access api:read',
  };
}

/**
 * self_signed_tls_client_auth (RFC 8705 §2.2): the certificate itself registered in the client's
 * jwks (x5c); the chain is not checked, the certificate must be this one. Client credentials only.
 */
export function selfSignedClient(clientId: string, cert: X509Certificate): ClientMetadata {
  return {
    client_id: clientId,
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    tls_client_certificate_bound_access_tokens: true,
    jwks: {
      keys: [{ ...cert.publicKey.export({ format: 'jwk' }), use: 'sig', x5c: [cert.raw.toString('base64')] }],
    },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'api:read',
  };
}
