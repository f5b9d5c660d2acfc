// The undici `connect` function: opens TCP, then TLS over a tap that keeps a copy of the bytes the
// server sends, and records everything about the connection in a ConnectionRecord. The server's
// certificate is verified here (chain + host name, exactly as Node would) after the handshake and
// before undici gets the socket, so that a rejected chain is still recorded and shown.

import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import {
  type ConnectionOptions,
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  rootCertificates,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import { now } from '../clock.ts';
import { dnFromDer } from '../pki/der.ts';
import { analyzeServerFlight, type ServerFlight } from './certificate-request.ts';
import { type ConnectTo, connectTarget } from './connect-to.ts';
import {
  type CertSummary,
  type ConnectionRecord,
  issuerAccepted,
  summarizeCertificate,
  VERIFY_MESSAGES,
} from './diagnostics.ts';
import { type ClientIdentity, takeCheckedContext } from './identity.ts';
import { openTunnel, type ProxyRoute, type ProxyTarget } from './proxy.ts';

/** The most server bytes kept per connection for the analysis (handshake + a little after it). */
const TAP_LIMIT = 256 * 1024;

/** Errors undici uses to close sockets it is done with (connection: close, client closed): not failures. */
const IGNORED_SOCKET_ERRORS = new Set(['UND_ERR_INFO', 'UND_ERR_DESTROYED', 'UND_ERR_CLOSED']);

/** A Duplex over a net.Socket that keeps a copy of every inbound byte, up to a limit. */
export class TapSocket extends Duplex {
  readonly rx: Buffer[] = [];
  private size = 0;
  constructor(private readonly raw: Socket) {
    super();
    raw.on('data', (d: Buffer) => {
      if (this.size < TAP_LIMIT) {
        this.rx.push(d);
        this.size += d.length;
      }
      if (!this.push(d)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (e) => this.destroy(e));
    raw.on('close', () => this.destroy());
  }
  received(): Buffer {
    return Buffer.concat(this.rx);
  }
  override _read() {
    this.raw.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.raw.write(chunk, cb);
  }
  override _final(cb: (e?: Error | null) => void) {
    this.raw.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void) {
    this.raw.destroy();
    cb(err);
  }
  setKeepAlive(enable?: boolean, delay?: number) {
    this.raw.setKeepAlive(enable, delay);
    return this;
  }
  setNoDelay(noDelay?: boolean) {
    this.raw.setNoDelay(noDelay);
    return this;
  }
}

export interface ConnectorOptions {
  /** certificate/key for this agent (none for the agent that must not present one) */
  identity?: ClientIdentity;
  /** PEM bundle trusted for the server's certificate */
  ca?: string;
  /** 'add' (default): Node's roots + ca; 'replace': only ca */
  caMode?: 'add' | 'replace';
  insecure: boolean;
  timeoutMs: number;
  /** host name resolution (default: the system's, as net.connect does) */
  lookup?: LookupFunction;
  /** --connect-to: the address to dial instead of the URL's host:port (SNI and verification stay on the URL's host). */
  connectTo?: readonly ConnectTo[];
  /** The proxy a connection goes through (HTTPS_PROXY / NO_PROXY, proxy.ts), undefined for direct. */
  proxy?: (target: ProxyTarget) => ProxyRoute | undefined;
  /** called once per connection, when it starts; the record is filled in as the connection goes */
  onRecord(record: ConnectionRecord): void;
}

interface ConnectParams {
  hostname: string;
  host?: string;
  protocol: string;
  port: string | number;
  servername?: string | null;
  localAddress?: string | null;
}
type Callback = (err: Error | null, socket?: Socket | TLSSocket) => void;

class ConnectError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const ms = (t0: number) => Math.round((now() - t0) * 100) / 100;

/** The DER certificates of a peer's chain, leaf first (getPeerCertificate(true) links them). */
function chainOf(leaf: PeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  for (
    let c: PeerCertificate | undefined = leaf;
    c?.raw && !seen.has(c.fingerprint256);
    c = (c as { issuerCertificate?: PeerCertificate }).issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    out.push(c.raw);
  }
  return out;
}

/**
 * record.serverChain, summarised (each certificate parsed) on first read or write, as the flight
 * fields are (analyzeOnFirstUse): a successful run rarely shows it. Then a plain field.
 */
function summarizeOnFirstUse(record: ConnectionRecord, ders: Buffer[]): void {
  const settle = (value: CertSummary[]) => {
    Object.defineProperty(record, 'serverChain', {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    return value;
  };
  Object.defineProperty(record, 'serverChain', {
    configurable: true,
    enumerable: true,
    get() {
      try {
        return settle(ders.map((c) => summarizeCertificate(c)));
      } catch {
        return settle([]);
      }
    },
    set: settle,
  });
}

/** The record fields that come from reading the server's handshake flight (applyFlight). */
const FLIGHT_FIELDS = [
  'clientCertRequested',
  'clientCertSent',
  'acceptableCAs',
  'clientCertIssuerListed',
  'signatureAlgorithms',
  'certificateTypes',
  'handshakeAnalysis',
] as const;

/**
 * Reading the flight (a TLS 1.3 decryption) costs a few ms per connection that most successful
 * runs never look at. The fields read it on first use instead: any read or write of one of them
 * (a renderer, JSON.stringify, a diagnosis) runs `analyze` once and turns them into plain fields.
 * `settle()` does the same at once (false when it already happened); `pending()` tells whether it has.
 */
function analyzeOnFirstUse(record: ConnectionRecord, analyze: () => void) {
  const fields = record as unknown as Record<string, unknown>;
  let pending = true;
  const settle = () => {
    if (!pending) return false;
    pending = false;
    for (const k of FLIGHT_FIELDS) delete fields[k];
    analyze();
    return true;
  };
  const lazy = { settle, pending: () => pending };
  for (const k of FLIGHT_FIELDS) {
    Object.defineProperty(record, k, {
      configurable: true,
      enumerable: true,
      get() {
        settle();
        return fields[k];
      },
      set(v) {
        settle();
        fields[k] = v;
      },
    });
  }
  return lazy;
}

/** Fills in what the server said in its handshake flight (CertificateRequest, alerts). */
function applyFlight(record: ConnectionRecord, flight: ServerFlight, identity: ClientIdentity | undefined) {
  if (flight.certificateRequested !== undefined) record.clientCertRequested = flight.certificateRequested;
  if (flight.certificateRequest) {
    record.acceptableCAs = flight.certificateRequest.certificateAuthorities.map(dnFromDer);
    record.signatureAlgorithms = flight.certificateRequest.signatureAlgorithms;
    if (flight.certificateRequest.certificateTypes)
      record.certificateTypes = flight.certificateRequest.certificateTypes;
    if (identity && record.acceptableCAs.length)
      record.clientCertIssuerListed = issuerAccepted(identity, record.acceptableCAs);
  }
  if (record.clientCertRequested !== undefined) {
    record.clientCertSent =
      record.clientCertRequested && identity
        ? { subject: identity.subjectDn, x5tS256: identity.x5tS256 }
        : null;
  }
  if (flight.incomplete) record.handshakeAnalysis = flight.incomplete;
  else delete record.handshakeAnalysis;
  const alerts = flight.alerts.filter((a) => a.code !== 0).map((a) => `${a.name} (${a.code})`);
  if (alerts.length) record.alerts = [...new Set([...(record.alerts ?? []), ...alerts])];
  // TLS 1.2: the server's chain is in plaintext even when verification failed early.
  if (record.serverChain.length === 0 && flight.serverCertificates?.length) {
    record.serverChain = flight.serverCertificates.map((c) => summarizeCertificate(c));
  }
}

type TrustOptions = Pick<ConnectorOptions, 'identity' | 'ca' | 'caMode'>;

/**
 * The TLS contexts of a process, one per client identity (or none) and trust setting, built by
 * `create` (Node's createSecureContext; a test counts the calls). Building one parses trust anchors:
 * Node's roots on first use, each added CA, and, when NODE_EXTRA_CA_CERTS is set, that whole file
 * again for every context that adds to the roots. Agents and clients with the same settings share
 * one context (each connector keeps its own TLS sessions).
 */
export function secureContextCache(create: typeof createSecureContext = createSecureContext) {
  const plain = new Map<string, SecureContext>();
  const byIdentity = new WeakMap<ClientIdentity, Map<string, SecureContext>>();
  return function secureContextFor(o: TrustOptions): SecureContext {
    const key = o.ca ? `${o.caMode === 'replace' ? 'replace' : 'add'}\n${o.ca}` : '';
    let contexts = o.identity ? byIdentity.get(o.identity) : plain;
    if (!contexts) {
      contexts = new Map();
      byIdentity.set(o.identity!, contexts);
    }
    let ctx = contexts.get(key);
    if (!ctx) {
      ctx = newSecureContext(o, create);
      contexts.set(key, ctx);
    }
    return ctx;
  };
}

/**
 * A new TLS context for an agent: the client identity, and the trust for the server's certificate:
 * Node's roots (default), Node's roots plus `ca` (caMode add), or only `ca` (caMode replace).
 */
function newSecureContext(o: TrustOptions, create: typeof createSecureContext): SecureContext {
  const base = o.identity ? o.identity.tls : {};
  if (o.ca && o.caMode === 'replace') return create({ ...base, ca: o.ca });
  // Node's roots, maybe plus `ca`: the context the identity was checked with is that already.
  const ctx = (o.identity && takeCheckedContext(o.identity)) || create(base);
  if (!o.ca) return ctx;
  // Adding to the roots: a `ca` option would replace them, and passing [...rootCertificates, ca]
  // costs ~60 ms of parsing. The context's own addCACert copies the root store once and adds to it
  // (what Node itself does for each `ca` entry), keeping NODE_EXTRA_CA_CERTS too.
  const native = (ctx as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert === 'function') {
    native.addCACert(o.ca);
    return ctx;
  }
  return create({ ...base, ca: [...rootCertificates, o.ca] });
}

/** This process's TLS context for an identity and trust setting (secureContextCache). */
export const buildSecureContext = secureContextCache();

/** An undici `connect` function that records every connection. */
export function createConnector(o: ConnectorOptions) {
  const sessions = new Map<string, Buffer>();
  // One context per identity and trust: building one per connection re-parses trust anchors.
  const secureContext = buildSecureContext(o);
  return function connect(params: ConnectParams, callback: Callback): void {
    const hostname = params.hostname.replace(/^\[|\]$/g, '');
    const tlsWanted = params.protocol === 'https:';
    const port = Number(params.port) || (tlsWanted ? 443 : 80);
    const servername = params.servername || (isIP(hostname) ? undefined : hostname);
    const record: ConnectionRecord = {
      target: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
      scheme: params.protocol,
      withClientCert: !!o.identity,
      timings: {},
      serverChain: [],
      verified: false,
      ...(servername ? { servername } : {}),
      ...(o.insecure && tlsWanted ? { insecure: true } : {}),
      clientCertConfigured: o.identity
        ? {
            subject: o.identity.subjectDn,
            issuer: o.identity.issuerDn,
            x5tS256: o.identity.x5tS256,
            source: o.identity.source,
          }
        : null,
    };
    o.onRecord(record);
    const t0 = now();
    let done = false;
    let tls: TLSSocket | undefined;
    const finish = (err: Error | null, s?: Socket | TLSSocket) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(err, s);
    };
    const firstError = (e: Error & { code?: string }) => {
      // undici destroys sockets it is done with using "informational" errors: not a failure.
      if (e.code && IGNORED_SOCKET_ERRORS.has(e.code)) return;
      record.error ??= { code: e.code ?? e.name ?? 'ERROR', message: String(e.message).trim() };
    };

    // --connect-to: dial (or CONNECT through the proxy to) another address, as curl does.
    const dial = connectTarget(o.connectTo, hostname, port);
    if (dial.mapped)
      record.connectedTo = `${dial.host.includes(':') ? `[${dial.host}]` : dial.host}:${dial.port}`;
    const route = o.proxy?.({ hostname: dial.host, port: dial.port, protocol: params.protocol });
    if (route) record.proxy = route.display;
    const raw = netConnect({
      host: route ? route.host : dial.host,
      port: route ? route.port : dial.port,
      noDelay: true,
      localAddress: params.localAddress ?? undefined,
      ...(o.lookup ? { lookup: o.lookup } : {}),
    });
    const timer = setTimeout(() => {
      const step = tls
        ? 'TLS handshake'
        : record.timings.tcpMs === undefined
          ? route
            ? `TCP to the proxy ${route.display}`
            : 'TCP'
          : `CONNECT through the proxy ${route?.display}`;
      const err = new ConnectError('UND_ERR_CONNECT_TIMEOUT', `connect timeout (${step}, ${o.timeoutMs} ms)`);
      firstError(err);
      (tls ?? raw).destroy(err);
      finish(err);
    }, o.timeoutMs);

    raw.once('error', (e) => {
      firstError(e);
      finish(e);
    });
    raw.once('connect', () => {
      record.timings.tcpMs = ms(t0);
      if (!route) return afterTcp();
      const tp = now();
      openTunnel(raw, { hostname: dial.host, port: dial.port, protocol: params.protocol }, route).then(
        () => {
          record.timings.proxyMs = ms(tp);
          if (!done) afterTcp();
        },
        (e: Error) => {
          firstError(e);
          raw.destroy();
          finish(e);
        },
      );
    });
    const afterTcp = () => {
      if (!tlsWanted) {
        record.verified = false;
        raw.setKeepAlive(true, 60_000);
        finish(null, raw);
        return;
      }
      const t1 = now();
      const tap = new TapSocket(raw);
      const keylog: string[] = [];
      // A session resumes only with the node it came from.
      const sessionKey = `${servername ?? hostname}@${dial.host}:${dial.port}`;
      const opts: ConnectionOptions = {
        socket: tap,
        host: hostname,
        port,
        servername,
        ALPNProtocols: ['http/1.1'],
        // Verified below, exactly as Node does, so that a failed chain is still recorded.
        rejectUnauthorized: false,
        session: sessions.get(sessionKey),
        secureContext,
      };
      let verifiedOk = false;
      let pendingSession: Buffer | undefined;
      let resumed = false;
      const analyze = () => {
        try {
          applyFlight(record, analyzeServerFlight(tap.received(), keylog), o.identity);
        } catch (e) {
          record.handshakeAnalysis = `could not read the handshake: ${(e as Error).message}`;
        }
        if (resumed && record.clientCertRequested === false) {
          // A resumed session carries the identity of the first handshake; no new CertificateRequest.
          delete record.clientCertRequested;
          delete record.clientCertSent;
        }
      };
      // Until the handshake completes, every failure is read at once; after it, on first use.
      let lazy: ReturnType<typeof analyzeOnFirstUse> | undefined;
      const analyzeNow = () => {
        if (!lazy?.settle()) analyze();
      };
      try {
        tls = tlsConnect(opts);
      } catch (e) {
        firstError(e as Error);
        raw.destroy();
        finish(e as Error);
        return;
      }
      const s = tls;
      s.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
      s.on('session', (session: Buffer) => {
        if (verifiedOk) sessions.set(sessionKey, session);
        else pendingSession = session;
      });
      s.on('error', (e: Error & { code?: string }) => {
        firstError(e);
        // Alerts after the handshake (TLS 1.3 certificate_required) are in the flight too. undici
        // closing a socket it is done with is no failure: the analysis stays for whoever reads it.
        if (!(e.code && IGNORED_SOCKET_ERRORS.has(e.code))) analyzeNow();
        finish(e);
      });
      s.on('close', () => {
        // Still unread: keep the bytes (at most TAP_LIMIT) for whoever reads the record later.
        if (lazy?.pending()) return;
        analyzeNow();
        keylog.length = 0;
        tap.rx.length = 0;
      });
      s.once('secureConnect', () => {
        record.timings.tlsMs = ms(t1);
        record.protocol = s.getProtocol() ?? undefined;
        const cipher = s.getCipher();
        record.cipher = cipher?.standardName ?? cipher?.name;
        record.alpn = s.alpnProtocol || null;
        record.sessionReused = s.isSessionReused();
        // Once: Node builds the whole chain's objects at each call.
        let peer: PeerCertificate | undefined;
        try {
          peer = s.getPeerCertificate(true);
          summarizeOnFirstUse(record, chainOf(peer));
        } catch {}
        resumed = record.sessionReused;
        lazy = analyzeOnFirstUse(record, analyze);
        // Verification, as Node's own onConnectSecure does it: chain, then host name (not on resumption).
        let verifyError: Error | undefined;
        if (!s.authorized) {
          const code = String(s.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
          verifyError = Object.assign(new Error(VERIFY_MESSAGES[code] ?? code), { code });
        } else if (!s.isSessionReused()) {
          verifyError =
            checkServerIdentity(servername ?? hostname, peer ?? s.getPeerCertificate(true)) ?? undefined;
        }
        if (verifyError) {
          record.verified = false;
          record.verifyError = (verifyError as { code?: string }).code ?? verifyError.message;
          if (!o.insecure) {
            firstError(verifyError);
            s.destroy();
            finish(verifyError);
            return;
          }
        } else {
          record.verified = true;
        }
        verifiedOk = true;
        if (pendingSession) sessions.set(sessionKey, pendingSession);
        finish(null, s);
      });
    };
  };
}
