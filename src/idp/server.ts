// The embedded IdP: oidc-provider (an OpenID-certified authorization server) over HTTPS on
// 127.0.0.1 with RFC 8705 mutual TLS — tls_client_auth, self_signed_tls_client_auth,
// certificate-bound access tokens — introspection, revocation, client credentials, the
// authorization-code flow with oidc-provider's login and consent pages (any login name and password
// are accepted), and optionally `mtls_endpoint_aliases` served by a second listener ("the mTLS
// host", which requests client certificates). Storage is in memory, keys are made at start: it
// leaves nothing behind when closed.
//
// Why src/idp and not src/core, and why oidc-provider is not bundled: docs/design.md "The
// embedded IdP lives in src/idp, not src/core".
//
//   const idp = await startEmbeddedIdp({ server: { cert, key }, clientCas: [ca], clients, aliases: true });
//   // idp.issuer, idp.mtlsUrl, idp.endpoints.token ...
//   await idp.close();

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type Provider from 'oidc-provider';
import type { Configuration } from 'oidc-provider';
import { importEsm } from '../cli/import-esm.ts';
import { KNOWN_AUTH_METHODS } from '../core/discovery/metadata.ts';
import { newKeyPair } from '../core/pki/keys.ts';
import { type AssertionIssuer, registerExtensionGrants } from './grants.ts';
import { memoryAdapterFactory } from './memory-adapter.ts';
import { certificateMatches } from './referee.ts';

export type ClientMetadata = Record<string, unknown> & { client_id: string };
export type IdpMiddleware = Parameters<Provider['use']>[0];

export interface EmbeddedIdpOptions {
  /** The IdP's server certificate and key (PEM). */
  server: { cert: string; key: string };
  /** CA certificates (PEM) the IdP trusts for client certificates (tls_client_auth). */
  clientCas: string[];
  /** The registered clients. */
  clients: ClientMetadata[];
  /** Port of the plain listener (default 0: the system picks one). */
  port?: number;
  /** Port of the mTLS-alias listener, with `aliases` (default 0). */
  mtlsPort?: number;
  /** Serve `mtls_endpoint_aliases` from a second listener that requests client certificates. */
  aliases?: boolean;
  /** Whether the plain listener requests client certificates (default: true without aliases, false with). */
  requestCertOnPlain?: boolean;
  /** Limit both listeners to TLS 1.2 (default: Node's default, TLS 1.3 preferred). */
  tls12?: boolean;
  /**
   * Issue JWT access tokens (with `cnf`) for this resource (resource indicators on, and the
   * default resource). oidc-provider does not introspect JWT access tokens.
   */
  jwtAccessTokensFor?: string;
  /** Issuer path, e.g. "/tenant": the issuer becomes https://127.0.0.1:PORT/tenant. */
  path?: string;
  /**
   * The host name in the issuer and endpoint URLs instead of 127.0.0.1 (it still listens on
   * 127.0.0.1 only): an IdP node that DNS does not point at yet, for --connect-to.
   */
  publicHost?: string;
  /** Token lifetimes in seconds. */
  ttl?: Partial<Record<'AccessToken' | 'ClientCredentials' | 'RefreshToken' | 'AuthorizationCode', number>>;
  /** Keep oidc-provider's console notices (default: silenced). */
  verbose?: boolean;
  /** Koa middleware run in front of oidc-provider's routes (provider.use), composed at start. */
  middleware?: IdpMiddleware[];
  /** Called with every request as it arrives. */
  onRequest?: (request: IdpRequest) => void;
  /** DPoP (RFC 9449, always on): demand a server nonce (use_dpop_nonce) before accepting a proof. */
  dpopNonce?: boolean;
  /** Issuers whose JWT bearer assertions (RFC 7523) the IdP accepts, with their keys. */
  assertionIssuers?: AssertionIssuer[];
  /** Refuse authorization requests that were not pushed (require_pushed_authorization_requests, RFC 9126 §5). */
  requirePar?: boolean;
  /**
   * Configure the IdP as the FAPI 2.0 Security Profile asks (`discover --profile fapi2` passes):
   * PAR required, only the code response type, only tls_client_auth, self_signed_tls_client_auth
   * and private_key_jwt, only PS256/ES256/EdDSA signatures (ID tokens in ES256). Certificate-bound
   * tokens, PKCE S256 and the iss response parameter are on in every configuration.
   */
  fapi2?: boolean;
}

