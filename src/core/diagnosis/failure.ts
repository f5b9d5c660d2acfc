// The facts of a failed request, gathered once for the classifiers (classify*.ts): the error chain
// undici or Node gave, its codes, the connection record, where the request stood, and the builders
// of the resulting MtlsOAuthError.

import { type CodeOfKind, errnoCode, MtlsOAuthError } from '../errors.ts';
import type { ConnectionRecord } from '../transport/diagnostics.ts';
import type { ClientIdentity } from '../transport/identity.ts';

export interface FailureContext {
  url: string;
  /** e.g. "token request": named in messages */
  step?: string;
  record?: ConnectionRecord;
  identity?: ClientIdentity;
  withClientCert: boolean;
  timeoutMs: number;
  timedOut?: boolean;
  caFile?: string;
  caMode?: 'add' | 'replace';
  /** how far the request got: 'headers' (sent, waiting for the answer) or 'body' (headers received) */
  phase?: 'headers' | 'body';
  /** the size limit on response headers, in bytes (HEADERS_TOO_LARGE) */
  maxHeaderBytes?: number;
}

/** Where a request stood when it failed (timeouts name it). */
export type RequestPhase = 'connect' | 'proxy' | 'tls' | 'headers' | 'body';

export function requestPhase(c: Pick<FailureContext, 'record' | 'phase'>): RequestPhase {
  const r = c.record;
  if (!r || r.timings.tcpMs === undefined) return 'connect';
  if (r.proxy && r.timings.proxyMs === undefined) return 'proxy';
  if (r.scheme !== 'http:' && r.protocol === undefined) return 'tls';
  return c.phase === 'body' ? 'body' : 'headers';
}

function errorChain(e: unknown): Array<{ code?: string; message: string; name?: string }> {
  const out: Array<{ code?: string; message: string; name?: string }> = [];
  for (let cur = e, n = 0; cur && n < 5; cur = (cur as { cause?: unknown }).cause, n++) {
    out.push({
      code: errnoCode(cur),
      message: String((cur as Error).message ?? cur),
      name: (cur as Error).name,
    });
  }
  return out;
}

export const where = (c: FailureContext) => {
  let host = c.url;
  try {
    host = new URL(c.url).host;
  } catch {}
  return c.step ? `${c.step} to ${host}` : host;
};

export interface Failure {
  e: unknown;
  c: FailureContext;
  r?: ConnectionRecord;
  /** every code in the error chain, and the record's first socket error */
  codes: Set<string>;
  /** the first error: the socket's (the record keeps it), else the outermost */
  first: { code?: string; message: string };
  /** "token request to host:port", for messages */
  w: string;
  /** the connection ended before any answer (reset, closed, hung up) */
  closedEarly: boolean;
  /** a network failure with these facts in its details */
  net(
    code: CodeOfKind<'network'>,
    message: string,
    hint: string,
    extra?: Record<string, unknown>,
  ): MtlsOAuthError;
  details(extra?: Record<string, unknown>): Record<string, unknown>;
}

/** The facts of a failure, gathered once. */
export function failureFacts(e: unknown, c: FailureContext): Failure {
  const r = c.record;
  const chain = errorChain(e);
  const codes = new Set(chain.map((x) => x.code).filter(Boolean) as string[]);
  if (r?.error?.code) codes.add(r.error.code);
  const first = r?.error ?? { code: chain[0]?.code ?? 'UNKNOWN', message: chain[0]?.message ?? String(e) };
  const details = (extra: Record<string, unknown> = {}) => ({
    url: c.url,
    ...(c.step ? { step: c.step } : {}),
    cause: { code: chain[0]?.code, message: chain[0]?.message },
    ...extra,
    ...(r ? { tls: r } : {}),
  });
  const net = (code: CodeOfKind<'network'>, message: string, hint: string, extra?: Record<string, unknown>) =>
    new MtlsOAuthError('network', code, message, { hint, cause: e, details: details(extra) });
  const closedEarly =
    codes.has('UND_ERR_SOCKET') ||
    codes.has('ECONNRESET') ||
    codes.has('EPIPE') ||
    /other side closed|socket hang up|disconnected before secure TLS/i.test(first.message);
  return { e, c, r, codes, first, w: where(c), closedEarly, net, details };
}

export function dateOnly(s: string) {
  return s.slice(0, 10);
}
