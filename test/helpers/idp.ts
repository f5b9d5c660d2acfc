// A real identity provider for tests and demos: oidc-provider 8 over HTTPS on 127.0.0.1 with
// RFC 8705 mutual TLS (tls_client_auth, self_signed_tls_client_auth, certificate-bound access
// tokens), introspection, revocation, client credentials, dev login/consent forms, and optionally
// `mtls_endpoint_aliases` served by a second listener ("the mTLS host").
//
// No node:test imports here: `npm run demo` and other scripts use this module too.
//
//   const idp = await startIdp({ aliases: true });
//   // idp.issuer, idp.pki.ca.cert, idp.pki.client.{cert,key}, idp.clients.kong.client_id ...
//   await idp.close();
//
// The plain listener requests a client certificate unless aliases are on; with aliases it does
// not (unless `requestCertOnPlain`), so a test can prove that calls made with a certificate really
// go to the aliases. `idp.requests` records every request and which listener served it.
//
// The IdP is the referee for the subject DN: it computes the RFC 4514 string of the peer
// certificate's subject itself (rfc4514Subject below, on node-forge's ASN.1 reader), independently
// of src/core/pki/dn.ts, and compares it character for character with tls_client_auth_subject_dn.

import { generateKeyPair, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import forge from 'node-forge';
import Provider, { type Configuration } from 'oidc-provider';
import { buildCertificate, derToPem } from '../../src/core/pki/certificate.ts';
import { parseDn } from '../../src/core/pki/dn.ts';
import { generateKey, privateKeyPem } from '../../src/core/pki/keys.ts';
import { type Issued, makeCa, type TestCa } from './pki.ts';

// ---------------------------------------------------------------------------------------------
// Certificates

/** The subject registered as `tls_client_auth_subject_dn` of the `kong` client. */
export const KONG_SUBJECT = 'CN=kong,OU=gateway,O=mtls-oauth tests';

export interface IdpPki {
  ca: TestCa;
  /** The IdP's server certificate: DNS localhost, IP 127.0.0.1 and ::1. */
  server: Issued;
  /** KONG_SUBJECT, from `ca`: registered for the `kong` client (tls_client_auth). */
  client: Issued;
  /** Same CA, another subject (CN=intruder,...): valid chain, registered nowhere. */
  other: Issued;
  /** Self-signed (CN=kong-self-signed): registered in the `self-signed` client's jwks (x5c). */
  selfSigned: Issued;
  /** KONG_SUBJECT, but from a CA the IdP does not trust. */
  foreign: Issued;
  /** That untrusted CA. */
  foreignCa: TestCa;
}

async function selfSignedCert(subject: string): Promise<Issued> {
  const kp = await generateKey('ec-p256');
  const dn = parseDn(subject);
  const der = buildCertificate({
    profile: 'client',
    subject: dn,
    issuer: dn,
    publicKey: kp.publicKey,
    signingKey: kp.privateKey,
    issuerPublicKey: kp.publicKey,
    notAfter: new Date(Date.now() + 30 * 86_400_000),
  });
  return {
    cert: derToPem(der),
    key: privateKeyPem(kp.privateKey),
    keyPair: kp,
    x509: new X509Certificate(der),
  };
}

/** Every certificate the test IdP and its clients need, made in-process with the project's PKI code. */
export async function makeIdpPki(): Promise<IdpPki> {
  const ca = await makeCa('CN=mtls-oauth Test CA,O=mtls-oauth tests');
  const foreignCa = await makeCa('CN=Untrusted CA,O=somewhere else');
  const [server, client, other, selfSigned, foreign] = await Promise.all([
    ca.issue({ subject: 'CN=localhost', profile: 'server', sans: 'dns:localhost,ip:127.0.0.1,ip:::1' }),
    ca.issue({ subject: KONG_SUBJECT }),
    ca.issue({ subject: 'CN=intruder,OU=gateway,O=mtls-oauth tests' }),
    selfSignedCert('CN=kong-self-signed'),
    foreignCa.issue({ subject: KONG_SUBJECT }),
  ]);
  return { ca, server, client, other, selfSigned, foreign, foreignCa };
}

export interface PkiFiles {
  dir: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  otherCert: string;
  otherKey: string;
  selfSignedCert: string;
  selfSignedKey: string;
  foreignCert: string;
  foreignKey: string;
}

/** Writes the PEM files a CLI run needs (`--ca`, `--cert`, `--key`) into `dir`; keys with mode 0600. */
export function writePkiFiles(pki: IdpPki, dir: string): PkiFiles {
  mkdirSync(dir, { recursive: true });
  const put = (name: string, text: string, mode = 0o644) => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode });
    return file;
  };
  return {
    dir,
    ca: put('ca.crt', pki.ca.cert),
    clientCert: put('client.crt', pki.client.cert),
    clientKey: put('client.key', pki.client.key, 0o600),
    otherCert: put('other.crt', pki.other.cert),
    otherKey: put('other.key', pki.other.key, 0o600),
    selfSignedCert: put('self-signed.crt', pki.selfSigned.cert),
    selfSignedKey: put('self-signed.key', pki.selfSigned.key, 0o600),
    foreignCert: put('foreign.crt', pki.foreign.cert),
    foreignKey: put('foreign.key', pki.foreign.key, 0o600),
  };
}