/** The signature algorithms the FAPI 2.0 Security Profile allows (§5.4.1). */
const FAPI2_ALGS = ['PS256', 'ES256', 'EdDSA'];

export interface IdpRequest {
  listener: 'plain' | 'mtls';
  method: string;
  /** Path and query as received. */
  path: string;
  /** A client certificate was presented on the connection. */
  clientCert: boolean;
  /** ...and it chains to a CA the IdP trusts. */
  authorized: boolean;
}

export type EndpointName =
  | 'token'
  | 'introspection'
  | 'revocation'
  | 'userinfo'
  | 'par'
  | 'jwks'
  | 'authorization';

export interface EmbeddedIdp {
  issuer: string;
  /** Origin of the plain listener (the issuer without its path). */
  url: string;
  port: number;
  /** Origin of the mTLS-alias listener, when `aliases`. */
  mtlsUrl?: string;
  mtlsPort?: number;
  /** The endpoints as advertised (plain listener). */
  endpoints: Record<EndpointName, string>;
  /** The advertised `mtls_endpoint_aliases` (when `aliases`). */
  aliases?: Record<string, string>;
  /** Every registered client's metadata. */
  clients: ClientMetadata[];
  /** Every request served, in order. */
  requests: IdpRequest[];
  /** Errors oidc-provider reported as server_error (a correct run leaves this empty). */
  serverErrors: unknown[];
  /**
   * OAuth errors the IdP answered with, with its internal reason, which it does not send:
   * e.g. { event: 'grant.error', error: 'invalid_client', detail: 'certificate subject value does not match the registered one' }.
   */
  oauthErrors: Array<{ event: string; error: string; detail?: string }>;
  provider: Provider;
  close(): Promise<void>;
}

const ROUTES = {
  authorization: '/auth',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  userinfo: '/me',
  pushed_authorization_request: '/request',
  jwks: '/jwks',
  device_authorization: '/device/auth',
  code_verification: '/device',
};

/** The scopes every client may ask for. */
export const SCOPES = ['openid', 'offline_access', 'api:read'];

let providerClass: Promise<typeof Provider> | undefined;
/** oidc-provider, loaded on first use (see the top of this file). */
function loadProvider(): Promise<typeof Provider> {
  providerClass ??= importEsm<typeof import('oidc-provider')>('oidc-provider').then((m) => m.default);
  return providerClass;
}

// oidc-provider's console notices ("a quick start development-only feature ...") are noise here:
// this IdP is a development tool by design.
let quieted = false;
function quietOidcProvider() {
  if (quieted) return;
  quieted = true;
  for (const level of ['warn', 'info'] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && /oidc-provider (WARNING|NOTICE):/.test(args[0])) return;
      original(...args);
    };
  }
}

