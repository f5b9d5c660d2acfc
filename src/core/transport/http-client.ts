// Every HTTP call to the IdP goes through HttpClient: one undici Agent per client identity (and one
// without a certificate, for calls that must not present one), one connection per host, bodies read
// with a size limit and JSON checked (body.ts), and each connection recorded (see diagnostics.ts).

import type { LookupFunction } from 'node:net';
import { classifyFailure } from '../diagnosis/classify.ts';
import { verdictOf } from '../diagnosis/verdict.ts';
import { errnoCode, MtlsOAuthError, usageError } from '../errors.ts';
import { readInputFile } from '../files.ts';
import { readCertificates } from '../pki/pem.ts';
import {
  formForLog,
  quotableTokenResponse,
  redactBody,
  redactUrl,
  redactValue,
  responseExcerpt,
  secretValues,
} from '../redact.ts';
import { parseSafeUrl } from '../url-policy.ts';
import { parseJsonBody, readLimitedBody, tooLargeError } from './body.ts';
import type { ConnectTo } from './connect-to.ts';
import { createConnector } from './connector.ts';
import { type ConnectionRecord, describeConnection } from './diagnostics.ts';
import type { ClientIdentity } from './identity.ts';
import { type ProxySettings, proxyFromEnvironment } from './proxy.ts';
import type { Agent } from './undici-lite.ts';

export interface HttpClientOptions {
  identity?: ClientIdentity;
  /** path to PEM bundle for the IdP's server cert */
  ca?: string;
  /** default 'add' (system roots + ca) */
  caMode?: 'add' | 'replace';
  insecure?: boolean;
  /** per request, default 30000 */
  timeoutMs?: number;
  /** default 1 MiB */
  maxBodyBytes?: number;
  /** verbose sink (stderr); requests/responses with secrets redacted */
  log?: (line: string) => void;
  /** print secrets in full in the log (--show-secrets) */
  showSecrets?: boolean;
  /** host name resolution instead of the system's (tests, pinned addresses) */
  lookup?: LookupFunction;
  /** the most bytes of response headers accepted (default 64 KiB): HEADERS_TOO_LARGE beyond */
  maxHeaderBytes?: number;
  /** --connect-to mappings (connect-to.ts) */
  connectTo?: readonly ConnectTo[];
  /** an http:// proxy URL for https:// requests, or false for none (default: HTTPS_PROXY / NO_PROXY of `env`) */
  proxy?: string | false;
  /** the environment the proxy settings are read from (default process.env) */
  env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  /** default GET, or POST with a body; any token method for `call` (PUT, PATCH, DELETE, ...) */
  method?: string;
  url: string;
  /** application/x-www-form-urlencoded body (undefined values dropped) */
  form?: Record<string, string | undefined>;
  /** a raw body (`call -d`), sent as is; its content-type is the caller's header */
  body?: string;
  headers?: Record<string, string>;
  /** default: true when an identity is configured */
  withClientCert?: boolean;
  /** default true: non-JSON -> MtlsOAuthError network 'NOT_JSON' showing status, content-type, body start */
  expectJson?: boolean;
  /** e.g. "token request": named in error messages */
  step?: string;
  /** the answer at the response headers (TLS probes): the body is drained in the background, so the
   *  connection stays usable, and its failure fails nothing */
  headersOnly?: boolean;
  /** a successful answer carries secrets (a token response): its body is shown (redacted)
   *  only when its structure allows redaction (JSON, a form, HTML), unless showSecrets */
  secretResponse?: boolean;
}

/** HttpClient.probe: a request for a TLS probe (any status is an answer) */
export interface ProbeOptions {
  url: string;
  method?: 'GET' | 'HEAD';
  withClientCert?: boolean;
  step?: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  json?: unknown;
  connection?: ConnectionRecord;
  url: string;
}

const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_MAX_HEADERS = 64 * 1024;
const BODY_START = 200;

const redactHeader = (name: string, value: string, show: boolean) =>
  show ? value : redactValue(name, value);
function readCa(file: string): string {
  const data = readInputFile(file, 'the CA file', 'check the --ca path');
  const certs = readCertificates(data, file, {
    what: "CA certificate (the CA that issued the IdP's server certificate)",
  });
  return certs.map((c) => c.toString()).join('');
}