// ---------------------------------------------------------------------------------------------
// The referee: RFC 4514 subject and SANs of a certificate, computed here and not with dn.ts

// RFC 4514 §3: the only short names a conforming implementation prints; others are OID=#hex.
const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

function decodeString(node: forge.asn1.Asn1): string {
  const raw = Buffer.from(node.value as string, 'binary');
  switch (node.type as number) {
    case forge.asn1.Type.UTF8:
      return raw.toString('utf8');
    case forge.asn1.Type.BMPSTRING:
      return Buffer.from(raw).swap16().toString('utf16le');
    case 28: {
      // UniversalString: UCS-4 big-endian
      let s = '';
      for (let i = 0; i + 3 < raw.length; i += 4) s += String.fromCodePoint(raw.readUInt32BE(i));
      return s;
    }
    default:
      return raw.toString('latin1'); // Printable, IA5, Teletex, Visible, Numeric
  }
}

/** RFC 4514 §2.4 escaping: `" + , ; < > \` anywhere, a leading space or `#`, a trailing space, NUL. */
function escape4514(v: string): string {
  let out = v.replace(/["+,;<>\\]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.length > 1 && out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** The RFC 4514 string of a certificate's subject: most specific RDN first. */
export function rfc4514Subject(cert: X509Certificate | Buffer | string): string {
  const der =
    typeof cert === 'string'
      ? new X509Certificate(cert).raw
      : cert instanceof X509Certificate
        ? cert.raw
        : cert;
  const { asn1 } = forge;
  const root = asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const tbs = (root.value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
  const off = tbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0; // [0] version
  const subject = tbs[off + 4]; // serialNumber, signature, issuer, validity, subject
  const rdns = (subject.value as forge.asn1.Asn1[]).map((set) =>
    (set.value as forge.asn1.Asn1[])
      .map((atv) => {
        const [typeNode, valueNode] = atv.value as forge.asn1.Asn1[];
        const oid = asn1.derToOid(typeNode.value as string);
        const short = SHORT[oid];
        if (!short) return `${oid}=#${asn1.toDer(valueNode).toHex()}`;
        return `${short}=${escape4514(decodeString(valueNode))}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}

function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** SANs by type, from Node's own parser (not src/core/pki/san.ts). */
export function sansOf(cert: X509Certificate): {
  dns: string[];
  uri: string[];
  ip: string[];
  email: string[];
} {
  const out = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  // Node quotes an entry as a JSON string when it contains a comma or a quote.
  const re = /(DNS|URI|IP Address|email):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of (cert.subjectAltName ?? '').matchAll(re)) {
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (m[1] === 'DNS') out.dns.push(value);
    else if (m[1] === 'URI') out.uri.push(value);
    else if (m[1] === 'email') out.email.push(value);
    else out.ip.push(canonicalIp(value));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Storage: one in-memory store per IdP instance (oidc-provider's own dev adapter is shared by the
// whole process and warns on every start).

interface Stored {
  payload: Record<string, unknown>;
  expiresAt?: number;
}

function memoryAdapterFactory() {
  const store = new Map<string, Stored>();
  const get = (key: string) => {
    const s = store.get(key);
    if (s?.expiresAt !== undefined && s.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return s;
  };
  return class MemoryAdapter {
    constructor(readonly model: string) {}
    key(id: string) {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
      store.set(this.key(id), { payload, expiresAt });
      if (this.model === 'Session' && typeof payload.uid === 'string') {
        store.set(`sessionUid:${payload.uid}`, { payload: { id }, expiresAt });
      }
      if (typeof payload.userCode === 'string') {
        store.set(`userCode:${payload.userCode}`, { payload: { id }, expiresAt });
      }
      if (typeof payload.grantId === 'string') {
        const gk = `grant:${payload.grantId}`;
        const g = get(gk);
        if (g) (g.payload.keys as string[]).push(this.key(id));
        else store.set(gk, { payload: { keys: [this.key(id)] } });
      }
    }
    async find(id: string) {
      return get(this.key(id))?.payload;
    }
    async findByUid(uid: string) {
      const ref = get(`sessionUid:${uid}`)?.payload.id as string | undefined;
      return ref === undefined ? undefined : this.find(ref);
    }
    async findByUserCode(userCode: string) {
      const ref = get(`userCode:${userCode}`)?.payload.id as string | undefined;
      return ref === undefined ? undefined : this.find(ref);
    }
    async consume(id: string) {
      const s = get(this.key(id));
      if (s) s.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string) {
      const g = get(`grant:${grantId}`);
      for (const k of (g?.payload.keys as string[] | undefined) ?? []) store.delete(k);
      store.delete(`grant:${grantId}`);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// oidc-provider's console notices ("a quick start development-only feature ...") are noise in tests.

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

// ---------------------------------------------------------------------------------------------
// Signing keys: RSA for RS256 ID tokens (every client's default), EC for ES256. RSA generation
// costs ~100 ms, so one set per process.

let signingKeys: Promise<object[]> | undefined;
function providerJwks(): Promise<object[]> {
  const gen = promisify(generateKeyPair) as (
    t: string,
    o: object,
  ) => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;
  signingKeys ??= Promise.all([gen('rsa', { modulusLength: 2048 }), gen('ec', { namedCurve: 'P-256' })]).then(
    ([rsa, ec]) => [
      { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' },
      { ...ec.privateKey.export({ format: 'jwk' }), kid: 'test-es256', alg: 'ES256', use: 'sig' },
    ],
  );
  return signingKeys;
}

// ---------------------------------------------------------------------------------------------
// The IdP

export type ClientMetadata = Record<string, unknown> & { client_id: string };

export interface IdpOptions {
  /** Certificates to use (default: a fresh makeIdpPki()). */
  pki?: IdpPki;
  /** Serve `mtls_endpoint_aliases` from a second listener that requests client certificates. */
  aliases?: boolean;
  /** Whether the plain listener requests client certificates (default: true without aliases, false with). */
  requestCertOnPlain?: boolean;
  /** Limit both listeners to TLS 1.2 (default: Node's default, TLS 1.3 preferred). */
  tls12?: boolean;
  /**
   * Issue JWT access tokens (with `cnf`) for the resource RESOURCE (resource indicators on, and the
   * default resource). oidc-provider does not introspect JWT access tokens (introspection answers
   * active: false): use the default opaque tokens to test introspection.
   */
  jwtAccessTokens?: boolean;
  /** Issuer path, e.g. "/tenant": the issuer becomes https://127.0.0.1:PORT/tenant. */
  path?: string;
  /** Extra clients, or replacements of the built-in ones with the same client_id. */
  clients?: ClientMetadata[];
  /** Token lifetimes in seconds. */
  ttl?: Partial<Record<'AccessToken' | 'ClientCredentials' | 'RefreshToken' | 'AuthorizationCode', number>>;
  /** Keep oidc-provider's console notices (default: silenced). */
  verbose?: boolean;
  /**
   * Koa middleware run in front of oidc-provider's routes (provider.use), e.g. to rewrite a
   * response on its way out. Must be given here: the request handler is composed at start.
   */
  middleware?: Array<(ctx: any, next: () => Promise<void>) => Promise<void>>;
  /**
   * More CA certificates (PEM) the IdP trusts for client certificates, besides `pki.ca`: e.g. the
   * CA `mtls-oauth certs init` made (npm run demo).
   */
  clientCas?: string[];
  /** Changes to the `kong` client's registration, e.g. `{ tls_client_auth_subject_dn: 'CN=kong' }`. */
  kong?: Partial<ClientMetadata>;
}

export interface IdpRequest {
  listener: 'plain' | 'mtls';
  method: string;
  /** Path and query as received. */
  path: string;
  /** A client certificate was presented on the connection. */
  clientCert: boolean;
  /** ...and it chains to the IdP's CA. */
  authorized: boolean;
}

export interface TestIdp {
  issuer: string;
  /** Origin of the plain listener (the issuer without its path). */
  url: string;
  port: number;
  /** Origin of the mTLS-alias listener, when `aliases`. */
  mtlsUrl?: string;
  mtlsPort?: number;
  /** The endpoints as advertised (plain listener). */
  endpoints: Record<
    'token' | 'introspection' | 'revocation' | 'userinfo' | 'par' | 'jwks' | 'authorization',
    string
  >;
  /** The advertised `mtls_endpoint_aliases` (when `aliases`). */
  aliases?: Record<string, string>;
  pki: IdpPki;
  clients: {
    kong: { client_id: string; subjectDn: string; redirectUri: string };
    selfSigned: { client_id: string };
    secret: { client_id: string; client_secret: string };
    /** Full metadata of every registered client. */
    all: ClientMetadata[];
  };
  /** The resource JWT access tokens are issued for (with `jwtAccessTokens`). */
  resource?: string;
  /** Every request served, in order. */
  requests: IdpRequest[];
  /** Errors oidc-provider reported as server_error (a correct test run leaves this empty). */
  serverErrors: unknown[];
  /**
   * OAuth errors the IdP answered with, with its internal reason, which it does not send:
   * e.g. { event: 'grant.error', error: 'invalid_client', detail: 'certificate subject value does not match the registered one' }.
   */
  oauthErrors: Array<{ event: string; error: string; detail?: string }>;
  provider: Provider;
  /**
   * Drives the dev login and consent forms for an authorization URL (as a browser would) and returns
   * the final redirect to the client's redirect_uri (not followed). `deny` aborts the interaction.
   */
  authorize(authorizationUrl: string, opts?: { login?: string; deny?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/** The resource indicator used with `jwtAccessTokens`. */
export const RESOURCE = 'urn:mtls-oauth:test-api';
const ROUTES = {
  authorization: '/auth',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  userinfo: '/me',
  pushed_authorization_request: '/request',
  jwks: '/jwks',
};

function listen(server: https.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startIdp(opts: IdpOptions = {}): Promise<TestIdp> {
  if (!opts.verbose) quietOidcProvider();
  const pki = opts.pki ?? (await makeIdpPki());
  const path = (opts.path ?? '').replace(/\/+$/, '');
  if (path && !path.startsWith('/')) throw new Error(`path must start with "/": ${opts.path}`);
  const requestCertOnPlain = opts.requestCertOnPlain ?? !opts.aliases;
  const requests: IdpRequest[] = [];
  const serverErrors: unknown[] = [];
  const oauthErrors: TestIdp['oauthErrors'] = [];

  let app:
    | ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void)
    | undefined;
  const handler =
    (listener: IdpRequest['listener']) =>
    (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      const socket = req.socket as TLSSocket;
      requests.push({
        listener,
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        clientCert: !!socket.getPeerX509Certificate?.(),
        authorized: socket.authorized,
      });
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
    key: pki.server.key,
    cert: pki.server.cert,
    ca: [pki.ca.cert, ...(opts.clientCas ?? [])],
    requestCert,
    rejectUnauthorized: false,
    ...(opts.tls12 ? { maxVersion: 'TLSv1.2' as const } : {}),
  });
  const servers: https.Server[] = [];
  const plain = https.createServer(tlsOptions(requestCertOnPlain), handler('plain'));
  servers.push(plain);
  let mtls: https.Server | undefined;
  try {
    const port = await listen(plain);
    let mtlsPort: number | undefined;
    if (opts.aliases) {
      mtls = https.createServer(tlsOptions(true), handler('mtls'));
      servers.push(mtls);
      mtlsPort = await listen(mtls);
    }
    const url = `https://127.0.0.1:${port}`;
    const mtlsUrl = mtlsPort ? `https://127.0.0.1:${mtlsPort}` : undefined;
    const issuer = `${url}${path}`;
    const aliases = mtlsUrl
      ? {
          token_endpoint: `${mtlsUrl}${path}${ROUTES.token}`,
          introspection_endpoint: `${mtlsUrl}${path}${ROUTES.introspection}`,
          revocation_endpoint: `${mtlsUrl}${path}${ROUTES.revocation}`,
          userinfo_endpoint: `${mtlsUrl}${path}${ROUTES.userinfo}`,
          pushed_authorization_request_endpoint: `${mtlsUrl}${path}${ROUTES.pushed_authorization_request}`,
        }
      : undefined;

    const kong: ClientMetadata = {
      client_id: 'kong',
      application_type: 'native', // loopback redirect URIs on any port (RFC 8252 §7.3)
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: rfc4514Subject(pki.client.x509),
      tls_client_certificate_bound_access_tokens: true,
      // The password grant (which Kong supports) does not exist in oidc-provider.
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
      scope: 'openid offline_access api:read',
      ...opts.kong,
    };
    const selfSigned: ClientMetadata = {
      client_id: 'self-signed',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      jwks: {
        keys: [
          {
            ...pki.selfSigned.keyPair.publicKey.export({ format: 'jwk' }),
            use: 'sig',
            x5c: [pki.selfSigned.x509.raw.toString('base64')],
          },
        ],
      },
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api:read',
    };
    const secret: ClientMetadata = {
      client_id: 'secret',
      client_secret: randomBytes(24).toString('base64url'),
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api:read',
    };
    const byId = new Map<string, ClientMetadata>();
    for (const c of [kong, selfSigned, secret, ...(opts.clients ?? [])]) byId.set(c.client_id, c);
    const clients = [...byId.values()];

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

    const configuration: Configuration = {
      clients,
      routes: ROUTES,
      clientAuthMethods: [
        'none',
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'tls_client_auth',
        'self_signed_tls_client_auth',
      ],
      jwks: { keys: await providerJwks() },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      adapter: memoryAdapterFactory(),
      scopes: ['openid', 'offline_access', 'api:read'],
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
        userinfo: { enabled: true },
        rpInitiatedLogout: { enabled: false },
        resourceIndicators: opts.jwtAccessTokens
          ? {
              enabled: true,
              defaultResource: () => RESOURCE,
              useGrantedResource: () => true,
              getResourceServerInfo: (_ctx: unknown, indicator: string) => {
                if (indicator !== RESOURCE) throw new Error(`unknown resource ${indicator}`);
                return {
                  scope: 'api:read',
                  audience: RESOURCE,
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
            if (!cert) return false;
            const sans = sansOf(cert);
            switch (property) {
              case 'tls_client_auth_subject_dn':
                return rfc4514Subject(cert) === expected;
              case 'tls_client_auth_san_dns':
                return sans.dns.includes(expected);
              case 'tls_client_auth_san_uri':
                return sans.uri.includes(expected);
              case 'tls_client_auth_san_ip':
                return sans.ip.includes(canonicalIp(expected));
              case 'tls_client_auth_san_email':
                return sans.email.includes(expected);
              default:
                return false;
            }
          },
        },
      },
      discovery: aliases ? { mtls_endpoint_aliases: aliases } : {},
    };

    const provider = new Provider(issuer, configuration);
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
    const idp: TestIdp = {
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
      pki,
      clients: {
        kong: {
          client_id: 'kong',
          subjectDn: kong.tls_client_auth_subject_dn as string,
          redirectUri: 'http://127.0.0.1/callback',
        },
        selfSigned: { client_id: 'self-signed' },
        secret: { client_id: 'secret', client_secret: secret.client_secret as string },
        all: clients,
      },
      resource: opts.jwtAccessTokens ? RESOURCE : undefined,
      requests,
      serverErrors,
      oauthErrors,
      provider,
      authorize: (authorizationUrl, o) => driveInteractions(idp, authorizationUrl, o),
      async close() {
        await Promise.all(servers.map(closeServer));
      },
    };
    return idp;
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    throw e;
  }
}

function closeServer(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

// ---------------------------------------------------------------------------------------------
// A scripted browser for the dev login and consent forms.

interface RawResponse {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
}

function rawRequest(
  idp: TestIdp,
  url: string,
  method: 'GET' | 'POST',
  cookies: Map<string, string>,
  form?: Record<string, string>,
): Promise<RawResponse> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const headers: Record<string, string> = { accept: 'text/html' };
  if (cookies.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  if (body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: idp.pki.ca.cert, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => {
        for (const line of res.headers['set-cookie'] ?? []) {
          const [pair, ...attrs] = line.split(';');
          const eq = pair.indexOf('=');
          const name = pair.slice(0, eq).trim();
          const value = pair.slice(eq + 1).trim();
          const expired = attrs.some(
            (a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a),
          );
          if (expired || value === '') cookies.delete(name);
          else cookies.set(name, value);
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function driveInteractions(
  idp: TestIdp,
  authorizationUrl: string,
  o: { login?: string; deny?: boolean } = {},
): Promise<string> {
  const cookies = new Map<string, string>();
  const origin = new URL(idp.issuer).origin;
  let next: { url: string; method: 'GET' | 'POST'; form?: Record<string, string> } = {
    url: authorizationUrl,
    method: 'GET',
  };
  for (let step = 0; step < 12; step++) {
    const res = await rawRequest(idp, next.url, next.method, cookies, next.form);
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      const target = new URL(res.headers.location, next.url);
      if (target.origin !== origin) return target.href; // the client's redirect_uri
      next = { url: target.href, method: 'GET' };
      continue;
    }
    if (res.status !== 200) {
      throw new Error(`IdP answered ${res.status} at ${next.url}: ${res.body.slice(0, 300)}`);
    }
    const prompt = /name="prompt" value="(\w+)"/.exec(res.body)?.[1];
    if (!prompt) throw new Error(`no login or consent form at ${next.url}: ${res.body.slice(0, 300)}`);
    if (o.deny) {
      next = { url: `${next.url.replace(/\/$/, '')}/abort`, method: 'GET' };
      continue;
    }
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login: o.login ?? 'alice', password: 'any' } : { prompt };
    next = { url: next.url, method: 'POST', form };
  }
  throw new Error('the login/consent interaction did not finish within 12 steps');
}
