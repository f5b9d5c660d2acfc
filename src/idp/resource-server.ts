// A protected API (resource server) that enforces certificate-bound access tokens (RFC 8705 §3) as
// Kong's OpenID Connect plugin does with `proof_of_possession_mtls: strict`: it requests a client
// certificate, introspects the bearer token at the IdP over mTLS (RFC 7662, the API authenticated
// as a client of its own), and compares the token's `cnf.x5t#S256` with the SHA-256 thumbprint of
// the certificate presented on the connection. Anything else is refused with 401 and
// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3).
//
// `mtls-oauth idp --api` (src/idp/from-certificates.ts) and the tests (test/helpers/resource-api.ts)
// run this one implementation. A DPoP-bound token (cnf.jkt) must come with the DPoP scheme and a
// proof of its key (RFC 9449 §7.1: signature, htm, htu, iat, ath, the key's thumbprint, no replayed
// jti, and with `dpopNonce` a nonce). `enforceBinding: false` is for the tests only: an API that
// checks that the token is active and nothing more, to prove that `smoke --api` notices.
//
//   const api = await startResourceServer({ server: { cert, key }, introspection: { url, clientId, cert, key, ca } });
//   // GET api.url + '/anything' with Authorization: Bearer TOKEN and the token's certificate
//   await api.close();

import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { x5tS256 } from '../core/pki/thumbprint.ts';
import type { ClientMetadata } from './server.ts';

export interface ResourceServerOptions {
  /** The API's server certificate and key (PEM). */
  server: { cert: string; key: string };
  /** Where and how the API introspects tokens: RFC 7662 with tls_client_auth / self_signed_tls_client_auth. */
  introspection: {
    url: string;
    clientId: string;
    /** The API's client certificate and key for the introspection call (PEM). */
    cert: string;
    key: string;
    /** Trust for the IdP's server certificate (PEM). */
    ca: string;
  };
  /** Compare cnf.x5t#S256 with the certificate presented (default true). false: tests only. */
  enforceBinding?: boolean;
  /** DPoP: demand a server nonce in proofs (RFC 9449 §9, use_dpop_nonce). */
  dpopNonce?: boolean;
  /** Port on 127.0.0.1 (default 0: a free one). */
  port?: number;
  /** Called with every request once it is answered. */
  onRequest?: (r: ApiRequest) => void;
}

export interface ApiRequest {
  method: string;
  path: string;
  /** x5t#S256 of the client certificate presented, if any. */
  certificate?: string;
  status: number;
  /** The reason for a refusal (error_description). */
  reason?: string;
}

export interface ResourceServer {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  enforceBinding: boolean;
  requests: ApiRequest[];
  close(): Promise<void>;
}

/** The realm in every challenge. */
export const API_REALM = 'mtls-oauth test API';
const MAX_BODY = 64 * 1024;

/**
 * The API's registration at the embedded IdP: self_signed_tls_client_auth with its own certificate
 * (any chain), allowed no grant: it only introspects.
 */
export function resourceServerClient(clientId: string, certPem: string): ClientMetadata {
  const cert = new X509Certificate(certPem);
  return {
    client_id: clientId,
    token_endpoint_auth_method: 'self_signed_tls_client_auth',
    jwks: {
      keys: [{ ...cert.publicKey.export({ format: 'jwk' }), use: 'sig', x5c: [cert.raw.toString('base64')] }],
    },
    grant_types: [],
    response_types: [],
    redirect_uris: [],
  };
}

type Introspection = Record<string, unknown> & { active?: unknown };

