// The test IdP: the embedded IdP (src/idp/server.ts, the one `mtls-oauth idp` runs) with what tests
// need around it: a PKI of several identities (makeIdpPki), three registered clients (`kong`
// tls_client_auth, `self-signed`, `secret`), and a scripted browser for its login and consent pages.
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
// certificate's subject itself (src/idp/referee.ts, on the ASN.1 reader alone), independently of
// src/core/pki/dn.ts, and compares it character for character with tls_client_auth_subject_dn.

import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { buildCertificate, derToPem } from '../../src/core/pki/certificate.ts';
import { parseDn } from '../../src/core/pki/dn.ts';
import { generateKey, privateKeyPem } from '../../src/core/pki/keys.ts';
import { LOOPBACK_REDIRECT_URI, selfSignedClient, tlsClientAuthClient } from '../../src/idp/clients.ts';
import { rfc4514Subject, sansOf } from '../../src/idp/referee.ts';
import {
  type ClientMetadata,
  type EmbeddedIdp,
  type EmbeddedIdpOptions,
  type IdpRequest,
  startEmbeddedIdp,
} from '../../src/idp/server.ts';
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
// The IdP

export type { ClientMetadata, IdpRequest };
export { rfc4514Subject, sansOf };

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
  /** The host name of the issuer instead of 127.0.0.1 (still listening on 127.0.0.1): for --connect-to. */
  publicHost?: string;
  /** Extra clients, or replacements of the built-in ones with the same client_id. */
  clients?: ClientMetadata[];
  /** Token lifetimes in seconds. */
  ttl?: EmbeddedIdpOptions['ttl'];
  /** Keep oidc-provider's console notices (default: silenced). */
  verbose?: boolean;
  /**
   * Koa middleware run in front of oidc-provider's routes (provider.use), e.g. to rewrite a
   * response on its way out. Must be given here: the request handler is composed at start.
   */
  middleware?: Array<(ctx: any, next: () => Promise<void>) => Promise<void>>;
  /**
   * More CA certificates (PEM) the IdP trusts for client certificates, besides `pki.ca`: e.g. the
   * CA `mtls-oauth certs init` made.
   */
  clientCas?: string[];
  /** Changes to the `kong` client's registration, e.g. `{ tls_client_auth_subject_dn: 'CN=kong' }`. */
  kong?: Partial<ClientMetadata>;
  /** DPoP: demand a server nonce first (use_dpop_nonce). */
  dpopNonce?: boolean;
  /** Issuers whose JWT bearer assertions the IdP accepts (src/idp/grants.ts). */
  assertionIssuers?: EmbeddedIdpOptions['assertionIssuers'];
  /** PAR required of every authorization request (RFC 9126 §5). */
  requirePar?: boolean;
  /** The FAPI 2.0 configuration of the embedded IdP (src/idp/server.ts). */
  fapi2?: boolean;
}

export interface TestIdp extends Omit<EmbeddedIdp, 'clients'> {
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
  /**
   * Drives the dev login and consent forms for an authorization URL (as a browser would) and returns
   * the final redirect to the client's redirect_uri (not followed). `deny` aborts the interaction.
   */
  authorize(authorizationUrl: string, opts?: { login?: string; deny?: boolean }): Promise<string>;
}

/** The resource indicator used with `jwtAccessTokens`. */
export const RESOURCE = 'urn:mtls-oauth:test-api';

export async function startIdp(opts: IdpOptions = {}): Promise<TestIdp> {
  const pki = opts.pki ?? (await makeIdpPki());
  const kong: ClientMetadata = { ...tlsClientAuthClient('kong', pki.client.x509), ...opts.kong };
  const selfSigned = selfSignedClient('self-signed', pki.selfSigned.x509);
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

  const embedded = await startEmbeddedIdp({
    server: { cert: pki.server.cert, key: pki.server.key },
    clientCas: [pki.ca.cert, ...(opts.clientCas ?? [])],
    clients,
    aliases: opts.aliases,
    requestCertOnPlain: opts.requestCertOnPlain,
    tls12: opts.tls12,
    jwtAccessTokensFor: opts.jwtAccessTokens ? RESOURCE : undefined,
    path: opts.path,
    publicHost: opts.publicHost,
    ttl: opts.ttl,
    verbose: opts.verbose,
    middleware: opts.middleware,
    assertionIssuers: opts.assertionIssuers,
    dpopNonce: opts.dpopNonce,
    requirePar: opts.requirePar,
    fapi2: opts.fapi2,
  });
  const idp: TestIdp = {
    ...embedded,
    pki,
    clients: {
      kong: {
        client_id: 'kong',
        subjectDn: kong.tls_client_auth_subject_dn as string,
        redirectUri: LOOPBACK_REDIRECT_URI,
      },
      selfSigned: { client_id: 'self-signed' },
      secret: { client_id: 'secret', client_secret: secret.client_secret as string },
      all: clients,
    },
    resource: opts.jwtAccessTokens ? RESOURCE : undefined,
    authorize: (authorizationUrl, o) =>
      authorizeAt({ issuer: embedded.issuer, ca: pki.ca.cert }, authorizationUrl, o),
  };
  return idp;
}

