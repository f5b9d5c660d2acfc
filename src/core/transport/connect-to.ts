// --connect-to HOST:PORT:HOST2:PORT2, with curl's meaning: a request for HOST:PORT connects to
// HOST2:PORT2 instead (a load balancer, a new IdP node before DNS points at it), while SNI and the
// server certificate check stay on HOST. An empty HOST or PORT matches any; an empty HOST2 or PORT2
// keeps the request's own. Several mappings are separated by commas; the first that matches wins.

import { usageError } from '../errors.ts';

export interface ConnectTo {
  /** lower case, without brackets; '' for any host */
  host: string;
  /** undefined for any port */
  port?: number;
  /** '' to keep the request's host */
  toHost: string;
  /** undefined to keep the request's port */
  toPort?: number;
}

// A host is a bracketed IPv6 address or a name/IPv4 address without colons; ports are digits.
const HOST = String.raw`(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\],@]*)`;
const MAPPING = new RegExp(`^${HOST}:(\\d*):${HOST}:(\\d*)$`);

const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

function port(text: string, whole: string): number | undefined {
  if (text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    throw usageError('BAD_CONNECT_TO', `--connect-to "${whole}": ${text} is not a port (1-65535)`, {
      hint: HINT,
    });
  }
  return n;
}

const HINT =
  'the form is HOST:PORT:HOST2:PORT2, e.g. --connect-to idp.example.com:443:10.0.0.7:8443 (IPv6 in brackets; several separated by commas)';

/** Parses a --connect-to value (one mapping or several, comma-separated); a usage error if malformed. */
export function parseConnectTo(value: string): ConnectTo[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) {
    throw usageError('BAD_CONNECT_TO', `--connect-to "${value}" has an empty mapping`, { hint: HINT });
  }
  return parts.map((whole) => {
    const m = MAPPING.exec(whole);
    if (!m) {
      throw usageError('BAD_CONNECT_TO', `--connect-to "${whole}" is not HOST:PORT:HOST2:PORT2`, {
        hint: HINT,
      });
    }
    return { host: bare(m[1]!), port: port(m[2]!, whole), toHost: bare(m[3]!), toPort: port(m[4]!, whole) };
  });
}

/** Where a connection for host:port goes: the first matching mapping's target, or host:port itself. */
export function connectTarget(
  mappings: readonly ConnectTo[] | undefined,
  host: string,
  port: number,
): { host: string; port: number; mapped: boolean } {
  const h = bare(host);
  const m = mappings?.find(
    (c) => (c.host === '' || c.host === h) && (c.port === undefined || c.port === port),
  );
  if (!m) return { host: h, port, mapped: false };
  return { host: m.toHost || h, port: m.toPort ?? port, mapped: true };
}
