// Where a cached token may be sent: only to the origins (scheme://host:port) of the issuer it was
// obtained from. A config file in the current directory, an environment variable or a flag may point
// an endpoint elsewhere; a token the user gives explicitly goes there (with the usual warnings), a
// cached one never does: a checkout must not be able to collect the user's tokens.
//
// The origins of an issuer: its own, the token endpoint the tokens came from, and every endpoint in
// its discovery metadata (validated against the issuer: discovery/), mTLS aliases included.
// Endpoints configured for introspection or revocation are not among them: they are exactly what a
// hostile config file sets.

import type { Metadata } from './discovery/metadata.ts';
import { usageError } from './errors.ts';
import type { CachedTokens } from './token-cache.ts';

/** scheme://host:port of a URL, or undefined for a string that is not one. */
export function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const o = new URL(url).origin;
    return o === 'null' ? undefined : o;
  } catch {
    return undefined;
  }
}

/** Every URL in discovery metadata that names an endpoint (members *_endpoint, mTLS aliases). */
function metadataUrls(metadata: Metadata | undefined): string[] {
  if (!metadata) return [];
  const urls: string[] = [];
  for (const [name, value] of Object.entries(metadata)) {
    if (name.endsWith('_endpoint') && typeof value === 'string') urls.push(value);
  }
  for (const value of Object.values(metadata.mtls_endpoint_aliases ?? {})) {
    if (typeof value === 'string') urls.push(value);
  }
  return urls;
}

/** The origins tokens from this issuer may go to (recorded in each cache entry). */
export function issuerOrigins(o: {
  issuer?: string;
  tokenEndpoints: string[];
  metadata?: Metadata;
}): string[] {
  const all = [o.issuer, ...o.tokenEndpoints, ...metadataUrls(o.metadata)].map(originOf);
  return [...new Set(all.filter((x): x is string => !!x))];
}

/** The origins a cache entry allows: those it recorded, else its issuer's and token endpoint's. */
function allowedOrigins(entry: CachedTokens, run: { issuer?: string; metadata?: Metadata }): Set<string> {
  const recorded = Array.isArray(entry.origins) ? entry.origins.filter((x) => typeof x === 'string') : [];
  const allowed = new Set(
    recorded.length
      ? recorded
      : issuerOrigins({ issuer: entry.issuer, tokenEndpoints: [entry.token_endpoint ?? ''] }),
  );
  // This run's metadata, discovered from the same issuer, is that issuer's word on its endpoints.
  if (run.metadata && entry.issuer && run.issuer === entry.issuer) {
    for (const origin of issuerOrigins({ tokenEndpoints: [], metadata: run.metadata })) allowed.add(origin);
  }
  return allowed;
}

/**
 * Throws a usage error (CACHED_TOKEN_ELSEWHERE) unless the cached `what` ("access token") may be sent
 * to `target`: an endpoint of the issuer it was obtained from.
 */
export function assertCachedTokenTarget(
  entry: CachedTokens,
  target: { url: string; source?: string },
  o: { what: string; issuer?: string; metadata?: Metadata },
): void {
  const origin = originOf(target.url);
  if (origin && allowedOrigins(entry, o).has(origin)) return;
  const from = entry.issuer ?? entry.token_endpoint ?? 'another IdP';
  throw usageError(
    'CACHED_TOKEN_ELSEWHERE',
    `the cached ${o.what} was obtained from ${from} and is not sent to ${target.url}${target.source ? ` (set by ${target.source})` : ''}: another origin`,
    {
      hint: `if that endpoint is meant to receive it, give the token yourself ("-" reads it from stdin); otherwise remove the setting${target.source ? ` (${target.source})` : ''}`,
      details: { origin, allowed: [...allowedOrigins(entry, o)] },
    },
  );
}
