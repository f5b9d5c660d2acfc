// A session: everything a command needs to talk to one IdP as one client, built from Settings.
//
//   const s = await openSession({ settings, operations: ['token'], log, warn });
//   try {
//     const { url, via } = s.endpoint('token');      // RFC 8705 §5: the mTLS alias with a certificate
//     const r = await tokenRequest(s.client, url, { grant_type: 'client_credentials' });
//   } finally {
//     await s.close();
//   }
//
// - identity: the client certificate and key (--cert/--key or --p12), loaded and checked up front;
// - http: one HttpClient (--ca, --ca-mode, --insecure, --timeout, the verbose log);
// - credentials: the client authentication method (--auth; default tls_client_auth with a
//   certificate, else private_key_jwt with --signing-key, else client_secret_basic with a secret,
//   else none), the client secret, the private_key_jwt signer;
// - metadata: discovered when --issuer is set and some operation the command needs has no explicit
//   endpoint (--token-endpoint, --introspection-endpoint, --revocation-endpoint,
//   --authorization-endpoint);
// - endpoint(op): the URL for an operation and where it came from ('authorization' included, for
//   login: never an alias, it is the browser's);
// - cacheKey(): the token cache entry for this issuer, token endpoint and client; origins(): where
//   tokens from this issuer may be sent (token-origin.ts).
//
// Used by token, introspect, revoke, login and smoke.

import {
  type AuthMethod,
  assertionSigner,
  type ClientCredentials,
  defaultAuthMethod,
  parseAuthMethod,
  usesAssertion,
  usesCertificate,
  usesSecret,
} from './client-auth.ts';
import type { ResolvedSettings, Settings } from './config.ts';
import type { Metadata } from './discovery/metadata.ts';
import { endpointChoice, type Operation as MetadataOperation } from './discovery/mtls.ts';
import { usageError } from './errors.ts';
import { readInputFile } from './files.ts';
import { cacheKey } from './token-cache.ts';
import type { OAuthClient } from './token-endpoint.ts';
import { issuerOrigins, originOf } from './token-origin.ts';
import { parseConnectTo } from './transport/connect-to.ts';
import type { HttpClient, HttpClientOptions } from './transport/http-client.ts';
import type { ClientIdentity } from './transport/identity.ts';

/**
 * An endpoint a command calls: the back-channel operations of discovery/mtls.ts, plus the
 * browser-facing authorization endpoint (login), which never has an mTLS alias.
 */
export type Operation = MetadataOperation | 'authorization';

/** Where an endpoint URL came from: the mtls_endpoint_aliases entry, the plain metadata member, or a setting. */
export type EndpointVia = 'mtls alias' | 'endpoint' | 'setting';

export interface Endpoint {
  url: string;
  via: EndpointVia;
  /** For a setting: where it came from ('flag', 'env MTLS_OAUTH_TOKEN_ENDPOINT', 'profile "ci" in FILE'). */
  source?: string;
}

/** "https://idp/token (mtls alias)", "https://idp/token (env MTLS_OAUTH_TOKEN_ENDPOINT)" */
export function describeEndpoint(e: Endpoint): string {
  return `${e.url} (${e.source ?? e.via})`;
}

export interface SessionOptions {
  settings: Settings;
  /** Where each setting came from (resolveSettings), to label endpoints with their real source. */
  sources?: ResolvedSettings['sources'];
  /**
   * The command reads or writes the token cache, whose key needs the token endpoint: discovery
   * runs for it too when it is not set.
   */
  forCache?: boolean;
  /**
   * The operations the command will call. Discovery runs only when --issuer is set and one of them
   * has no explicit endpoint flag; an operation with neither is a usage error here, before any
   * request. Default: all three.
   */
  operations?: Operation[];
  /** Verbose sink for requests, responses and connections (secrets redacted). */
  log?: (line: string) => void;
  /** Print secrets in full in the verbose log. */
  showSecrets?: boolean;
  /** Warnings for the user (stderr): --insecure, an mTLS method without a certificate, ... */
  warn?: (message: string) => void;
}

const FLAG_OF: Partial<Record<Operation, keyof Settings>> = {
  authorization: 'authorizationEndpoint',
  token: 'tokenEndpoint',
  introspection: 'introspectionEndpoint',
  revocation: 'revocationEndpoint',
};
const FLAG_NAME: Partial<Record<Operation, string>> = {
  authorization: '--authorization-endpoint',
  token: '--token-endpoint',
  introspection: '--introspection-endpoint',
  revocation: '--revocation-endpoint',
};

