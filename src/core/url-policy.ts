// The one rule for every URL the tool sends a request to or sends a person to: https, or plain
// http only to a loopback address (a test IdP on this machine). It applies wherever a URL comes
// from: flags, MTLS_OAUTH_* variables, config profiles, discovery metadata (endpoints,
// mtls_endpoint_aliases, jwks_uri) and the issuer. http:// to any other host is refused, with no
// override: a client secret, a code or a token would cross the network in cleartext.
//
// Loopback means 127.0.0.0/8, ::1, their IPv4-mapped form (::ffff:127.x.y.z, which WHATWG URL
// writes ::ffff:7f00:1) and the name "localhost". The URL parser has already normalized the
// host (127.1, 0x7f.1 and 2130706433 become 127.0.0.1; IPv6 is compressed and lowercased), so
// these tests see one spelling per address.

import { usageError } from './errors.ts';

/** True for a loopback host as URL.hostname writes it ("[::1]", "127.0.0.2", "localhost"). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  // IPv4-mapped IPv6: ::ffff:127.x.y.z, in the hex form the URL parser produces or the dotted one.
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h) || /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Why a parsed URL may not be used, or undefined when it may: https, or http on loopback. */
export function schemeProblem(u: URL): string | undefined {
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:')
    return isLoopbackHost(u.hostname) ? undefined : 'uses http:// on a non-loopback host';
  return `uses ${u.protocol} (only https:// is allowed)`;
}

/** Why a URL string may not be used, or undefined when it may. */
export function urlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return 'is not an absolute URL';
  }
  return schemeProblem(u);
}

export const CLEARTEXT_HINT =
  'use the https:// URL: plain http:// is accepted only on loopback (127.0.0.0/8, [::1], localhost), for a test IdP on this machine';

/** Parses a URL the tool is about to use; throws BAD_URL (exit 2) when the rule above refuses it. */
export function parseSafeUrl(raw: string, what?: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usageError('BAD_URL', `"${raw}" is not a URL${what ? ` (${what})` : ''}`, {
      hint: 'give an absolute https:// URL',
    });
  }
  const problem = schemeProblem(u);
  if (problem) {
    throw usageError('BAD_URL', `${what ? `${what}: ` : ''}${raw} ${problem}`, { hint: CLEARTEXT_HINT });
  }
  return u;
}
