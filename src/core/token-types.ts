// Token type identifiers of token exchange (RFC 8693 §3): the URNs on the wire, and the short
// names the CLI accepts for them (`--subject-token-type access_token`).

const PREFIX = 'urn:ietf:params:oauth:token-type:';

/** The registered token types (RFC 8693 §3, RFC 9068 has none of its own). */
export const TOKEN_TYPES = ['access_token', 'refresh_token', 'id_token', 'jwt', 'saml1', 'saml2'] as const;

export const ACCESS_TOKEN_TYPE = `${PREFIX}access_token`;

/**
 * A token type as the request carries it: a short name becomes its URN; any absolute URI is kept
 * (a deployment may define its own, RFC 8693 §3); anything else is undefined.
 */
export function tokenTypeUri(value: string): string | undefined {
  const v = value.trim();
  if ((TOKEN_TYPES as readonly string[]).includes(v)) return `${PREFIX}${v}`;
  return /^[a-z][a-z0-9+.-]*:\S+$/i.test(v) ? v : undefined;
}

/** The short name of a registered token type URN, for display; other URIs unchanged. */
export function tokenTypeName(uri: string): string {
  return uri.startsWith(PREFIX) ? uri.slice(PREFIX.length) : uri;
}