export interface Session {
  readonly settings: Settings;
  /** The client certificate, when one is configured. */
  readonly identity?: ClientIdentity;
  readonly http: HttpClient;
  readonly credentials: ClientCredentials;
  /** Validated discovery metadata, when discovery ran. */
  readonly metadata?: Metadata;
  /** The issuer (--issuer), if any. */
  readonly issuer?: string;
  /** What token-endpoint.ts needs. */
  readonly client: OAuthClient;
  /** Whether calls present the client certificate (and so go to mTLS aliases): a certificate is configured. */
  readonly withClientCert: boolean;
  /** The IdP advertises tls_client_certificate_bound_access_tokens (undefined without metadata). */
  readonly idpBindsTokens?: boolean;
  /** The URL for an operation, and where it came from. Throws a usage error when unknown. */
  endpoint(op: Operation): Endpoint;
  /** Whether an endpoint for the operation is known (flag or metadata). */
  hasEndpoint(op: Operation): boolean;
  /** The token cache key for this issuer, token endpoint and client, when the token endpoint is known. */
  cacheKey(): string | undefined;
  /** The origins of this issuer's endpoints, which tokens obtained here may be sent to (token-origin.ts). */
  origins(): string[];
  /** Whether a URL is at one of origins(): where a token obtained here may be sent. */
  belongsToIssuer(url: string): boolean;
  /** Closes every connection. */
  close(): Promise<void>;
}

/**
 * Chooses an operation's URL (RFC 8705 §5): an explicit flag wins; otherwise, with a client
 * certificate, the mtls_endpoint_aliases entry where there is one, else the plain endpoint; without
 * a certificate never an alias.
 */
export function chooseEndpoint(
  op: Operation,
  o: {
    settings: Settings;
    metadata?: Metadata;
    withClientCert: boolean;
    sources?: ResolvedSettings['sources'];
  },
): Endpoint | undefined {
  const flag = FLAG_OF[op];
  const explicit = flag ? o.settings[flag] : undefined;
  if (typeof explicit === 'string') {
    const source = flag && o.sources?.[flag];
    return { url: explicit, via: 'setting', ...(source ? { source } : {}) };
  }
  if (!o.metadata) return undefined;
  if (op === 'authorization') {
    const url = o.metadata.authorization_endpoint;
    return typeof url === 'string' ? { url, via: 'endpoint' } : undefined;
  }
  const c = endpointChoice(o.metadata, op, { withCert: o.withClientCert });
  return c && { url: c.url, via: c.via === 'alias' ? 'mtls alias' : 'endpoint' };
}

/** The DPoP signer for --dpop / --dpop-key (RFC 9449), if asked for. */
export async function dpopSignerFor(settings: Pick<Settings, 'dpop' | 'dpopKey'>) {
  if (!settings.dpop && !settings.dpopKey) return undefined;
  const { createDpopSigner } = await import('./dpop.ts');
  const data = settings.dpopKey
    ? readInputFile(settings.dpopKey, 'the DPoP key', 'check --dpop-key (a PEM private key or a private JWK)')
    : undefined;
  return createDpopSigner(data, `the DPoP key ${settings.dpopKey ?? ''}`.trim());
}

/** The --signing-key file's bytes (private_key_jwt, --request-object). */
export function readSigningKeyFile(file: string): Buffer {
  return readInputFile(
    file,
    'the signing key',
    'check --signing-key (a PEM private key or a private JWK for private_key_jwt)',
  );
}

/** The client authentication from settings (no network). */
export async function credentialsFor(
  settings: Settings,
  hasCertificate: boolean,
): Promise<ClientCredentials> {
  if (!settings.clientId) {
    throw usageError('MISSING_CLIENT_ID', 'no client_id: pass --client-id ID (or MTLS_OAUTH_CLIENT_ID)', {
      hint: 'the client_id the IdP registered for this client, e.g. --client-id kong',
    });
  }
  const method: AuthMethod = settings.auth
    ? parseAuthMethod(settings.auth)
    : defaultAuthMethod({
        hasCertificate,
        hasSecret: !!settings.clientSecret,
        hasSigningKey: !!settings.signingKey,
      });
  const c: ClientCredentials = { clientId: settings.clientId, method };
  if (usesSecret(method)) {
    if (!settings.clientSecret) {
      throw usageError('MISSING_CLIENT_SECRET', `${method} needs a client secret`, {
        hint: 'set MTLS_OAUTH_CLIENT_SECRET (a flag would show it in the process list)',
      });
    }
    c.clientSecret = settings.clientSecret;
  }
  if (method === 'private_key_jwt') {
    if (!settings.signingKey) {
      throw usageError('MISSING_SIGNING_KEY', 'private_key_jwt needs a signing key', {
        hint: 'pass --signing-key FILE (PEM or JWK) or MTLS_OAUTH_SIGNING_KEY',
      });
    }
    c.signAssertion = await assertionSigner(readSigningKeyFile(settings.signingKey), settings.signingKey);
  }
  if (usesAssertion(method)) {
    const aud = settings.assertionAudience;
    if (aud === 'issuer') {
      if (!settings.issuer) {
        throw usageError('MISSING_ISSUER', '--assertion-audience issuer needs the issuer', {
          hint: 'pass --issuer URL (or MTLS_OAUTH_ISSUER), or give the audience itself: --assertion-audience URL',
        });
      }
      c.assertionAudience = settings.issuer;
    } else if (aud && aud !== 'endpoint') {
      c.assertionAudience = aud;
    }
  }
  return c;
}

