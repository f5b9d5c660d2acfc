// The refresh token for the smoke test's refresh_token grant.

import type { Settings } from '../config.ts';
import { usageError } from '../errors.ts';
import type { CachedTokens, TokenCache } from '../token-cache.ts';

/** A refresh token and where it came from; `cached`: the cache entry it was read from. */
export interface CachedRefreshToken {
  token: string;
  source: string;
  cached?: { key: string; entry: CachedTokens };
}

/**
 * The refresh token for `grant refresh_token`: from the environment variable named by
 * --refresh-token-env, else the token cache: the newest entry of this client at this issuer (and
 * token endpoint, when one is set). Its key is only known once discovery names the token endpoint,
 * so the entry is found by what it records; stepToken sends it only to the issuer's origins
 * (token-origin.ts). A usage error when there is none.
 */
export function refreshTokenFor(o: {
  envVar?: string;
  env?: NodeJS.ProcessEnv;
  cache?: TokenCache;
  settings: Settings;
  /** x5t#S256 of the certificate this run uses: a cached token from another one gets a warning. */
  x5tS256?: string;
  warn?: (message: string) => void;
}): CachedRefreshToken {
  const env = o.env ?? process.env;
  if (o.envVar) {
    const v = env[o.envVar]?.trim();
    if (!v) {
      throw usageError(
        'NO_REFRESH_TOKEN',
        `--refresh-token-env ${o.envVar}: the variable is not set or empty`,
        {
          hint: `export ${o.envVar}=... (in CI, from the secret store)`,
        },
      );
    }
    return { token: v, source: `environment variable ${o.envVar}` };
  }
  const { issuer, tokenEndpoint, clientId } = o.settings;
  const found =
    o.cache && clientId && (issuer || tokenEndpoint)
      ? o.cache.find(
          (e) =>
            e.client_id === clientId &&
            !!e.refresh_token &&
            (issuer ? e.issuer === issuer : !e.issuer) &&
            (!tokenEndpoint || e.token_endpoint === tokenEndpoint),
        )[0]
      : undefined;
  if (!found) {
    throw usageError(
      'NO_REFRESH_TOKEN',
      `the refresh_token grant needs a refresh token, and ${o.cache ? `the token cache (${o.cache.file}) has none for client ${clientId ?? '?'}` : '--no-cache leaves only --refresh-token-env'}`,
      {
        hint: 'pass --refresh-token-env VAR naming an environment variable that holds it, or get one first with `mtls-oauth login` (scope offline_access): it is cached',
      },
    );
  }
  const [key, entry] = found;
  if (entry.x5t_s256 && o.x5tS256 && entry.x5t_s256 !== o.x5tS256) {
    o.warn?.(
      `the cached refresh token was obtained with another client certificate (x5t#S256 ${entry.x5t_s256}): a certificate-bound refresh token works only with that certificate`,
    );
  }
  return { token: entry.refresh_token!, source: `token cache ${o.cache!.file}`, cached: { key, entry } };
}
