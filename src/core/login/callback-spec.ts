// Where the login's callback listens, from --redirect-uri, --port and --ipv6 (RFC 8252 §7.3, §8.3).

import { usageError } from '../errors.ts';
import { assertLoopbackHost, DEFAULT_CALLBACK_PATH, type LoopbackHost } from './loopback.ts';

export interface CallbackSpec {
  host: LoopbackHost;
  /** 0: an ephemeral port. */
  port: number;
  path: string;
  /** The exact redirect_uri to send, when the IdP registered one (--redirect-uri). */
  redirectUri?: string;
  /** Said once on stderr: the redirect URI names localhost rather than a loopback IP literal. */
  warning?: string;
}

const REDIRECT_HINT =
  'give the exact URI registered at the IdP, on a loopback IP literal (http://127.0.0.1:8765/callback or http://[::1]:8765/callback) or, with a warning, localhost';

/**
 * The listener's address from --redirect-uri, --port and --ipv6. --redirect-uri is used verbatim
 * in both requests (an IdP that registered an exact URI compares strings); it must be plain http on
 * 127.0.0.1 or [::1] (RFC 8252 §7.3, §8.3), or localhost with a warning, without query or fragment. --port and --ipv6 may
 * accompany it only when they agree with it.
 */
export function callbackSpec(o: { redirectUri?: string; port?: number; ipv6?: boolean }): CallbackSpec {
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) {
    throw usageError('BAD_PORT', `--port ${o.port} is not a port number (1-65535)`, {
      hint: 'omit --port for an ephemeral port (the IdP must accept any port on loopback, RFC 8252 §7.3)',
    });
  }
  if (o.redirectUri === undefined) {
    return { host: o.ipv6 ? '::1' : '127.0.0.1', port: o.port ?? 0, path: DEFAULT_CALLBACK_PATH };
  }
  let url: URL;
  try {
    url = new URL(o.redirectUri);
  } catch {
    throw usageError('REDIRECT_URI_INVALID', `--redirect-uri "${o.redirectUri}" is not a URL`, {
      hint: REDIRECT_HINT,
    });
  }
  if (url.protocol !== 'http:') {
    throw usageError(
      'REDIRECT_URI_INVALID',
      `--redirect-uri ${o.redirectUri} must use http: the callback is a plain listener on this machine`,
      { hint: REDIRECT_HINT },
    );
  }
  if (url.search || url.hash || o.redirectUri.includes('#') || url.username || url.password) {
    throw usageError(
      'REDIRECT_URI_INVALID',
      `--redirect-uri ${o.redirectUri} must have no query, fragment or user info`,
      { hint: REDIRECT_HINT },
    );
  }
  // RFC 8252 §8.3: localhost is NOT RECOMMENDED (it may resolve elsewhere, or be intercepted), but
  // many IdPs only register it: allowed, with a warning, listening where it resolves by default.
  const localhost = url.hostname.toLowerCase() === 'localhost';
  const host = localhost ? '127.0.0.1' : assertLoopbackHost(url.hostname);
  const port = url.port === '' ? 80 : Number(url.port);
  if (o.port !== undefined && o.port !== port) {
    throw usageError(
      'CALLBACK_OPTIONS_CONFLICT',
      `--port ${o.port} disagrees with --redirect-uri ${o.redirectUri} (port ${port})`,
      { hint: 'give only --redirect-uri: its port is the one the listener uses' },
    );
  }
  if (o.ipv6 && host !== '::1') {
    throw usageError(
      'CALLBACK_OPTIONS_CONFLICT',
      `--ipv6 disagrees with --redirect-uri ${o.redirectUri} (an IPv4 address)`,
      { hint: 'drop --ipv6, or register and give http://[::1]:PORT/... as the redirect URI' },
    );
  }
  return {
    host,
    port,
    path: url.pathname || '/',
    redirectUri: o.redirectUri,
    ...(localhost
      ? {
          warning: `--redirect-uri uses "localhost", which a browser may resolve to another address than 127.0.0.1, where the callback listens (RFC 8252 §8.3 recommends http://127.0.0.1:${port}${url.pathname}); register the IP literal at the IdP if you can`,
        }
      : {}),
  };
}

/** The redirect URI of a pasted login: nothing listens on it, so any loopback port will do. */
export function pasteRedirectUri(spec: CallbackSpec): string {
  const host = spec.host === '::1' ? '[::1]' : spec.host;
  return `http://${host}${spec.port ? `:${spec.port}` : ''}${spec.path}`;
}