export const noCertificateWarning = (method: string) =>
  `${method} without a client certificate: the requests go without one and the IdP will refuse them (pass --cert and --key, or --p12)`;

/** The one HttpClient of a run, from the settings (warns loudly about --insecure). */
export function httpClientFor(
  Client: typeof HttpClient,
  settings: Settings,
  identity: ClientIdentity | undefined,
  o: Pick<SessionOptions, 'log' | 'showSecrets' | 'warn'> & { http?: Partial<HttpClientOptions> },
): HttpClient {
  if (settings.insecure) {
    o.warn?.(
      "--insecure: the IdP's server certificate is NOT verified; anyone on the path can read the tokens and the client's requests. For testing only",
    );
  }
  return new Client({
    identity,
    ca: settings.ca,
    caMode: settings.caMode === 'replace' ? 'replace' : 'add',
    insecure: !!settings.insecure,
    timeoutMs: settings.timeout ? Math.round(settings.timeout * 1000) : undefined,
    connectTo: settings.connectTo ? parseConnectTo(settings.connectTo) : undefined,
    log: o.log,
    showSecrets: o.showSecrets,
    ...o.http,
  });
}

/** Builds a session: identity, HTTP client, credentials, and metadata when needed. */
export async function openSession(o: SessionOptions): Promise<Session> {
  const { settings } = o;
  const operations = o.operations ?? ['token', 'introspection', 'revocation'];

  // Loaded side by side: each is a chunk of its own in the bundle.
  const [{ loadClientIdentity }, { HttpClient }] = await Promise.all([
    import('./transport/identity.ts'),
    import('./transport/http-client.ts'),
  ]);
  const identity = await loadClientIdentity(settings);
  const credentials = await credentialsFor(settings, !!identity);
  if (usesCertificate(credentials.method) && !identity) o.warn?.(noCertificateWarning(credentials.method));
  const http = httpClientFor(HttpClient, settings, identity, o);
  const withClientCert = !!identity;
  const dpop = await dpopSignerFor(settings);

  try {
    let metadata: Metadata | undefined;
    const needsDiscovery = [...operations, ...(o.forCache ? (['token'] as const) : [])].some((op) => {
      const flag = FLAG_OF[op];
      return !(flag && settings[flag]);
    });
    if (needsDiscovery && settings.issuer) {
      const { discoverMetadata } = await import('./discovery/index.ts');
      metadata = (await discoverMetadata(http, settings.issuer)).metadata;
    }
    const { sources } = o;
    const choose = (op: Operation, withCert = withClientCert) =>
      chooseEndpoint(op, { settings, metadata, withClientCert: withCert, sources });
    for (const op of operations) {
      if (!choose(op)) throw missingEndpoint(op, settings, metadata);
    }
    const issuer = settings.issuer ? (metadata?.issuer ?? settings.issuer) : undefined;
    // An RSA signing key signs PS256 where the IdP takes it and not RS256 (client-auth.ts algFor).
    const assertionAlgs = metadata?.token_endpoint_auth_signing_alg_values_supported;
    if (Array.isArray(assertionAlgs)) credentials.assertionAlgs = assertionAlgs;
    const session: Session = {
      settings,
      identity,
      http,
      credentials,
      metadata,
      issuer,
      client: { http, credentials, identity, ...(dpop ? { dpop } : {}) },
      withClientCert,
      idpBindsTokens: metadata ? metadata.tls_client_certificate_bound_access_tokens === true : undefined,
      endpoint(op) {
        const e = choose(op);
        if (!e) throw missingEndpoint(op, settings, metadata);
        return e;
      },
      hasEndpoint(op) {
        return !!choose(op);
      },
      cacheKey() {
        // The plain token endpoint: the same key with and without a client certificate.
        const tokenEndpoint = choose('token', false)?.url;
        return tokenEndpoint
          ? cacheKey({ issuer, tokenEndpoint, clientId: credentials.clientId })
          : undefined;
      },
      origins() {
        const tokenEndpoints = [choose('token', false)?.url, choose('token')?.url];
        return issuerOrigins({
          issuer,
          tokenEndpoints: tokenEndpoints.filter((u): u is string => !!u),
          metadata,
        });
      },
      belongsToIssuer(url) {
        const origin = originOf(url);
        return !!origin && this.origins().includes(origin);
      },
      close: () => http.close(),
    };
    return session;
  } catch (e) {
    await http.close();
    throw e;
  }
}

function missingEndpoint(op: Operation, settings: Settings, metadata?: Metadata) {
  const flag = FLAG_NAME[op] ?? `the ${op} endpoint`;
  if (metadata) {
    return usageError('NO_ENDPOINT', `the IdP's metadata has no ${op}_endpoint`, {
      hint: `the IdP may not support ${op}; if it does, give the URL with ${flag} URL`,
    });
  }
  return usageError('NO_ENDPOINT', `no ${op} endpoint: pass --issuer URL (discovery) or ${flag} URL`, {
    hint: settings.issuer
      ? `give ${flag} URL`
      : 'e.g. --issuer https://idp.example.com, or for an IdP without discovery the endpoint itself',
  });
}
