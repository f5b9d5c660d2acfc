// Failures of the network under TLS: a timeout (named by where the request stood), response
// headers over the limit, the proxy, DNS and TCP, and a port that speaks the other protocol.

import { MtlsOAuthError } from '../errors.ts';
import { type Failure, type RequestPhase, requestPhase } from './failure.ts';

const secondsText = (ms: number) => `${Math.round(ms) / 1000} s`;

/** A timeout: the message names the step and where it stood. */
export function timeoutFailure(f: Failure): MtlsOAuthError | undefined {
  const { e, c, r, codes, details } = f;
  // Timeouts: the message names the step and where it stood.
  const timeoutCodes = [
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'ETIMEDOUT',
  ];
  if (c.timedOut || timeoutCodes.some((t) => codes.has(t))) {
    const phase = requestPhase(c);
    let origin = c.url;
    try {
      origin = new URL(c.url).origin;
    } catch {}
    const via = r?.proxy ? ` via the proxy ${r.proxy}` : '';
    const where: Record<RequestPhase, string> = {
      connect: r?.proxy ? `connecting to the proxy ${r.proxy} (for ${origin})` : `connecting to ${origin}`,
      proxy: `waiting for the proxy ${r?.proxy} to open a tunnel (CONNECT) to ${origin}`,
      tls: `in the TLS handshake with ${origin}${via}`,
      headers: `waiting for the response headers from ${c.url}${via}`,
      body: `reading the response body from ${c.url}${via}`,
    };
    const hints: Record<RequestPhase, string> = {
      connect:
        'the TCP connection did not complete: the host may be down, or a firewall drops packets to that port; check the host and port (proxy? VPN?) and raise the limit with --timeout SECONDS',
      proxy: `the proxy ${r?.proxy} accepted the connection but did not open the tunnel in time: check the proxy, or set NO_PROXY=${(() => {
        try {
          return new URL(c.url).hostname;
        } catch {
          return 'HOST';
        }
      })()} to connect directly`,
      tls: 'the port accepts TCP but does not complete a TLS handshake: is it really HTTPS (not plain HTTP or another protocol)? A firewall or proxy may also hold the connection',
      headers:
        'the server accepted the request but sent no answer in time: the IdP may be overloaded or stuck, or something in between holds the request; raise the limit with --timeout SECONDS',
      body: 'the server started answering but the rest of the response did not arrive in time (a stalled or very slow body); raise the limit with --timeout SECONDS if the IdP is only slow',
    };
    return new MtlsOAuthError(
      'timeout',
      'TIMEOUT',
      `${c.step ?? 'request'} timed out after ${secondsText(c.timeoutMs)} ${where[phase]}`,
      {
        hint: hints[phase],
        cause: e,
        details: details({ timeoutMs: c.timeoutMs, phase }),
      },
    );
  }

  return undefined;
}

/** Response headers over the limit (undici's maxHeaderSize). */
export function headersTooLarge(f: Failure): MtlsOAuthError | undefined {
  const { c, codes, net, w } = f;
  // Response headers over the limit (undici's maxHeaderSize, or the probe's own).
  if (codes.has('UND_ERR_HEADERS_OVERFLOW')) {
    const limit = c.maxHeaderBytes ? ` (${Math.round(c.maxHeaderBytes / 1024)} KiB)` : '';
    return net(
      'HEADERS_TOO_LARGE',
      `${w}: the response headers are larger than the limit${limit}; stopped reading`,
      'an OAuth endpoint answers with a few hundred bytes of headers: the URL probably points at something else (a misbehaving proxy or server); run with -v to see the start of the answer',
      c.maxHeaderBytes ? { limit: c.maxHeaderBytes } : undefined,
    );
  }

  return undefined;
}

