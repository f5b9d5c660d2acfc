// How a secret is shown when the user did not ask for it (--show-secrets): decided here, and only
// here, for human output, the -v log, config show, smoke, JUnit, --json and error messages.
//
// - A token (access, refresh or ID token, an assertion, a device code) is shown as a fingerprint of
//   its SHA-256 hash and its length, `sha256:3f2a9c1b…(812 chars)`: no character of the token,
//   but enough to tell two apart and to match one (`printf %s "$TOKEN" | sha256sum`).
// - Any other secret (client secret, password, passphrase, Basic credentials, authorization code,
//   PKCE verifier, cookie) is shown as `***(15 chars)`: no character and no hash, since a hash of
//   a guessable secret such as `Winter2024!Kong` can be found by trying candidates.

import { createHash } from 'node:crypto';

/** Shorter than this, a "token" may be guessable: it is concealed, not fingerprinted. */
const MIN_FINGERPRINT_LENGTH = 16;

/** `***(15 chars)`: that a secret is there, and its length. */
export function conceal(secret: string): string {
  return `***(${secret.length} chars)`;
}

/** `sha256:3f2a9c1b…(812 chars)`: a token identified by the start of its hash (hex, as sha256sum prints). */
export function fingerprint(token: string): string {
  if (token.length < MIN_FINGERPRINT_LENGTH) return conceal(token);
  const hash = createHash('sha256').update(token, 'utf8').digest('hex');
  return `sha256:${hash.slice(0, 8)}…(${token.length} chars)`;
}

/** The start of a fingerprint or a concealed secret (\u2026: the bundle must stay ASCII). */
const REDACTED_START = /^(sha256:[0-9a-f]{8}\u2026|\*\*\*)\(\d+/;

/** Whether a text is a fingerprint or a concealed secret (what --json prints without --show-secrets). */
export function isRedacted(text: string): boolean {
  return REDACTED_START.test(text) && / chars\)$/.test(text);
}

// Names are compared without case, `_` or `-`: client_secret, clientSecret and client-secret alike.
const normalise = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
const TOKEN_LIST = [
  'access_token',
  'refresh_token',
  'id_token',
  'token',
  'subject_token',
  'actor_token',
  'assertion',
  'client_assertion',
  'device_code',
];
const OTHER_SECRET_LIST = [
  'authorization',
  'proxy_authorization',
  'cookie',
  'set_cookie',
  'client_secret',
  'code',
  'code_verifier',
  'password',
  'passphrase',
  'key_passphrase',
  'p12_password',
  'private_key',
  'secret',
  'api_key',
  'x_api_key',
];
const TOKEN_NAMES = new Set(TOKEN_LIST.map(normalise));
const OTHER_SECRET_NAMES = new Set(OTHER_SECRET_LIST.map(normalise));

/** Parameter, member and header names whose values are secrets. */
export function isSecretName(name: string): boolean {
  const n = normalise(name);
  return TOKEN_NAMES.has(n) || OTHER_SECRET_NAMES.has(n);
}

/** An Authorization value: the scheme stays; a bearer-style token is fingerprinted, Basic concealed. */
function redactCredentials(value: string): string {
  const m = value.match(/^(\S+)\s+(\S.*)$/);
  if (!m) return conceal(value);
  return `${m[1]} ${/^(bearer|dpop)$/i.test(m[1]) ? fingerprint(m[2]) : conceal(m[2])}`;
}

/** The value of the parameter, member or header `name` as it may be shown (unchanged if not secret). */
export function redactValue(name: string, value: string): string {
  const n = normalise(name);
  if (TOKEN_NAMES.has(n)) return fingerprint(value);
  if (n === 'authorization' || n === 'proxyauthorization') return redactCredentials(value);
  if (OTHER_SECRET_NAMES.has(n)) return conceal(value);
  return value;
}

/** Redacts secret members of a JSON value, and token-shaped text in every string (a copy). */
export function redactJson(value: unknown): unknown {
  if (typeof value === 'string') return redactText(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        isSecretName(k) && typeof v === 'string' ? redactValue(k, v) : redactJson(v),
      ]),
    );
  }
  return value;
}

