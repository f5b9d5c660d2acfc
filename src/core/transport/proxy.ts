// HTTPS_PROXY / NO_PROXY: which connections go through an HTTP proxy, and the CONNECT tunnel itself.
//
// The tunnel is opened by the transport's own connector (transport/connector.ts) and the TLS
// handshake with the IdP runs inside it, end to end: the proxy only relays bytes, so the client
// certificate, the server's chain and every diagnostic are exactly as without a proxy (mTLS is
// preserved through CONNECT). Only https:// URLs use the proxy; plain http:// is allowed on loopback
// only and always goes direct.
//
// Environment, as curl reads it: https_proxy, else HTTPS_PROXY (an URL; "host:port" means
// http://host:port; user:password@ gives Proxy-Authorization: Basic). no_proxy, else NO_PROXY: a
// comma- or space-separated list of host names (a name also matches its subdomains; a leading "."
// or "*." is allowed), IP addresses, CIDR ranges (10.0.0.0/8, fd00::/8), each optionally with
// ":port"; "*" alone bypasses the proxy for every host.

import { BlockList, isIP, type Socket } from 'node:net';
import { usageError } from '../errors.ts';

export interface ProxyRoute {
  host: string;
  port: number;
  /** The proxy URL without credentials, for records and messages: "http://proxy.example:3128". */
  display: string;
  /** The environment variable it came from ("HTTPS_PROXY", "https_proxy"), or "option". */
  source: string;
  /** Proxy-Authorization header value, when the URL carries credentials. */
  authorization?: string;
}

export interface ProxyTarget {
  /** Host name or IP address (IPv6 without brackets). */
  hostname: string;
  port: number;
  protocol: string;
}

interface NoProxyEntry {
  host?: string;
  /** matches subdomains too (always, as curl does; a leading "." or "*." is dropped) */
  blocks?: BlockList;
  port?: number;
}

export interface ProxySettings {
  route: ProxyRoute;
  /** Where the exclusions came from, e.g. "NO_PROXY", when any. */
  noProxySource?: string;
  noProxy: NoProxyEntry[] | '*';
  /** Which route a connection takes: undefined for direct. */
  routeFor(target: ProxyTarget): ProxyRoute | undefined;
}

const pick = (env: NodeJS.ProcessEnv, names: string[]): [string, string] | undefined => {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v.trim() !== '') return [n, v.trim()];
  }
  return undefined;
};

/** Parses a proxy URL as curl accepts it; usage errors for what cannot be used. */
export function parseProxyUrl(raw: string, source: string): ProxyRoute {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw usageError('BAD_PROXY', `${source} is not a URL: "${raw}"`, {
      hint: `set ${source} to http://HOST:PORT (or unset it to connect directly)`,
    });
  }
  if (u.protocol !== 'http:') {
    throw usageError(
      'BAD_PROXY',
      `${source}: ${u.protocol.replace(/:$/, '')}:// proxies are not supported (${u.protocol}//${u.host})`,
      {
        hint: `use the proxy's http:// address: the CONNECT tunnel carries TLS from this tool to the IdP end to end either way (or unset ${source})`,
      },
    );
  }
  if (!u.hostname) {
    throw usageError('BAD_PROXY', `${source} has no host: "${raw}"`, {
      hint: `set ${source} to http://HOST:PORT`,
    });
  }
  const route: ProxyRoute = {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || 80,
    display: `http://${u.host}`,
    source,
  };
  if (u.username || u.password) {
    const decode = (x: string) => {
      try {
        return decodeURIComponent(x);
      } catch {
        return x; // a stray "%": taken as written
      }
    };
    const user = decode(u.username);
    const pass = decode(u.password);
    route.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return route;
}

function parseNoProxy(raw: string): NoProxyEntry[] | '*' {
  const entries: NoProxyEntry[] = [];
  for (let item of raw.split(/[\s,]+/)) {
    item = item.trim().toLowerCase();
    if (!item) continue;
    if (item === '*') return '*';
    let port: number | undefined;
    // [v6]:port, v4:port, name:port; a bare IPv6 address has several colons and no port.
    const bracketed = item.match(/^\[([^\]]+)\](?::(\d+))?$/);
    if (bracketed) {
      item = bracketed[1];
      port = bracketed[2] ? Number(bracketed[2]) : undefined;
    } else if ((item.match(/:/g) ?? []).length === 1) {
      const [h, p] = item.split(':');
      if (/^\d+$/.test(p)) {
        item = h;
        port = Number(p);
      }
    }
    const cidr = item.match(/^([^/]+)\/(\d{1,3})$/);
    if (cidr && isIP(cidr[1])) {
      const blocks = new BlockList();
      const family = isIP(cidr[1]) === 6 ? 'ipv6' : 'ipv4';
      const prefix = Number(cidr[2]);
      if (prefix <= (family === 'ipv6' ? 128 : 32)) {
        blocks.addSubnet(cidr[1], prefix, family);
        entries.push({ blocks, port });
      }
      continue;
    }
    item = item.replace(/^\*?\./, '');
    if (item) entries.push({ host: item, port });
  }
  return entries;
}

