// A request to a protected API with a certificate-bound access token (RFC 8705 §3): `Authorization:
// Bearer TOKEN` over a connection that presents the client certificate the token is bound to — or,
// to prove that the API enforces the binding, no certificate or another one. Used by `call` and by
// smoke's api steps. The answer is returned whatever its status: what it means is the caller's.

import { jwtClaims, thumbprintOf } from './binding.ts';
import { type DpopSigner, jktOf } from './dpop.ts';
import { usageError } from './errors.ts';
import type { HttpClient, HttpResult } from './transport/http-client.ts';

/** RFC 7230 token: the characters of a method or a header name. */
const TOKEN_CHARS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers `call` sets itself: a second value would make the request say two things. */
const OWN_HEADERS = new Set(['authorization', 'host', 'content-length', 'transfer-encoding', 'connection']);

/** `-H 'Name: value'` (repeatable) as a header record; a usage error for anything else. */
export function parseHeaders(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!TOKEN_CHARS.test(name) || /[\r\n\0]/.test(value)) {
      throw usageError('BAD_HEADER', `-H "${line}" is not a header "Name: value"`, {
        hint: "e.g. -H 'Accept: application/json'",
      });
    }
    const key = name.toLowerCase();
    if (OWN_HEADERS.has(key)) {
      throw usageError('BAD_HEADER', `-H ${name}: call sets this header itself`, {
        hint:
          key === 'authorization'
            ? 'the token goes in Authorization: Bearer; give the token with --token - (stdin) instead'
            : 'leave it out',
      });
    }
    out[key] = key in out ? `${out[key]}, ${value}` : value;
  }
  return out;
}

/** An HTTP method: a token, in capitals (curl's -X). */
export function parseMethod(method: string): string {
  if (!TOKEN_CHARS.test(method)) {
    throw usageError('BAD_ARGUMENTS', `-X "${method}" is not an HTTP method`, { hint: 'e.g. -X POST' });
  }
  return method.toUpperCase();
}

/** --expect-status: a status (200) or a class (2xx), as a test on the status received. */
export function parseExpectStatus(value: string): { text: string; test(status: number): boolean } {
  const v = value.trim().toLowerCase();
  if (/^[1-5]\d\d$/.test(v)) return { text: v, test: (s) => s === Number(v) };
  if (/^[1-5]xx$/.test(v)) return { text: v, test: (s) => Math.floor(s / 100) === Number(v[0]) };
  throw usageError('BAD_EXPECT_STATUS', `--expect-status "${value}" is not an HTTP status or class`, {
    hint: 'e.g. --expect-status 200, --expect-status 2xx, or --expect-status 401 for a negative proof',
  });
}

/** A challenge from WWW-Authenticate (RFC 7235 §4.1), its auth-params by lower-case name. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * The challenges of a WWW-Authenticate value: `Bearer realm="api", error="invalid_token", ...`
 * (several may be comma-separated, and a quoted value may hold commas).
 */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  let i = 0;
  const token = () => {
    const m = /^[!#$%&'*+.^_`|~0-9A-Za-z/-]+/.exec(header.slice(i));
    i += m ? m[0].length : 0;
    return m?.[0] ?? '';
  };
  const spaces = () => {
    while (i < header.length && /[\s,]/.test(header[i])) i++;
  };
  while (i < header.length) {
    spaces();
    const word = token();
    if (!word) {
      i++; // a character no grammar allows here: skipped
      continue;
    }
    while (header[i] === ' ' || header[i] === '\t') i++;
    if (header[i] === '=' && current) {
      i++;
      while (header[i] === ' ' || header[i] === '\t') i++;
      let value = '';
      if (header[i] === '"') {
        for (i++; i < header.length && header[i] !== '"'; i++) {
          if (header[i] === '\\') i++;
          value += header[i] ?? '';
        }
        i++;
      } else value = token();
      current.params[word.toLowerCase()] = value;
    } else if (header[i] === '=') {
      i++; // token68 padding without a scheme: ignored
    } else {
      current = { scheme: word, params: {} };
      out.push(current);
    }
  }
  return out;
}

/** What a Bearer error code (RFC 6750 §3.1) means here, for a person. */
export function explainBearerError(error: string | undefined): string | undefined {
  switch (error) {
    case 'invalid_token':
      return 'the API refused the token itself: expired, revoked, unknown to its IdP, or — for a certificate-bound token — not sent with the certificate it is bound to (RFC 8705 §3)';
    case 'invalid_request':
      return 'the API found the request malformed (a missing or repeated parameter, or the token sent twice)';
    case 'insufficient_scope':
      return 'the token is valid but lacks the scope this resource needs (see the scope parameter)';
    default:
      return undefined;
  }
}

