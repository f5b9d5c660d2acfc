// A TLS probe of an endpoint: one request through the run's HttpClient (the same agent, connector,
// trust and client identity as every other request), whose outcome is kept rather than thrown: the
// connection record, the HTTP status when the server answered, the classified failure when it did
// not. `tls`, `tls --all` and smoke's tls step probe through here; verdict.ts judges the outcome.

import { isMtlsOAuthError, type MtlsOAuthError } from '../errors.ts';
import type { ConnectionRecord } from '../transport/diagnostics.ts';
import type { HttpClient } from '../transport/http-client.ts';

export interface ProbeResult {
  url: string;
  /** the connection the probe went over (absent when none was opened: a bad URL, DNS) */
  record?: ConnectionRecord;
  /** the HTTP status the server answered with (any status: this is about TLS) */
  status?: number;
  /** why there was no answer (network, TLS, timeout) */
  error?: MtlsOAuthError;
  /** a client certificate was offered on this probe */
  withClientCert: boolean;
}

export interface ProbeOptions {
  method?: 'GET' | 'HEAD';
  /** default: when the client has an identity */
  withClientCert?: boolean;
}

/** Probes one URL. Usage and internal errors throw; a network, TLS or timeout failure is the outcome. */
export async function probeEndpoint(
  http: HttpClient,
  url: string,
  o: ProbeOptions = {},
): Promise<ProbeResult> {
  const withClientCert = o.withClientCert ?? !!http.identity;
  const before = http.connections.length;
  const out: ProbeResult = { url, withClientCert };
  try {
    const r = await http.probe({ url, method: o.method ?? 'GET', withClientCert, step: 'TLS probe' });
    out.status = r.status;
    out.record = r.connection;
  } catch (e) {
    if (!isMtlsOAuthError(e) || e.kind === 'usage' || e.kind === 'internal' || e.kind === 'interrupted')
      throw e;
    out.error = e;
    out.record = (e.details?.tls as ConnectionRecord | undefined) ?? http.connections[before];
  }
  // A connection reused from an earlier request has no new record: the latest one is its story.
  out.record ??= http.connections.length > before ? http.connections[before] : undefined;
  return out;
}

export interface OriginGroup<N> {
  origin: string;
  /** the first URL named for this origin: the one probed */
  url: string;
  /** what is served from this origin (endpoint names, operations) */
  names: N[];
}

/** Endpoints grouped by origin (one connection, one TLS story each); non-HTTP(S) URLs are left out. */
export function groupByOrigin<N>(endpoints: Iterable<{ name: N; url: unknown }>): OriginGroup<N>[] {
  const groups = new Map<string, OriginGroup<N>>();
  for (const { name, url } of endpoints) {
    if (typeof url !== 'string') continue;
    let origin: string;
    try {
      const u = new URL(url);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') continue;
      origin = u.origin;
    } catch {
      continue; // the step that calls it reports the bad URL
    }
    const g = groups.get(origin);
    if (g) g.names.push(name);
    else groups.set(origin, { origin, url, names: [name] });
  }
  return [...groups.values()];
}