function matches(entry: NoProxyEntry, target: ProxyTarget): boolean {
  if (entry.port !== undefined && entry.port !== target.port) return false;
  const host = target.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (entry.blocks) {
    const family = isIP(host);
    return family !== 0 && entry.blocks.check(host, family === 6 ? 'ipv6' : 'ipv4');
  }
  const want = entry.host!;
  if (isIP(host) || isIP(want)) {
    if (isIP(host) === 6 && isIP(want) === 6) return normalizeV6(host) === normalizeV6(want);
    return host === want;
  }
  return host === want || host.endsWith(`.${want}`);
}

function normalizeV6(a: string): string {
  try {
    return new URL(`http://[${a}]/`).hostname;
  } catch {
    return a;
  }
}

/**
 * The proxy settings of an environment, or undefined when no proxy is set. `explicit` (an URL)
 * overrides the environment; `false` turns proxies off.
 */
export function proxyFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  explicit?: string | false,
): ProxySettings | undefined {
  if (explicit === false) return undefined;
  const found: [string, string] | undefined =
    explicit !== undefined ? ['option', explicit] : pick(env, ['https_proxy', 'HTTPS_PROXY']);
  if (!found) return undefined;
  const route = parseProxyUrl(found[1], found[0]);
  const np = pick(env, ['no_proxy', 'NO_PROXY']);
  const noProxy = np ? parseNoProxy(np[1]) : [];
  return {
    route,
    noProxy,
    ...(np ? { noProxySource: np[0] } : {}),
    routeFor(target) {
      if (target.protocol !== 'https:') return undefined;
      if (noProxy === '*') return undefined;
      if (noProxy.some((e) => matches(e, target))) return undefined;
      return route;
    },
  };
}

/** An error while opening the tunnel: `code` PROXY_CONNECT_FAILED (non-2xx) or PROXY_CLOSED. */
export class ProxyTunnelError extends Error {
  constructor(
    readonly code: 'PROXY_CONNECT_FAILED' | 'PROXY_CLOSED' | 'PROXY_BAD_ANSWER',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

const MAX_PROXY_ANSWER = 64 * 1024;

/**
 * Sends `CONNECT host:port` over a connected socket to the proxy and waits for its 2xx answer. Any
 * bytes after the answer's header belong to the tunnel and are put back into the socket.
 */
export function openTunnel(socket: Socket, target: ProxyTarget, route: ProxyRoute): Promise<void> {
  const authority = `${isIP(target.hostname) === 6 ? `[${target.hostname}]` : target.hostname}:${target.port}`;
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (e: Error) => {
      cleanup();
      reject(e);
    };
    const onError = (e: Error) => fail(e);
    const onEnd = () =>
      fail(
        new ProxyTunnelError(
          'PROXY_CLOSED',
          `the proxy ${route.display} closed the connection before answering CONNECT ${authority}`,
        ),
      );
    const onData = (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_PROXY_ANSWER) {
          fail(
            new ProxyTunnelError(
              'PROXY_BAD_ANSWER',
              `the proxy ${route.display} sent more than ${MAX_PROXY_ANSWER} bytes without ending its answer to CONNECT`,
            ),
          );
        }
        return;
      }
      const head = buf.subarray(0, end).toString('latin1');
      const statusLine = head.split('\r\n')[0];
      const m = statusLine.match(/^HTTP\/\d(?:\.\d)? (\d{3})(?: (.*))?$/);
      if (!m) {
        fail(
          new ProxyTunnelError(
            'PROXY_BAD_ANSWER',
            `the proxy ${route.display} did not answer CONNECT with HTTP: "${statusLine.slice(0, 80)}"`,
          ),
        );
        return;
      }
      const status = Number(m[1]);
      if (status < 200 || status > 299) {
        fail(
          new ProxyTunnelError(
            'PROXY_CONNECT_FAILED',
            `the proxy ${route.display} refused CONNECT ${authority}: HTTP ${status}${m[2] ? ` ${m[2].slice(0, 80)}` : ''}`,
            status,
          ),
        );
        return;
      }
      cleanup();
      socket.pause();
      const rest = buf.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve();
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
    socket.write(
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: mtls-oauth\r\n${route.authorization ? `Proxy-Authorization: ${route.authorization}\r\n` : ''}\r\n`,
    );
  });
}