/** Where the token's binding was learned: the JWT's own cnf, or the cache's record of the certificate it was obtained with. */
export type BindingSource = 'jwt cnf' | 'cached';

export interface CallBinding {
  /** x5t#S256 the token is bound to, when known. */
  token?: string;
  tokenSource?: BindingSource;
  /** x5t#S256 of the certificate presented; null when none was. */
  presented: string | null;
  /** Whether they are the same: undefined when the token's binding is unknown (an opaque token from stdin). */
  match?: boolean;
  /** DPoP (RFC 9449), when the token is bound to a key or the request carries a proof. */
  dpop?: DpopBinding;
}

export interface DpopBinding {
  /** cnf.jkt of the token, when known (its JWT, or the cache). */
  boundTo?: string;
  /** The thumbprint of the key the proof was made with; absent: sent without a proof. */
  proofKey?: string;
  /** Whether they are the same: undefined when either is unknown. */
  match?: boolean;
}

/** The DPoP side of a call: the key the token is bound to beside the one that signs the proof. */
export function dpopBinding(
  token: string,
  o: { cachedJkt?: string; proofKey?: string },
): DpopBinding | undefined {
  const boundTo = jktOf(jwtClaims(token)) ?? o.cachedJkt;
  if (!boundTo && !o.proofKey) return undefined;
  return {
    ...(boundTo ? { boundTo } : {}),
    ...(o.proofKey ? { proofKey: o.proofKey } : {}),
    ...(boundTo && o.proofKey ? { match: boundTo === o.proofKey } : {}),
  };
}

/** The binding of a token beside the certificate a request presents. */
export function callBinding(token: string, o: { cachedX5t?: string; presented?: string }): CallBinding {
  const fromJwt = thumbprintOf(jwtClaims(token));
  const bound = fromJwt ?? o.cachedX5t;
  const b: CallBinding = { presented: o.presented ?? null };
  if (bound) {
    b.token = bound;
    b.tokenSource = fromJwt ? 'jwt cnf' : 'cached';
    b.match = bound === o.presented;
  }
  return b;
}

export interface ApiCallInput {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  token: string;
  /** Present the HttpClient's client certificate (default true when it has one). */
  withClientCert?: boolean;
  /**
   * Send the token as `Authorization: DPoP` with a proof of this key (RFC 9449 §7), carrying the
   * token's hash (ath). Absent: `Authorization: Bearer`.
   */
  dpop?: DpopSigner;
  step?: string;
}

export interface ApiResponse extends HttpResult {
  method: string;
  /** The Bearer or DPoP challenge of a refusal, when the API sent one. */
  challenge?: Challenge;
  /** The API asked for a DPoP nonce (use_dpop_nonce) and the request was sent again with it. */
  dpopNonceRetry?: boolean;
}

/** RFC 9449 §9: a resource server asks for a nonce with 401, error="use_dpop_nonce" and DPoP-Nonce. */
function wantsDpopNonce(res: HttpResult, challenge: Challenge | undefined): boolean {
  return res.status === 401 && challenge?.params.error === 'use_dpop_nonce' && !!res.headers['dpop-nonce'];
}

/**
 * One request to the API with the token as `Authorization: Bearer`, or `DPoP` with a proof. A
 * DPoP nonce the API asks for is sent on a second try, once. Transport failures throw (network
 * kind, exit 3); any HTTP status is an answer.
 */
export async function callApi(http: HttpClient, o: ApiCallInput): Promise<ApiResponse> {
  const method = o.method ?? (o.body !== undefined ? 'POST' : 'GET');
  const send = async () => {
    const auth: Record<string, string> = o.dpop
      ? {
          authorization: `DPoP ${o.token}`,
          dpop: await o.dpop.proof({ method, url: o.url, accessToken: o.token }),
        }
      : { authorization: `Bearer ${o.token}` };
    const res = await http.request({
      url: o.url,
      method,
      headers: { ...o.headers, ...auth },
      ...(o.body !== undefined ? { body: o.body } : {}),
      withClientCert: o.withClientCert,
      expectJson: false,
      step: o.step ?? 'API request',
      // The API may echo what it was sent: shown redacted like a token response.
      secretResponse: true,
    });
    const nonce = res.headers['dpop-nonce'];
    if (o.dpop && typeof nonce === 'string' && nonce) o.dpop.rememberNonce(o.url, nonce);
    const challenge = parseChallenges(res.headers['www-authenticate']).find((c) =>
      /^(bearer|dpop)$/i.test(c.scheme),
    );
    return { ...res, method, ...(challenge ? { challenge } : {}) };
  };
  const first = await send();
  if (!o.dpop || !wantsDpopNonce(first, first.challenge)) return first;
  return { ...(await send()), dpopNonceRetry: true };
}