/** The proxy (HTTPS_PROXY) failed before the tunnel was open. */
export function proxyFailure(f: Failure): MtlsOAuthError | undefined {
  const { c, r, codes, first, net, w } = f;
  // The proxy (HTTPS_PROXY) before the tunnel was open.
  if (r?.proxy && r.timings.proxyMs === undefined) {
    const src = 'HTTPS_PROXY';
    let host = 'HOST';
    try {
      host = new URL(c.url).hostname;
    } catch {}
    const bypass = `or set NO_PROXY=${host} to connect directly`;
    if (codes.has('PROXY_CONNECT_FAILED')) {
      const status = Number(first.message.match(/: HTTP (\d{3})/)?.[1]) || undefined;
      return net(
        'PROXY_FAILED',
        `${w}: ${first.message}`,
        status === 407
          ? `the proxy wants credentials: put them in the proxy URL (${src}=http://USER:PASSWORD@${r.proxy.replace(/^http:\/\//, '')}), ${bypass}`
          : `the proxy does not let this tool reach ${host}: check its rules (allowed hosts and ports for CONNECT), ${bypass}`,
        { proxy: r.proxy, ...(status ? { proxyStatus: status } : {}) },
      );
    }
    if (codes.has('PROXY_CLOSED') || codes.has('PROXY_BAD_ANSWER')) {
      return net(
        'PROXY_FAILED',
        `${w}: ${first.message}`,
        `check that ${r.proxy} is an HTTP proxy that supports CONNECT, ${bypass}`,
        { proxy: r.proxy },
      );
    }
    if (r.timings.tcpMs === undefined) {
      const why = codes.has('ECONNREFUSED')
        ? 'connection refused'
        : [...codes].some((x) => /^EAI_|ENOTFOUND/.test(x))
          ? 'its host name cannot be resolved'
          : first.message.split('\n')[0];
      return net(
        'PROXY_FAILED',
        `${w}: cannot reach the proxy ${r.proxy} (${src}): ${why}`,
        `check ${src} (and https_proxy), or unset it / ${bypass}`,
        { proxy: r.proxy },
      );
    }
  }

  return undefined;
}

/** The host name did not resolve, or TCP did not connect. */
export function dnsOrTcpFailure(f: Failure): MtlsOAuthError | undefined {
  const { c, r, codes, first, net, w } = f;
  // DNS and TCP.
  if (
    codes.has('ENOTFOUND') ||
    codes.has('EAI_AGAIN') ||
    codes.has('EAI_NODATA') ||
    codes.has('EAI_NONAME')
  ) {
    let host = c.url;
    try {
      host = new URL(c.url).hostname;
    } catch {}
    return net(
      'DNS_FAILURE',
      `${w}: the host name ${host} cannot be resolved (${codes.has('EAI_AGAIN') ? 'DNS lookup timed out or failed temporarily' : 'no such host'})`,
      'check the spelling of the URL (issuer, endpoints in the discovery document) and your DNS / VPN',
    );
  }
  if (codes.has('ECONNREFUSED')) {
    return net(
      'CONNECTION_REFUSED',
      `${w}: connection refused (nothing listens on ${r?.target ?? 'that port'})`,
      'check the port in the URL and that the server is running',
    );
  }
  if (codes.has('EHOSTUNREACH') || codes.has('ENETUNREACH')) {
    return net(
      'CONNECTION_FAILED',
      `${w}: ${first.message}`,
      'the network cannot reach that host: VPN? proxy? firewall?',
    );
  }

  return undefined;
}

/** A port that speaks the other protocol (plain HTTP for https://, TLS for http://), or one that hung up. */
export function protocolMismatch(f: Failure): MtlsOAuthError | undefined {
  const { c, r, codes, first, net, w, closedEarly } = f;
  // http:// to a port that speaks TLS: the server reads a ClientHello-less request and hangs up
  // (or answers with a TLS alert record, which is no HTTP).
  if (r?.scheme === 'http:' && (closedEarly || [...codes].some((x) => x.startsWith('HPE_')))) {
    let https = c.url;
    try {
      const u = new URL(c.url);
      u.protocol = 'https:';
      https = u.toString();
    } catch {}
    return net(
      'TLS_EXPECTED',
      `${w}: the server closed the connection without answering the plain HTTP request: the port probably speaks TLS`,
      `use https:// (${https}): plain HTTP carries no client certificate at all, so mutual TLS needs https`,
    );
  }
  if (closedEarly) {
    const duringHandshake = r && r.scheme !== 'http:' && r.protocol === undefined;
    return net(
      'CONNECTION_FAILED',
      `${w}: the server closed the connection ${duringHandshake ? 'during the TLS handshake' : 'before answering'}`,
      duringHandshake
        ? 'is the port really HTTPS? `openssl s_client -connect HOST:PORT` shows what it speaks'
        : 'the server or a proxy dropped the request; run with -v to see the exchange',
    );
  }
  if (codes.has('ERR_SSL_WRONG_VERSION_NUMBER') || /wrong version number/i.test(first.message)) {
    return net(
      'NOT_TLS',
      `${w}: the server did not answer with TLS (wrong version number): the port probably speaks plain HTTP`,
      'use the right HTTPS port, or an http:// URL (loopback only, for tests); `openssl s_client -connect HOST:PORT` shows what the port speaks',
    );
  }
  return undefined;
}
