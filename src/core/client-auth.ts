// Client authentication at the token, introspection, revocation and PAR endpoints (RFC 6749 §2.3,
// RFC 7523 §2.2 private_key_jwt and client_secret_jwt (OIDC Core §9), RFC 8705 mutual TLS).

import { createPrivateKey, type JsonWebKey, type KeyObject, randomUUID } from 'node:crypto';
import { usageError } from './errors.ts';

export const AUTH_METHODS = [
  'tls_client_auth',
  'self_signed_tls_client_auth',
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export function parseAuthMethod(value: string): AuthMethod {
  if ((AUTH_METHODS as readonly string[]).includes(value)) return value as AuthMethod;
  throw usageError('UNKNOWN_AUTH_METHOD', `unknown client authentication method "${value}"`, {
    hint: `use one of: ${AUTH_METHODS.join(', ')}`,
  });
}

/** The methods that need the client secret. */
export function usesSecret(method: AuthMethod): boolean {
  return (
    method === 'client_secret_basic' || method === 'client_secret_post' || method === 'client_secret_jwt'
  );
}

/** The methods that send a signed client assertion (RFC 7523 §2.2). */
export function usesAssertion(method: AuthMethod): boolean {
  return method === 'private_key_jwt' || method === 'client_secret_jwt';
}

export function usesCertificate(method: AuthMethod): boolean {
  return method === 'tls_client_auth' || method === 'self_signed_tls_client_auth';
}

/** tls_client_auth when a certificate is configured, client_secret_basic with a secret, else none. */
export function defaultAuthMethod(o: {
  hasCertificate: boolean;
  hasSecret: boolean;
  hasSigningKey: boolean;
}) {
  if (o.hasCertificate) return 'tls_client_auth' as const;
  if (o.hasSigningKey) return 'private_key_jwt' as const;
  if (o.hasSecret) return 'client_secret_basic' as const;
  return 'none' as const;
}

export interface ClientCredentials {
  clientId: string;
  method: AuthMethod;
  clientSecret?: string;
  /** private_key_jwt: signs the assertion; given the claims, returns a compact JWS. */
  signAssertion?: JwtSigner;
  /** The algorithms the token endpoint accepts for assertions (discovery, or a security profile's). */
  assertionAlgs?: readonly string[];
  /** private_key_jwt and client_secret_jwt: the assertion's `aud` for every endpoint (the issuer, or a URL the IdP names);
   *  without it, the URL of the endpoint called (OIDC Core §9, RFC 7523 §3). */
  assertionAudience?: string;
}

export interface AuthenticatedRequest {
  form: Record<string, string>;
  headers: Record<string, string>;
  /** Whether the request must go over the client certificate (and so to the mTLS alias). */
  withClientCert: boolean;
}

// RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/** Adds client authentication to a request's form and headers for `endpoint`. */
export async function authenticate(
  c: ClientCredentials,
  endpoint: string,
  form: Record<string, string | undefined>,
): Promise<AuthenticatedRequest> {
  const body: Record<string, string> = {};
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body[k] = v;
  const headers: Record<string, string> = {};
  switch (c.method) {
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
    case 'none':
      // RFC 8705 §2: client_id in every request authenticated with a certificate.
      body.client_id = c.clientId;
      break;
    case 'client_secret_basic':
      if (!c.clientSecret) throw missingSecret(c.method);
      headers.authorization = `Basic ${Buffer.from(`${formEncode(c.clientId)}:${formEncode(c.clientSecret)}`).toString('base64')}`;
      break;
    case 'client_secret_post':
      if (!c.clientSecret) throw missingSecret(c.method);
      body.client_id = c.clientId;
      body.client_secret = c.clientSecret;
      break;
    case 'client_secret_jwt':
    case 'private_key_jwt': {
      const sign = c.method === 'private_key_jwt' ? c.signAssertion : secretSigner(c);
      if (!sign) {
        throw usageError('MISSING_SIGNING_KEY', 'private_key_jwt needs a signing key', {
          hint: 'pass --signing-key FILE (PEM or JWK) or MTLS_OAUTH_SIGNING_KEY',
        });
      }
      const now = Math.floor(Date.now() / 1000);
      body.client_id = c.clientId;
      body.client_assertion_type = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
      body.client_assertion = await sign(
        {
          iss: c.clientId,
          sub: c.clientId,
          aud: c.assertionAudience ?? endpoint,
          jti: randomUUID(),
          iat: now,
          exp: now + 60,
        },
        c.assertionAlgs ? { algs: c.assertionAlgs } : undefined,
      );
      break;
    }
  }
  return { form: body, headers, withClientCert: usesCertificate(c.method) };
}

/** client_secret_jwt: HMAC SHA-256 keyed with the client secret's octets (OIDC Core §9, RFC 7518 §3.2). */
function secretSigner(c: ClientCredentials) {
  const secret = c.clientSecret;
  if (!secret) throw missingSecret(c.method);
  return async (claims: Record<string, unknown>) => {
    const jose = await import('jose');
    return new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(new TextEncoder().encode(secret));
  };
}

function missingSecret(method: AuthMethod) {
  return usageError('MISSING_CLIENT_SECRET', `${method} needs a client secret`, {
    hint: 'set MTLS_OAUTH_CLIENT_SECRET (a flag would show it in the process list)',
  });
}

/** A private key from a private JWK, or a PEM / DER private key (the one signing-key reader). */
export async function readSigningKey(
  keyData: Buffer | string,
  source = 'the signing key',
): Promise<{ key: KeyObject; kid?: string }> {
  const data = typeof keyData === 'string' ? Buffer.from(keyData) : keyData;
  if (data.toString('latin1').trim().startsWith('{')) {
    try {
      const jwk = JSON.parse(data.toString('utf8')) as JsonWebKey & { kid?: string };
      return { key: createPrivateKey({ key: jwk, format: 'jwk' }), kid: jwk.kid };
    } catch (e) {
      throw usageError('BAD_KEY', `${source} is not a private JWK: ${(e as Error).message}`, {
        hint: 'give an unencrypted PEM private key or a private JWK',
      });
    }
  }
  const { isEncryptedKey, loadPrivateKey } = await import('./pki/pem.ts');
  if (isEncryptedKey(data)) {
    throw usageError('BAD_KEY', `${source} is encrypted; signing keys are read without a passphrase`, {
      hint: 'give an unencrypted key (`openssl pkey -in FILE -out PLAIN.pem` decrypts it)',
    });
  }
  return { key: loadPrivateKey(data, source) };
}

/** A signer for private_key_jwt and request objects (see readSigningKey for the key formats). */
export async function assertionSigner(
  keyData: Buffer | string,
  source = 'the signing key',
): Promise<JwtSigner> {
  const jose = await import('jose');
  const { key, kid } = await readSigningKey(keyData, source);
  algFor(key); // a key type that cannot sign is refused now, not at the first request
  return (claims, header) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({
        alg: algFor(key, header?.algs),
        typ: header?.typ ?? 'JWT',
        ...(kid ? { kid } : {}),
      })
      .sign(key);
}

/** Signs a JWT; `algs`: the algorithms the receiver accepts, when known (algFor chooses by them). */
export type JwtSigner = (
  claims: Record<string, unknown>,
  header?: { typ?: string; algs?: readonly string[] },
) => Promise<string>;

/**
 * The JWS algorithm for a signing key: ES256/ES384 or EdDSA by the key; for RSA, PS256 where the
 * receiver accepts it and not RS256 (`accepted`: its *_signing_alg_values_supported, or the FAPI
 * 2.0 Security Profile's list, which has only PS256, §5.4.1), else RS256.
 */
export function algFor(key: import('node:crypto').KeyObject, accepted?: readonly string[]): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return accepted?.includes('PS256') && !accepted.includes('RS256') ? 'PS256' : 'RS256';
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'ES384' : 'ES256';
    case 'ed25519':
      return 'EdDSA';
    default:
      throw usageError(
        'SIGNING_KEY_TYPE',
        `cannot sign client assertions with a ${key.asymmetricKeyType} key`,
      );
  }
}