export class HttpClient {
  /** every connection made, in order */
  readonly connections: ConnectionRecord[] = [];
  private readonly agents = new Map<'cert' | 'plain', Agent>();
  private readonly connectors = new Map<'cert' | 'plain', ReturnType<typeof createConnector>>();
  private readonly latest = new Map<string, ConnectionRecord>();
  /** bodies being drained after a headers-only request: each entry stops one */
  private readonly drains = new Set<() => void>();
  private readonly ca?: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly maxHeaderBytes: number;
  /** The proxy settings in effect (HTTPS_PROXY / NO_PROXY, or the `proxy` option), if any. */
  readonly proxy?: ProxySettings;

  constructor(private readonly opts: HttpClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT;
    this.maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADERS;
    if (opts.ca) {
      this.ca = readCa(opts.ca);
    }
    this.proxy = proxyFromEnvironment(opts.env ?? process.env, opts.proxy);
  }

  get identity(): ClientIdentity | undefined {
    return this.opts.identity;
  }

  /** The connect function of the agent with (or without) the client certificate: one per kind. */
  private connector(withCert: boolean) {
    const key = withCert ? 'cert' : 'plain';
    let c = this.connectors.get(key);
    if (!c) {
      c = createConnector({
        identity: withCert ? this.opts.identity : undefined,
        ca: this.ca,
        caMode: this.opts.caMode,
        insecure: !!this.opts.insecure,
        timeoutMs: this.timeoutMs,
        lookup: this.opts.lookup,
        connectTo: this.opts.connectTo,
        proxy: this.proxy ? (t) => this.proxy?.routeFor(t) : undefined,
        onRecord: (r) => {
          this.connections.push(r);
          this.latest.set(`${key}|${r.scheme}|${r.target}`, r);
        },
      });
      this.connectors.set(key, c);
    }
    return c;
  }

  /** undici loads on the first request (runs that make none never load it). */
  private async agent(withCert: boolean): Promise<Agent> {
    const key = withCert ? 'cert' : 'plain';
    let a = this.agents.get(key);
    if (!a) {
      const { Agent } = await import('./undici-lite.ts');
      a = this.agents.get(key);
      if (a) return a;
      a = new Agent({
        connections: 1,
        pipelining: 1,
        connect: this.connector(withCert) as never,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        maxHeaderSize: this.maxHeaderBytes,
        // The parser itself stops at the body limit (UND_ERR_RES_EXCEEDED_MAX_SIZE)...
        maxResponseSize: this.maxBodyBytes,
      });
      this.agents.set(key, a);
    }
    return a;
  }

  private log(line: string) {
    this.opts.log?.(line);
  }

  /** A failed request as an MtlsOAuthError: what the transport knows about this client, plus `o`. */
  private diagnose(
    e: unknown,
    o: {
      url: URL;
      step?: string;
      record?: ConnectionRecord;
      withCert: boolean;
      timedOut: boolean;
      phase: 'headers' | 'body';
    },
  ) {
    return classifyFailure(e, {
      url: o.url.toString(),
      step: o.step,
      record: o.record,
      identity: this.opts.identity,
      withClientCert: o.withCert,
      timeoutMs: this.timeoutMs,
      timedOut: o.timedOut,
      caFile: this.opts.ca,
      caMode: this.opts.caMode,
      phase: o.phase,
      maxHeaderBytes: this.maxHeaderBytes,
    });
  }

  /** Logs (-v) the TLS record of each connection not in `known` yet, and adds it there, with the
   *  verdict on it (diagnosis/verdict.ts): `outcome` is how the request over `current` ended. Nothing
   *  is described when nothing logs: describing reads the record's handshake analysis (connector.ts). */
  private logConnections(
    known: Set<ConnectionRecord>,
    url: URL,
    current: ConnectionRecord | undefined,
    outcome: { status?: number; error?: MtlsOAuthError },
  ) {
    if (!this.opts.log) return;
    for (const r of this.connections) {
      if (known.has(r)) continue;
      known.add(r);
      for (const line of describeConnection(r)) this.log(`* ${line}`);
      const v = verdictOf({ url: url.toString(), record: r, ...(r === current ? outcome : {}) });
      if (r === current || v.status !== 'pass')
        this.log(`* verdict: ${v.status}${v.code ? ` ${v.code}` : ''}: ${v.message}`);
    }
  }