/** A form body or query string for a person: decoded `k=v&k=v`, secret values redacted. */
export function redactForm(encoded: string): string {
  const parts: string[] = [];
  for (const [k, v] of new URLSearchParams(encoded)) parts.push(`${k}=${redactValue(k, redactText(v))}`);
  return parts.join('&');
}

/**
 * A regex alternation of names, each matching with `_`, `-` or nothing between its words
 * (client_secret, client-secret, clientSecret). Only there: a separator allowed between every two
 * letters made a pattern that took V8 about 8 ms to compile, in every run that redacted a line.
 */
const alternatives = (names: string[]) =>
  [...names]
    .sort((x, y) => y.length - x.length)
    .map((n) => n.replace(/_/g, '[-_]?'))
    .join('|');
const ALL_NAMES = alternatives([...TOKEN_LIST, ...OTHER_SECRET_LIST]);
const TWO_WORD_NAMES = alternatives([...TOKEN_LIST, ...OTHER_SECRET_LIST].filter((n) => n.includes('_')));
const VALUE = `(["']?)([^"'&\\s,;<>{}]+)`;
/** `access_token=…` and `"refresh_token": "…"`: any secret name. */
const NAMED_SECRET = new RegExp(`(["']?)\\b(${ALL_NAMES})\\1(\\s*=\\s*|(?<=["'])\\s*:\\s*)${VALUE}`, 'gi');
/** `client_secret: …`: only names of two words (a bare `code: 404` or `token: expired` is prose). */
const COLON_SECRET = new RegExp(`\\b(${TWO_WORD_NAMES})(\\s*:\\s*)${VALUE}`, 'gi');
/** A compact JWS (3 parts) or JWE (5 parts): base64url of a JSON header, then dot-separated parts. */
const JWT = /\beyJ[\w-]{4,}(?:\.[\w-]*){1,4}/g;
/** Credentials after an auth scheme, as an echoing server may reflect them. */
const SCHEME_CREDENTIALS = /\b(Bearer|Basic|DPoP)(\s+)([\w.~+/=-]{8,})/gi;

/** JWTs and credentials after an auth scheme, redacted. */
function redactTokens(text: string): string {
  return text
    .replace(JWT, (t) => fingerprint(t))
    .replace(SCHEME_CREDENTIALS, (m, scheme: string, space: string, cred: string) => {
      // "Basic authentication failed" is prose; credentials are long or not only letters.
      if (cred.length < 20 && /^[a-z]+$/i.test(cred)) return m;
      return `${scheme}${space}${/^(bearer|dpop)$/i.test(scheme) ? fingerprint(cred) : conceal(cred)}`;
    });
}

/**
 * Free text with token-shaped parts redacted: JWTs, `name=value` / `"name": "value"` pairs of secret
 * names, credentials after Bearer/Basic, and every `known` value (the secrets a request sent).
 */
export function redactText(text: string, known: Iterable<string | undefined> = []): string {
  let out = text;
  for (const s of known) if (s && s.length >= 4) out = out.split(s).join(conceal(s));
  // Named secrets need a `=` or `:`: without either, their (large, slow to compile) patterns are skipped.
  if (!out.includes('=') && !out.includes(':')) return redactTokens(out);
  return redactTokens(out)
    .replace(NAMED_SECRET, (m, q1: string, name: string, sep: string, q2: string, value: string) =>
      REDACTED_START.test(value) ? m : `${q1}${name}${q1}${sep}${q2}${redactValue(name, value)}`,
    )
    .replace(COLON_SECRET, (m, name: string, sep: string, q2: string, value: string) =>
      REDACTED_START.test(value) ? m : `${name}${sep}${q2}${redactValue(name, value)}`,
    );
}

/** The secret values among request parameters and headers (an Authorization value also without
 *  its scheme): what an answer that echoes them must not show. */