// Signing keys: RSA for RS256 ID tokens (every client's default), EC for ES256. RSA generation
// costs ~100 ms, so one set per process.
let signingKeys: Promise<object[]> | undefined;
function providerJwks(): Promise<object[]> {
  signingKeys ??= Promise.all([
    newKeyPair('rsa', { modulusLength: 2048 }),
    newKeyPair('ec', { namedCurve: 'P-256' }),
  ]).then(([rsa, ec]) => [
    { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' },
    { ...ec.privateKey.export({ format: 'jwk' }), kid: 'test-es256', alg: 'ES256', use: 'sig' },
  ]);
  return signingKeys;
}

function listen(server: https.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * Starts the IdP. Rejects as the listener does (EADDRINUSE, EACCES: the `code` of Node's error is
 * kept), with nothing left listening.
 */
export async function startEmbeddedIdp(opts: EmbeddedIdpOptions): Promise<EmbeddedIdp> {
  if (!opts.verbose) quietOidcProvider();
  const path = (opts.path ?? '').replace(/\/+$/, '');
  if (path && !path.startsWith('/')) throw new Error(`path must start with "/": ${opts.path}`);
  const Provider = await loadProvider();
  const requestCertOnPlain = opts.requestCertOnPlain ?? !opts.aliases;
  const requests: IdpRequest[] = [];
  const serverErrors: unknown[] = [];
  const oauthErrors: EmbeddedIdp['oauthErrors'] = [];

  let app: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const handler = (listener: IdpRequest['listener']) => (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const request: IdpRequest = {
      listener,
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      clientCert: !!socket.getPeerX509Certificate?.(),
      authorized: socket.authorized,
    };
    requests.push(request);
    opts.onRequest?.(request);
    const url = req.url ?? '/';
    if (path) {
      if (url !== path && !url.startsWith(`${path}/`) && !url.startsWith(`${path}?`)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      // Mounted under the issuer's path: oidc-provider derives its mount path from originalUrl.
      (req as { originalUrl?: string }).originalUrl = url;
      req.url = url.slice(path.length) || '/';
    }
    if (!app) res.writeHead(503).end();
    else app(req, res);
  };

  const tlsOptions = (requestCert: boolean): https.ServerOptions => ({
    key: opts.server.key,
    cert: opts.server.cert,
    ca: opts.clientCas,
    requestCert,
    // A certificate that does not chain is still taken: tls_client_auth then fails with
    // invalid_client (an OAuth answer the client can report), and self_signed_tls_client_auth
    // never chains.
    rejectUnauthorized: false,
    ...(opts.tls12 ? { maxVersion: 'TLSv1.2' as const } : {}),
  });
  const servers: https.Server[] = [];
  const plain = https.createServer(tlsOptions(requestCertOnPlain), handler('plain'));
  servers.push(plain);
  try {
    const port = await listen(plain, opts.port ?? 0);
    let mtlsPort: number | undefined;
    if (opts.aliases) {
      const mtls = https.createServer(tlsOptions(true), handler('mtls'));
      servers.push(mtls);
      mtlsPort = await listen(mtls, opts.mtlsPort ?? 0);
    }
    const host = opts.publicHost ?? '127.0.0.1';
    const url = `https://${host}:${port}`;
    const mtlsUrl = mtlsPort ? `https://${host}:${mtlsPort}` : undefined;
    const issuer = `${url}${path}`;
    const aliases = mtlsUrl
      ? {
          token_endpoint: `${mtlsUrl}${path}${ROUTES.token}`,
          introspection_endpoint: `${mtlsUrl}${path}${ROUTES.introspection}`,
          revocation_endpoint: `${mtlsUrl}${path}${ROUTES.revocation}`,
          userinfo_endpoint: `${mtlsUrl}${path}${ROUTES.userinfo}`,
          pushed_authorization_request_endpoint: `${mtlsUrl}${path}${ROUTES.pushed_authorization_request}`,
          device_authorization_endpoint: `${mtlsUrl}${path}${ROUTES.device_authorization}`,
        }
      : undefined;

    const ttl = {
      AccessToken: opts.ttl?.AccessToken ?? 600,
      ClientCredentials: opts.ttl?.ClientCredentials ?? 600,
      RefreshToken: opts.ttl?.RefreshToken ?? 86_400,
      AuthorizationCode: opts.ttl?.AuthorizationCode ?? 120,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 86_400,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
    };

    const socketOf = (ctx: { socket?: TLSSocket; req?: { socket?: TLSSocket } }) =>
      ctx.socket ?? ctx.req?.socket;
    const peerOf = (ctx: object) => socketOf(ctx as { socket?: TLSSocket })?.getPeerX509Certificate?.();
    const resource = opts.jwtAccessTokensFor;

    const configuration: Configuration = {
      clients: opts.clients,
      routes: ROUTES,
      clientAuthMethods: opts.fapi2
        ? ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']
        : [...KNOWN_AUTH_METHODS],
      ...(opts.fapi2
        ? {
            responseTypes: ['code'],
            clientDefaults: {
              grant_types: ['authorization_code'],
              id_token_signed_response_alg: 'ES256',
              response_types: ['code'],
              token_endpoint_auth_method: 'tls_client_auth',
            },
            enabledJWA: {
              clientAuthSigningAlgValues: FAPI2_ALGS,
              idTokenSigningAlgValues: FAPI2_ALGS,
              requestObjectSigningAlgValues: FAPI2_ALGS,
              userinfoSigningAlgValues: FAPI2_ALGS,
              introspectionSigningAlgValues: FAPI2_ALGS,
              authorizationSigningAlgValues: FAPI2_ALGS,
              dPoPSigningAlgValues: FAPI2_ALGS,
            },
          }
        : {}),
      jwks: { keys: await providerJwks() },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      adapter: memoryAdapterFactory(),
      scopes: SCOPES,
      claims: { openid: ['sub'], email: ['email', 'email_verified'] },
      async findAccount(_ctx: unknown, sub: string) {
        return {
          accountId: sub,
          async claims() {
            return { sub, email: `${sub}@example.test`, email_verified: true };
          },
        };
      },
      clientBasedCORS: () => false,
      async renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
        ctx.type = 'html';
        ctx.body = `<!doctype html><title>error</title><p>${Object.entries(out)
          .map(([k, v]) => `${k}: ${String(v).replace(/[<>&"]/g, '')}`)
          .join('<br>')}</p>`;
      },
      ttl,
      features: {
        devInteractions: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        revocation: { enabled: true },
        clientCredentials: { enabled: true },
        // RFC 9449: a token requested with a DPoP proof is bound to its key (cnf.jkt).
        dPoP: {
          enabled: true,
          nonceSecret: randomBytes(32),
          requireNonce: () => opts.dpopNonce === true,
        },
        // RFC 8628: `login --device`; the user enters the code at /device.
        deviceFlow: { enabled: true },
        userinfo: { enabled: true },
        // RFC 9126; required with `requirePar` or `fapi2`.
        pushedAuthorizationRequests: {
          enabled: true,
          requirePushedAuthorizationRequests: !!(opts.requirePar || opts.fapi2),
        },
        // RFC 9101: signed request objects in the `request` parameter (login --request-object).
        requestObjects: { request: true, requestUri: false },
        rpInitiatedLogout: { enabled: false },
        resourceIndicators: resource
          ? {
              enabled: true,
              defaultResource: () => resource,
              useGrantedResource: () => true,
              getResourceServerInfo: (_ctx: unknown, indicator: string) => {
                if (indicator !== resource) throw new Error(`unknown resource ${indicator}`);
                return {
                  scope: 'api:read',
                  audience: resource,
                  accessTokenFormat: 'jwt',
                  accessTokenTTL: ttl.AccessToken,
                  jwt: { sign: { alg: 'ES256' } },
                };
              },
            }
          : { enabled: false },
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          selfSignedTlsClientAuth: true,
          tlsClientAuth: true,
          getCertificate: (ctx: object) => peerOf(ctx)?.toString(),
          certificateAuthorized: (ctx: object) =>
            socketOf(ctx as { socket?: TLSSocket })?.authorized === true,
          certificateSubjectMatches: (ctx: object, property: string, expected: string) => {
            const cert = peerOf(ctx);
            return cert ? certificateMatches(cert, property, expected) : false;
          },
        },
      },
      discovery: aliases ? { mtls_endpoint_aliases: aliases } : {},
    };

    const provider = new Provider(issuer, configuration);
    await registerExtensionGrants(provider, {
      assertionIssuers: opts.assertionIssuers,
      tokenEndpoint: `${issuer}${ROUTES.token}`,
    });
    for (const mw of opts.middleware ?? []) provider.use(mw);
    provider.on('server_error', (_ctx: unknown, err: unknown) => serverErrors.push(err));
    for (const event of [
      'grant.error',
      'introspection.error',
      'revocation.error',
      'userinfo.error',
      'pushed_authorization_request.error',
      'authorization.error',
    ]) {
      provider.on(event, (_ctx: unknown, err: unknown) => {
        const e = err as { error?: string; error_detail?: string; message?: string };
        oauthErrors.push({ event, error: e.error ?? String(e.message), detail: e.error_detail });
      });
    }
    app = provider.callback();

    const endpoint = (r: string) => `${issuer}${r}`;
    return {
      issuer,
      url,
      port,
      mtlsUrl,
      mtlsPort,
      endpoints: {
        authorization: endpoint(ROUTES.authorization),
        token: endpoint(ROUTES.token),
        introspection: endpoint(ROUTES.introspection),
        revocation: endpoint(ROUTES.revocation),
        userinfo: endpoint(ROUTES.userinfo),
        par: endpoint(ROUTES.pushed_authorization_request),
        jwks: endpoint(ROUTES.jwks),
      },
      aliases,
      clients: opts.clients,
      requests,
      serverErrors,
      oauthErrors,
      provider,
      async close() {
        await Promise.all(servers.map(closeServer));
      },
    };
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    throw e;
  }
}