  /** HTTP error statuses are returned, not thrown; transport/TLS failures throw MtlsOAuthError with details.tls. */
  async request(req: RequestOptions): Promise<HttpResult> {
    const method = req.method ?? (req.form || req.body !== undefined ? 'POST' : 'GET');
    const withCert = req.withClientCert ?? !!this.opts.identity;
    const expectJson = req.expectJson ?? true;
    const show = !!this.opts.showSecrets;
    const url = this.parseUrl(req.url, req.step);
    if (withCert && !this.opts.identity) {
      throw usageError(
        'NO_CLIENT_CERT',
        `${req.step ?? 'this request'} needs a client certificate and none was configured`,
        {
          hint: 'pass --cert FILE --key FILE (or --p12 FILE)',
        },
      );
    }
    const headers: Record<string, string> = {
      accept: expectJson ? 'application/json' : '*/*',
      ...req.headers,
    };
    let body: string | undefined;
    if (req.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(req.form)) if (v !== undefined) p.append(k, v);
      body = p.toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (req.body !== undefined) {
      body = req.body;
    }
    headers['user-agent'] ??= 'mtls-oauth';
    // What this request sends that is secret: redacted wherever an answer echoes it.
    const sent = secretValues(req.form ?? {}, headers);

    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const latestKey = `${withCert ? 'cert' : 'plain'}|${url.protocol}|${url.hostname}:${port}`;
    const connection = () => this.latest.get(latestKey);

    // Redacting is regular expressions over every line: only done when something logs (-v).
    if (this.opts.log) {
      this.log(
        `> ${method} ${redactUrl(url.toString(), show)}${withCert ? '' : '  (without client certificate)'}`,
      );
      for (const [k, v] of Object.entries(headers)) this.log(`> ${k}: ${redactHeader(k, v, show)}`);
      if (body !== undefined && req.form) this.log(`> ${formForLog(body, show)}`);
      else if (body !== undefined)
        this.log(`> ${redactBody(body, { contentType: headers['content-type'], show, known: sent })}`);
    }

    const known = new Set(this.connections);
    const controller = new AbortController();
    let timedOut = false;
    let phase: 'headers' | 'body' = 'headers';
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const classify = (e: unknown) =>
      this.diagnose(e, { url, step: req.step, record: connection(), withCert, timedOut, phase });
    const fail = (e: unknown): never => {
      const err = classify(e);
      this.logConnections(known, url, connection(), { error: err });
      this.log(`! ${err.code}: ${err.message}`);
      throw err;
    };

    let res: Awaited<ReturnType<typeof import('./undici-lite.ts').request>>;
    try {
      const [{ request: undiciRequest }, agent] = await Promise.all([
        import('./undici-lite.ts'),
        this.agent(withCert),
      ]);
      res = await undiciRequest(agent, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        body,
        signal: controller.signal,
      });
    } catch (e) {
      clearTimeout(timer);
      return fail(e);
    }
    const rec = connection();
    if (rec) rec.requests = (rec.requests ?? 0) + 1;
    this.logConnections(known, url, rec, { status: res.statusCode });