export function secretValues(...records: Array<Record<string, string | undefined>>): string[] {
  return records
    .flatMap((r) => Object.entries(r))
    .filter((e): e is [string, string] => !!e[1] && isSecretName(e[0]))
    .flatMap(([, v]) => [v, v.replace(/^\S+\s+/, '')]);
}

/** The text without a leading byte order mark (U+FEFF), which JSON.parse refuses. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Whether a body is application/x-www-form-urlencoded (by its content type, or by its shape). */
export function looksLikeForm(text: string, contentType?: string): boolean {
  if (/x-www-form-urlencoded/i.test(contentType ?? '')) return true;
  return /^[\w.~%+-]+=[^\s&]*(&[\w.~%+-]+=[^\s&]*)*$/.test(text.trim());
}

/** Whether a body is an HTML page (a proxy's or a login page): for people, so quoted (redacted). */
export function looksLikeHtml(text: string, contentType?: string): boolean {
  return /html/i.test(contentType ?? '') || /^\s*</.test(stripBom(text));
}

/**
 * Whether the body of a successful token response may be quoted (redacted): JSON, a form and an
 * HTML page can be redacted by their structure, while any other text might be an opaque token
 * that looks like nothing in particular.
 */
export function quotableTokenResponse(text: string, contentType?: string): boolean {
  const body = stripBom(text).trim();
  return /^[{[]/.test(body) || looksLikeForm(body, contentType) || looksLikeHtml(body, contentType);
}

/**
 * A response body as it may be shown (in an error, the -v log, JUnit): JSON (with or without a BOM)
 * with secret members redacted, a form with secret parameters redacted, other text with
 * token-shaped parts redacted; `known` are values the request sent (redacted wherever they appear).
 */
export function redactResponseText(
  text: string,
  o: { contentType?: string; known?: Iterable<string | undefined> } = {},
): string {
  const body = stripBom(text);
  const known = [...(o.known ?? [])];
  if (/^\s*[{[]/.test(body)) {
    try {
      return redactText(JSON.stringify(redactJson(JSON.parse(body))), known);
    } catch {}
  }
  if (looksLikeForm(body, o.contentType)) return redactText(redactForm(body.trim()), known);
  return redactText(body, known);
}

/** The first `limit` characters of a redacted response, on one line: `"…"` with `…` when cut. */
export function responseExcerpt(
  text: string,
  o: { contentType?: string; known?: Iterable<string | undefined>; limit?: number } = {},
): string {
  const limit = o.limit ?? 200;
  const flat = redactResponseText(text, o).replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat;
}

// ---------------------------------------------------------------------------------------------
// The -v log of requests and responses (transport/http-client.ts)

/** A form body or query string for the log: decoded for reading, secret values redacted. */
export function formForLog(encoded: string, show: boolean): string {
  if (!show) return redactForm(encoded);
  return [...new URLSearchParams(encoded)].map(([k, v]) => `${k}=${v}`).join('&');
}

export function redactUrl(u: string, show: boolean): string {
  try {
    const url = new URL(u);
    if (!url.search) return u;
    return `${url.origin}${url.pathname}?${formForLog(url.search.slice(1), show)}${url.hash}`;
  } catch {
    return u;
  }
}

const cut = (text: string, limit: number) =>
  text.length > limit ? `${text.slice(0, limit)}…(${text.length} bytes)` : text;

/**
 * The body as a person should see it in the log: JSON and forms with secrets redacted, other text
 * with token-shaped parts redacted, cut at `limit`. A `secret` body (a successful token response)
 * that is not JSON, a form or HTML is not shown: an opaque token in it would not look like one.
 */
export function redactBody(
  text: string,
  o: { contentType?: string; show: boolean; unquotable?: boolean; known?: string[]; limit?: number },
): string {
  const limit = o.limit ?? 4000;
  if (o.show) return cut(text, limit);
  if (o.unquotable) {
    return `(${text.length} bytes of ${o.contentType ?? 'no content type'} not shown: a token response may hold tokens; --show-secrets shows it)`;
  }
  return cut(redactResponseText(text, { contentType: o.contentType, known: o.known }), limit);
}