// ---------------------------------------------------------------------------------------------
// A scripted browser for the dev login and consent forms: of the test IdP (idp.authorize), or of any
// embedded IdP whose server certificate `ca` issued (`mtls-oauth idp`, which npm run demo runs).

/** Where the scripted browser goes, and what it trusts for the IdP's server certificate (PEM). */
export interface IdpSite {
  issuer: string;
  ca: string;
}

interface RawResponse {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  body: string;
}

function rawRequest(
  idp: IdpSite,
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
    const req = https.request(url, { method, headers, ca: idp.ca, agent: false }, (res) => {
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

/**
 * Drives the login and consent forms for an authorization URL and returns the final redirect to
 * the client's redirect_uri (not followed). `deny` aborts the interaction.
 */
export async function authorizeAt(
  idp: IdpSite,
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

/**
 * Plays the person approving a device login (RFC 8628) in a browser: the verification URI with
 * the user code → the code form → the confirmation (or abort, with `deny`) → the dev login and
 * consent forms → the IdP's success page. Resolves with the last page's text.
 */
export async function approveDevice(
  idp: IdpSite,
  verificationUriComplete: string,
  o: { login?: string; deny?: boolean } = {},
): Promise<string> {
  const cookies = new Map<string, string>();
  const hidden = (body: string, name: string) =>
    new RegExp(`name="${name}" value="([^"]*)"`).exec(body)?.[1] ?? '';
  let next: { url: string; method: 'GET' | 'POST'; form?: Record<string, string> } = {
    url: verificationUriComplete,
    method: 'GET',
  };
  for (let step = 0; step < 16; step++) {
    const res = await rawRequest(idp, next.url, next.method, cookies, next.form);
    if (res.status >= 300 && res.status < 400 && res.headers.location) {
      next = { url: new URL(res.headers.location, next.url).href, method: 'GET' };
      continue;
    }
    if (res.status !== 200)
      throw new Error(`IdP answered ${res.status} at ${next.url}: ${res.body.slice(0, 300)}`);
    const action = (id: string) => {
      const m = new RegExp(`<form id="${id}"[^>]*action="([^"]+)"`).exec(res.body);
      return new URL(m?.[1] ?? next.url, next.url).href;
    };
    const xsrf = hidden(res.body, 'xsrf');
    if (res.body.includes('op.deviceInputForm')) {
      // The URI carried the code: the form comes filled in.
      const userCode = /value="([^"]*)"[^>]*name="user_code"/.exec(res.body)?.[1] ?? '';
      next = { url: action('op.deviceInputForm'), method: 'POST', form: { xsrf, user_code: userCode } };
      continue;
    }
    if (res.body.includes('op.deviceConfirmForm')) {
      const form: Record<string, string> = { xsrf, user_code: hidden(res.body, 'user_code') };
      if (o.deny) {
        // Abort: the IdP denies the device code and shows its code form again, with a message.
        const aborted = await rawRequest(idp, action('op.deviceConfirmForm'), 'POST', cookies, {
          ...form,
          abort: 'yes',
        });
        return aborted.body
          .replace(/<[^>]+>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim();
      }
      next = { url: action('op.deviceConfirmForm'), method: 'POST', form: { ...form, confirm: 'yes' } };
      continue;
    }
    if (/document\.forms\[0\]\.submit\(\)/.test(res.body)) {
      // A self-submitting form (the IdP posting the outcome to its own callback): submit it.
      const target = /<form[^>]*action="([^"]+)"/.exec(res.body)?.[1] ?? next.url;
      const form: Record<string, string> = {};
      for (const m of res.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
        form[m[1]] = m[2];
      next = { url: new URL(target.replace(/&amp;/g, '&'), next.url).href, method: 'POST', form };
      continue;
    }
    const prompt = /name="prompt" value="(\w+)"/.exec(res.body)?.[1];
    if (!prompt)
      return res.body
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login: o.login ?? 'alice', password: 'any' } : { prompt };
    next = { url: next.url, method: 'POST', form };
  }
  throw new Error('the device approval did not finish within 16 steps');
}