    const resHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) resHeaders[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const contentType = resHeaders['content-type'];
    this.log(`< ${res.statusCode}`);
    if (this.opts.log)
      for (const [k, v] of Object.entries(resHeaders)) this.log(`< ${k}: ${redactHeader(k, v, show)}`);

    if (req.headersOnly) {
      this.drainInBackground(res.body, timer);
      return {
        status: res.statusCode,
        headers: resHeaders,
        text: '',
        url: url.toString(),
        ...(rec ? { connection: rec } : {}),
      };
    }

    // The body, with a size limit (and the request's time limit: the timer still runs).
    phase = 'body';
    let text: string;
    const received = { bytes: 0 };
    try {
      text = await readLimitedBody(res.body, {
        limit: this.maxBodyBytes,
        contentLength: resHeaders['content-length'],
        tooLarge: (declared) => this.tooLarge(url, req.step, res.statusCode, contentType, declared),
        received,
      });
    } catch (e) {
      clearTimeout(timer);
      if (e instanceof MtlsOAuthError) {
        this.log(`! ${e.code}: ${e.message}`);
        throw Object.assign(e, { details: { ...e.details, ...(connection() ? { tls: connection() } : {}) } });
      }
      if (errnoCode(e) === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        const err = this.tooLarge(url, req.step, res.statusCode, contentType);
        this.log(`! ${err.code}: ${err.message}`);
        throw Object.assign(err, {
          details: { ...err.details, ...(connection() ? { tls: connection() } : {}) },
        });
      }
      const classified = classify(e);
      if (classified.kind !== 'network' || classified.code === 'HEADERS_TOO_LARGE') return fail(e);
      // The connection broke in the middle of the body: say so (not "before answering").
      const declared = resHeaders['content-length'];
      const err = new MtlsOAuthError(
        'network',
        'RESPONSE_INCOMPLETE',
        `${req.step ? `${req.step}: ` : ''}${url.host} closed the connection in the middle of the response (HTTP ${res.statusCode}; ${received.bytes} bytes of the body received${declared ? ` of ${declared} announced` : ''})`,
        {
          hint: 'the server or something in between dropped the connection while answering: look at the IdP or proxy logs, and run with -v to see the exchange',
          cause: e,
          details: {
            url: url.toString(),
            status: res.statusCode,
            received: received.bytes,
            ...(declared ? { contentLength: Number(declared) } : {}),
            cause: { code: errnoCode(e), message: (e as Error)?.message },
            ...(connection() ? { tls: connection() } : {}),
          },
        },
      );
      this.log(`! ${err.code}: ${err.message}`);
      throw err;
    }
    clearTimeout(timer);
    // A successful token response is never echoed as text (an opaque token would not look like one).
    const secretBody =
      !!req.secretResponse &&
      res.statusCode >= 200 &&
      res.statusCode < 300 &&
      !quotableTokenResponse(text, contentType);
    if (text && this.opts.log)
      this.log(`< ${redactBody(text, { contentType, show, unquotable: secretBody, known: sent })}`);

    const result: HttpResult = { status: res.statusCode, headers: resHeaders, text, url: url.toString() };
    if (rec) result.connection = rec;
    if (method !== 'HEAD') {
      // Parsed when it is JSON, also for a caller that does not expect it (never an error then).
      const json = parseJsonBody(text, {
        required: expectJson,
        url,
        step: req.step,
        status: res.statusCode,
        contentType,
        excerpt: secretBody
          ? undefined
          : () => responseExcerpt(text, { contentType, known: sent, limit: BODY_START }),
        tls: rec,
      });
      if (json !== undefined) result.json = json;
    }
    return result;
  }

  /**
   * One request for a TLS probe (core/diagnosis/probe.ts): request() itself, through the same agent,
   * connector and trust, answered at the status line and headers (any status).
   */
  async probe(req: ProbeOptions): Promise<HttpResult> {
    return this.request({
      url: req.url,
      method: req.method ?? 'GET',
      withClientCert: req.withClientCert,
      expectJson: false,
      step: req.step,
      headersOnly: true,
    });
  }

  /** Every request passes here: https, or http on loopback only (url-policy.ts), before a byte is sent. */
  private parseUrl(raw: string, step?: string): URL {
    return parseSafeUrl(raw, step);
  }

  private tooLarge(
    url: URL,
    step: string | undefined,
    status: number,
    contentType?: string,
    declared?: number,
  ) {
    return tooLargeError(url, step, status, this.maxBodyBytes, contentType, declared);
  }

  /**
   * Reads and discards a body nobody waits for, so that its connection can carry the next request;
   * the request's timer still bounds it, and close() ends it. Its failure fails nothing.
   */
  private drainInBackground(body: AsyncIterable<unknown> & { destroy(): void }, timer: NodeJS.Timeout) {
    const stop = () => {
      clearTimeout(timer);
      body.destroy();
    };
    this.drains.add(stop);
    (async () => {
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > this.maxBodyBytes) break;
      }
    })()
      .catch(() => {})
      .finally(() => {
        this.drains.delete(stop);
        stop();
      });
  }

  /** closes all agents/sockets */
  async close(): Promise<void> {
    for (const stop of this.drains) stop();
    this.drains.clear();
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.destroy().catch(() => {})));
  }
}