/** RFC 7662 over mTLS, with Node's https (this is the server side: no HttpClient, no CLI settings). */
function introspect(o: ResourceServerOptions['introspection'], token: string): Promise<Introspection> {
  const body = new URLSearchParams({
    token,
    token_type_hint: 'access_token',
    client_id: o.clientId,
  }).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      o.url,
      {
        method: 'POST',
        cert: o.cert,
        key: o.key,
        ca: o.ca,
        agent: false,
        timeout: 10_000,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
          if (text.length > MAX_BODY) res.destroy(new Error('introspection response too large'));
        });
        res.on('error', reject);
        res.on('end', () => {
          try {
            const json = JSON.parse(text) as Introspection;
            if (res.statusCode !== 200 || typeof json !== 'object' || json === null) {
              reject(new Error(`introspection answered HTTP ${res.statusCode}`));
            } else resolve(json);
          } catch {
            reject(new Error(`introspection answered HTTP ${res.statusCode} without JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('introspection timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A quoted-string for an auth-param (RFC 7230 §3.2.6): no quotes or backslashes to escape. */
const quoted = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<number> {
  return new Promise((resolve, reject) => {
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(size));
    req.on('error', reject);
  });
}

/** Algorithms the API takes in DPoP proofs (asymmetric only, RFC 9449 §4.2). */
const DPOP_ALGS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'];
/** How far a proof's iat may be from now (RFC 9449 §11.1). */
const DPOP_IAT_WINDOW_S = 60;
/** Proof ids kept against replay; older ones are forgotten (their iat window has passed by then). */
const DPOP_MAX_SEEN = 10_000;

interface DpopState {
  seen: Set<string>;
  /** The nonce proofs must carry (RFC 9449 §9), when one is demanded. */
  nonce?: string;
}

/**
 * RFC 9449 §4.3 and §7.1: the DPoP proof of a resource request. Returns why it is refused (with the
 * nonce to send, for use_dpop_nonce), or undefined when it proves possession of the token's key.
 */
async function checkDpopProof(
  req: IncomingMessage,
  token: string,
  jkt: string | undefined,
  port: number,
  state: DpopState,
): Promise<{ error: string; description: string; nonce?: string } | undefined> {
  const bad = (description: string) => ({ error: 'invalid_dpop_proof', description });
  if (!jkt)
    return { error: 'invalid_token', description: 'the access token is not DPoP-bound: send it as Bearer' };
  const proof = req.headers.dpop;
  if (req.headers.authorization?.split(' ')[0].toLowerCase() !== 'dpop') {
    return {
      error: 'invalid_token',
      description: 'the access token is DPoP-bound: send it as "Authorization: DPoP" with a proof',
    };
  }
  if (typeof proof !== 'string' || !proof) return bad('no DPoP proof (a DPoP header) with the request');
  const jose = await import('jose');
  let payload: Record<string, unknown>;
  let header: { jwk?: import('jose').JWK };
  try {
    const v = await jose.jwtVerify(proof, jose.EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS });
    payload = v.payload;
    header = v.protectedHeader as { jwk?: import('jose').JWK };
  } catch (e) {
    return bad(`the DPoP proof does not verify: ${(e as Error).message}`);
  }
  const path = (req.url ?? '/').split('?')[0];
  const expected = [`https://127.0.0.1:${port}${path}`, `https://localhost:${port}${path}`];
  if (payload.htm !== req.method)
    return bad(`htm ${String(payload.htm)} is not the request's method ${req.method}`);
  if (typeof payload.htu !== 'string' || !expected.includes(payload.htu))
    return bad(`htu ${String(payload.htu)} is not this request's URL`);
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > DPOP_IAT_WINDOW_S)
    return bad(`iat is not within ${DPOP_IAT_WINDOW_S} s of now`);
  const ath = createHash('sha256').update(token).digest('base64url');
  if (payload.ath !== ath) return bad('ath is not the hash of the access token sent');
  if (!header.jwk || (await jose.calculateJwkThumbprint(header.jwk, 'sha256')) !== jkt)
    return bad('the proof is signed by another key than the one the access token is bound to (cnf.jkt)');
  if (state.nonce && payload.nonce !== state.nonce) {
    return { error: 'use_dpop_nonce', description: 'a DPoP nonce is required', nonce: state.nonce };
  }
  if (typeof payload.jti !== 'string' || state.seen.has(payload.jti))
    return bad('jti is missing or was used before (a replayed proof)');
  if (state.seen.size >= DPOP_MAX_SEEN) state.seen.clear();
  state.seen.add(payload.jti);
  return undefined;
}

/** Starts the API on 127.0.0.1. */
export async function startResourceServer(opts: ResourceServerOptions): Promise<ResourceServer> {
  const enforceBinding = opts.enforceBinding ?? true;
  const requests: ApiRequest[] = [];
  let port = 0;
  const dpop: DpopState = {
    seen: new Set(),
    nonce: opts.dpopNonce ? randomBytes(16).toString('base64url') : undefined,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerX509Certificate?.();
    const certificate = peer ? x5tS256(peer) : undefined;
    const record: ApiRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0 };
    if (certificate) record.certificate = certificate;
    const done = (status: number, body: unknown, headers?: Record<string, string>) => {
      record.status = status;
      requests.push(record);
      opts.onRequest?.(record);
      send(res, status, body, headers);
    };
    const refuse = (
      error: string | undefined,
      description: string,
      status = 401,
      o: { scheme?: 'Bearer' | 'DPoP'; headers?: Record<string, string> } = {},
    ) => {
      record.reason = description;
      const params = [`realm=${quoted(API_REALM)}`];
      if (error) params.push(`error=${quoted(error)}`, `error_description=${quoted(description)}`);
      if (o.scheme === 'DPoP') params.push(`algs=${quoted(DPOP_ALGS.join(' '))}`);
      done(
        status,
        { error: error ?? 'unauthorized', error_description: description },
        {
          'www-authenticate': `${o.scheme ?? 'Bearer'} ${params.join(', ')}`,
          ...o.headers,
        },
      );
    };

    let received: number;
    try {
      received = await readBody(req);
    } catch {
      return refuse('invalid_request', `the request body is larger than ${MAX_BODY} bytes`, 400);
    }
    const m = /^(Bearer|DPoP) +([\w.~+/-]+=*)$/i.exec(req.headers.authorization ?? '');
    // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
    if (!m) {
      if (req.headers.authorization)
        return refuse(
          'invalid_request',
          'the Authorization header is not "Bearer TOKEN" or "DPoP TOKEN"',
          400,
        );
      return refuse(undefined, 'no access token: send Authorization: Bearer TOKEN');
    }
    const scheme = m[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = m[2];
    let info: Introspection;
    try {
      info = await introspect(opts.introspection, token);
    } catch (e) {
      return done(502, { error: 'introspection_failed', error_description: (e as Error).message });
    }
    if (info.active !== true) {
      return refuse(
        'invalid_token',
        'the access token is not active (expired, revoked or unknown to the IdP)',
      );
    }
    const cnf = info.cnf as Record<string, unknown> | undefined;
    const boundTo = cnf && typeof cnf['x5t#S256'] === 'string' ? (cnf['x5t#S256'] as string) : undefined;
    const jkt = cnf && typeof cnf.jkt === 'string' ? cnf.jkt : undefined;
    // RFC 9449 §7.1: a DPoP-bound token goes with the DPoP scheme and a proof of its key.
    if (enforceBinding && (jkt || scheme === 'DPoP')) {
      const verdict = await checkDpopProof(req, token, jkt, port, dpop);
      if (verdict) {
        return refuse(verdict.error, verdict.description, 401, {
          scheme: 'DPoP',
          ...(verdict.nonce ? { headers: { 'dpop-nonce': verdict.nonce } } : {}),
        });
      }
    }
    if (enforceBinding && !boundTo && !jkt) {
      return refuse(
        'invalid_token',
        'the access token is not sender-constrained (no cnf.x5t#S256 or cnf.jkt)',
      );
    }
    if (enforceBinding && boundTo) {
      if (!certificate) {
        return refuse(
          'invalid_token',
          'the access token is certificate-bound and no client certificate was presented',
        );
      }
      if (certificate !== boundTo) {
        return refuse(
          'invalid_token',
          'the client certificate presented is not the one the access token is bound to',
        );
      }
    }
    done(200, {
      message: 'hello from the mtls-oauth test API',
      method: record.method,
      path: record.path,
      received_bytes: received,
      client_id: info.client_id,
      ...(info.sub !== undefined ? { sub: info.sub } : {}),
      scope: info.scope,
      exp: info.exp,
      cnf: info.cnf,
      certificate: certificate ? { 'x5t#S256': certificate } : null,
      binding: enforceBinding ? 'enforced' : 'not enforced',
      ...(jkt ? { dpop: { jkt } } : {}),
    });
  };

  const server = https.createServer(
    {
      key: opts.server.key,
      cert: opts.server.cert,
      requestCert: true,
      // Any certificate is taken at the TLS layer: the binding, not the chain, decides (a 401 the
      // client can read rather than a failed handshake).
      rejectUnauthorized: false,
    },
    (req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, { error: 'server_error' });
      });
    },
  );
  port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    enforceBinding,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
