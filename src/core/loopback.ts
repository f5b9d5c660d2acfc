// The loopback callback of the authorization-code flow (RFC 8252 §7.3, docs/standards.md "The
// authorization-code flow"). It listens on 127.0.0.1 or ::1 only and accepts exactly one valid
// authorization response, only while the flow runs:
//
//   - a foreign Host header (DNS rebinding) gets 403, other paths 404, methods other than GET 405;
//   - a missing, repeated or wrong `state` gets a 400 page and the wait goes on: such a request is
//     not the response to our request, so it can neither end the flow nor have its code exchanged;
//   - once the state matches, the response belongs to this flow and ends it, one way or another:
//     a code (accepted), an `error` (MtlsOAuthError kind 'oauth'), or a response that fails the
//     RFC 9207 issuer check or is malformed (kind 'check').
//
// A wrong or missing `iss` with the right `state` ends the flow (docs/design.md "The loopback
// callback: a wrong iss ends the flow"). Once the flow is decided, the listener only reports the
// outcome on the callback path, holding an accepted code's request while the caller checks the
// tokens, and with `linger` keeps answering without keeping the process alive (docs/design.md "The
// loopback callback after the decision"). A timeout, an abort or close() always shuts it down.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { finished } from 'node:stream';
import {
  badStatePage,
  type CallbackPage,
  echo,
  finishedPage,
  forbiddenHostPage,
  idpErrorPage,
  invalidResponsePage,
  issuerProblemPage,
  methodNotAllowedPage,
  notFoundPage,
  stillWorkingPage,
} from './callback-page.ts';
import type { Check } from './check.ts';
import { type CodeOfKind, errnoCode, MtlsOAuthError, usageError } from './errors.ts';
import { constantTimeEqual } from './pkce.ts';

export type LoopbackHost = '127.0.0.1' | '::1';

export const DEFAULT_CALLBACK_PATH = '/callback';

/** setTimeout's limit (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** How long the final page may take to reach the browser before connections are destroyed anyway. */
const FINAL_PAGE_GRACE_MS = 2000;

/** How long the browser's request waits for the outcome before it gets "still working". */
export const DEFAULT_HOLD_MS = 5000;

export interface CallbackListenerOptions {
  /** 127.0.0.1 (default) or ::1; anything else is refused with a usage error. */
  host?: string;
  /** 0 (default) picks an ephemeral port; a fixed port that is busy is a usage error, never a fallback. */
  port?: number;
  /** Default `/callback`. */
  path?: string;
  expectedState: string;
  /** The issuer the flow started with; `iss` in the response must equal it (RFC 9207). */
  issuer: string;
  /** True when the IdP advertises authorization_response_iss_parameter_supported: `iss` is then required. */
  issRequired: boolean;
  timeoutMs: number;
  /** Aborting (the CLI does on SIGINT) closes the listener; `result` rejects with kind 'interrupted'. */
  signal?: AbortSignal;
  /** Told about every request turned away and about the accepted one (for progress output). */
  onEvent?: (event: CallbackEvent) => void;
  /** How long the browser's request is held for finish() after an accepted code (default 5 s). */
  holdMs?: number;
  /** Keep answering the final page until the process exits (unref'd); default: shut down once it is out. */
  linger?: boolean;
}

export type CallbackEvent =
  | { type: 'rejected'; status: number; reason: string; waiting: boolean }
  | { type: 'accepted' };

export interface CallbackResult {
  /** The authorization code: a secret (redact it in human output). */
  code: string;
  state: string;
  iss?: string;
  /** Every query parameter as received (contains the code). */
  params: Record<string, string>;
  redirectUri: string;
  /** How many requests were turned away before the accepted one. */
  rejected: number;
  /** `state` and `iss`. */
  checks: Check[];
}

export interface CallbackListener {
  /** `http://127.0.0.1:PORT/callback` or `http://[::1]:PORT/callback`: use it in both the authorization and the token request. */
  redirectUri: string;
  host: LoopbackHost;
  port: number;
  path: string;
  /**
   * Settles once: the accepted response (at once: the browser's request is held until finish()), or
   * an MtlsOAuthError (after the server has closed, unless it lingers with the error's page).
   */
  result: Promise<CallbackResult>;
  /**
   * The outcome of the login an accepted code started (the page the held request and every reload
   * get). Resolves once the page is out and, without `linger`, the port is free. No-op otherwise.
   */
  finish(page: CallbackPage): Promise<void>;
  /** Shuts the listener down (idempotent). Before a response it makes `result` reject with CALLBACK_CLOSED. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Options

export function assertLoopbackHost(host: string | undefined): LoopbackHost {
  const h = host === undefined ? '127.0.0.1' : host.replace(/^\[(.*)\]$/, '$1');
  if (h === '127.0.0.1' || h === '::1') return h;
  throw usageError(
    'CALLBACK_HOST_NOT_LOOPBACK',
    `the callback listens on 127.0.0.1 or ::1 only, not "${host}"`,
    {
      hint: 'a loopback IP literal keeps the redirect on this machine (RFC 8252 §7.3, §8.3); "localhost" may resolve elsewhere',
    },
  );
}

function assertPort(port: number): number {
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  throw usageError('BAD_PORT', `callback port ${port} is not a port number (0-65535)`, {
    hint: 'omit --port for an ephemeral port',
  });
}

function assertPath(path: string): string {
  if (/^\/[^?#\s]*$/.test(path)) return path;
  throw usageError(
    'CALLBACK_PATH_INVALID',
    `callback path "${path}" must start with "/" and have no query or fragment`,
  );
}

function assertTimeout(ms: number): number {
  if (Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMEOUT_MS) return ms;
  throw usageError('CALLBACK_TIMEOUT_INVALID', `callback timeout ${ms} ms is out of range`);
}

export function formatRedirectUri(host: LoopbackHost, port: number, path: string): string {
  return `http://${host === '::1' ? '[::1]' : host}:${port}${path}`;
}

/** Host header values a browser sends for this listener; anything else is DNS rebinding or a stray. */
function allowedHostHeaders(port: number): Set<string> {
  const names = ['127.0.0.1', '[::1]', 'localhost'];
  const allowed = new Set(names.map((n) => `${n}:${port}`));
  if (port === 80) for (const n of names) allowed.add(n);
  return allowed;
}

// ---------------------------------------------------------------------------------------------
// The decision for one request to the callback path (pure; exported for unit tests)

export interface CallbackExpectations {
  expectedState: string;
  issuer: string;
  issRequired: boolean;
}

export type CallbackVerdict =
  /** Not our response: answer with the page and keep waiting. */
  | { action: 'ignore'; page: CallbackPage; reason: string }
  /** Our response, and it carries a code (its page is the login's outcome: finish()). */
  | { action: 'accept'; code: string; state: string; iss?: string; checks: Check[] }
  /** Our response, and it ends the flow with this error. */
  | { action: 'fail'; page: CallbackPage; error: MtlsOAuthError };

export function evaluateCallback(params: URLSearchParams, x: CallbackExpectations): CallbackVerdict {
  const states = params.getAll('state');
  if (states.length === 0) return { action: 'ignore', page: badStatePage('missing'), reason: 'no state' };
  if (states.length > 1)
    return { action: 'ignore', page: badStatePage('repeated'), reason: 'state given twice' };
  if (!constantTimeEqual(states[0], x.expectedState)) {
    return { action: 'ignore', page: badStatePage('mismatch'), reason: 'state does not match' };
  }
  const checks: Check[] = [
    { name: 'state', status: 'pass', detail: 'matches the state sent (compared in constant time)' },
  ];

  const repeated = [...new Set(params.keys())].filter((k) => params.getAll(k).length > 1);
  if (repeated.length > 0) {
    const reason = `The response repeats ${repeated.join(', ')} (RFC 6749 §3.1 forbids it).`;
    return fail(invalidResponsePage(reason), 'check', 'CALLBACK_INVALID', reason, checks);
  }

  const iss = params.get('iss') ?? undefined;
  const issVerdict = checkIss(iss, x);
  checks.push(issVerdict.check);
  if (issVerdict.error)
    return { action: 'fail', page: issuerProblemPage(x.issuer, iss), error: issVerdict.error };

  const error = params.get('error');
  if (error !== null) return authorizationError(params, error, checks);

  const code = params.get('code');
  if (!code) {
    const reason = 'The response carries neither a code nor an error.';
    return fail(invalidResponsePage(reason), 'check', 'CALLBACK_INVALID', reason, checks);
  }
  return { action: 'accept', code, state: states[0], iss, checks };
}

function checkIss(
  iss: string | undefined,
  x: CallbackExpectations,
): { check: Check; error?: MtlsOAuthError } {
  if (iss === undefined && !x.issRequired) {
    return {
      check: {
        name: 'iss',
        status: 'skip',
        detail: 'not sent, and the IdP does not advertise it (RFC 9207)',
      },
    };
  }
  if (iss === x.issuer)
    return { check: { name: 'iss', status: 'pass', detail: `equals the issuer ${x.issuer}` } };
  const missing = iss === undefined;
  const check: Check = {
    name: 'iss',
    status: 'fail',
    detail: missing
      ? 'missing, although the IdP advertises authorization_response_iss_parameter_supported'
      : `"${echo(iss)}" is not the issuer ${x.issuer}`,
  };
  const error = new MtlsOAuthError(
    'check',
    missing ? 'ISS_MISSING' : 'ISS_MISMATCH',
    missing
      ? 'the authorization response has no iss parameter, although the IdP promises one (RFC 9207); the code was not exchanged'
      : `the authorization response comes from issuer "${echo(iss)}", not ${x.issuer} (RFC 9207 mix-up defence); the code was not exchanged`,
    {
      hint: missing
        ? 'an IdP that advertises authorization_response_iss_parameter_supported must send iss in every response'
        : 'if the IdP is configured with a slightly different issuer (a trailing "/", http vs https), fix --issuer or the IdP; otherwise treat this as an attack',
      details: {
        expected: x.issuer,
        received: iss ?? null,
        checks: [{ name: 'state', status: 'pass' }, check],
      },
    },
  );
  return { check, error };
}

const AUTHORIZATION_ERROR_HINTS: Record<string, string> = {
  access_denied: 'the user (or a policy at the IdP) declined; run login again and approve the request',
  invalid_scope: 'the IdP does not allow this scope for the client: check --scope',
  unauthorized_client:
    'the client may not use the authorization-code flow, or this redirect_uri is not registered for it',
  invalid_request:
    'the IdP rejected the request; check the redirect_uri registration (loopback, any port) and -p parameters',
  unsupported_response_type: 'the client is not allowed response_type=code at the IdP',
  login_required: 'prompt=none needs an existing session at the IdP: drop --prompt none',
  consent_required: 'prompt=none needs consent already given: drop --prompt none',
  interaction_required: 'prompt=none cannot be satisfied: drop --prompt none',
  server_error: 'the IdP failed; try again, and look at its logs',
  temporarily_unavailable: 'the IdP is overloaded or in maintenance; try again later',
};

function authorizationError(params: URLSearchParams, error: string, checks: Check[]): CallbackVerdict {
  const description = params.get('error_description') ?? undefined;
  const errorUri = params.get('error_uri') ?? undefined;
  const err = new MtlsOAuthError(
    'oauth',
    'AUTHORIZATION_ERROR',
    `the IdP answered the authorization request with ${echo(error, 100)}${description ? `: ${echo(description)}` : ''}`,
    {
      hint: AUTHORIZATION_ERROR_HINTS[error],
      details: {
        error,
        ...(description !== undefined ? { error_description: description } : {}),
        ...(errorUri !== undefined ? { error_uri: errorUri } : {}),
        checks,
      },
    },
  );
  return { action: 'fail', page: idpErrorPage(error, description), error: err };
}

function fail(
  page: CallbackPage,
  kind: 'check' | 'oauth',
  code: CodeOfKind<'check' | 'oauth'>,
  message: string,
  checks: Check[],
): CallbackVerdict {
  return {
    action: 'fail',
    page,
    error: new MtlsOAuthError(kind, code, `invalid authorization response: ${message}`, {
      details: { checks },
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// The server

function listenError(e: unknown, host: LoopbackHost, port: number): MtlsOAuthError {
  const code = errnoCode(e);
  const where = `${host === '::1' ? '[::1]' : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return usageError(
      'PORT_IN_USE',
      `port ${port} is already in use on ${host}: cannot listen for the callback`,
      {
        hint: `stop what listens on ${where} (lsof -nP -iTCP:${port} -sTCP:LISTEN) or choose another --port the IdP accepts; mtls-oauth never falls back to another port`,
        cause: e,
      },
    );
  }
  if (code === 'EACCES') {
    return usageError('PORT_DENIED', `not allowed to listen on ${where}`, {
      hint: 'ports below 1024 need privileges: choose a higher --port, or omit it for an ephemeral port',
      cause: e,
    });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
    return usageError(
      'CALLBACK_HOST_UNAVAILABLE',
      `cannot listen on ${host}: this machine has no such loopback address`,
      {
        hint: host === '::1' ? 'IPv6 loopback is unavailable here: use 127.0.0.1 (drop --ipv6)' : undefined,
        cause: e,
      },
    );
  }
  return new MtlsOAuthError(
    'network',
    'CALLBACK_LISTEN_FAILED',
    `cannot listen on ${where}: ${(e as Error).message}`,
    {
      cause: e,
    },
  );
}

function listen(server: Server, host: LoopbackHost, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => {
      server.off('listening', onListening);
      reject(listenError(e, host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/** Stops listening and destroys every connection, idle or not; resolves when the port is free. */
function shutDown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function send(res: ServerResponse, page: CallbackPage, closeConnection: boolean): void {
  res.writeHead(page.status, {
    ...page.headers,
    'Content-Length': Buffer.byteLength(page.body),
    ...(closeConnection ? { Connection: 'close' } : {}),
  });
  res.end(page.body);
}

/** Splits a request target into path and query without resolving it against any host. */
function splitTarget(target: string | undefined): { path: string; query: string } {
  const t = target ?? '';
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

type Outcome = { ok: true; value: CallbackResult } | { ok: false; error: MtlsOAuthError };

/**
 * waiting: for the one valid response. finishing: accepted; the caller exchanges the code while the
 * browser's request is held. finished: the outcome is known; the callback path answers its page.
 * closed: shut down (or shutting down).
 */
type Phase = 'waiting' | 'finishing' | 'finished' | 'closed';

export async function startCallbackListener(opts: CallbackListenerOptions): Promise<CallbackListener> {
  const host = assertLoopbackHost(opts.host);
  const path = assertPath(opts.path ?? DEFAULT_CALLBACK_PATH);
  const requestedPort = assertPort(opts.port ?? 0);
  const timeoutMs = assertTimeout(opts.timeoutMs);
  const holdMs = assertTimeout(opts.holdMs ?? DEFAULT_HOLD_MS);
  const linger = opts.linger === true;
  if (!opts.expectedState)
    throw usageError('CALLBACK_STATE_MISSING', 'the callback needs the state it must expect');
  if (opts.signal?.aborted) throw interrupted();
  const expectations: CallbackExpectations = {
    expectedState: opts.expectedState,
    issuer: opts.issuer,
    issRequired: opts.issRequired,
  };

  const server = createServer();
  const port = await listen(server, host, requestedPort);
  const redirectUri = formatRedirectUri(host, port, path);
  const allowedHosts = allowedHostHeaders(port);

  let settle!: (o: Outcome) => void;
  const result = new Promise<CallbackResult>((resolve, reject) => {
    settle = (o) => (o.ok ? resolve(o.value) : reject(o.error));
  });
  result.catch(() => {}); // the caller may attach its handler later; never an unhandled rejection

  let phase: Phase = 'waiting';
  let finalPage: CallbackPage | undefined;
  let rejected = 0;
  let lastRejection: string | undefined;
  /** Browser requests waiting for finish(), each with its bounded wait. */
  const held = new Map<ServerResponse, NodeJS.Timeout>();
  /** Responses after the decision that are still being written (shut down only once they are out). */
  const replying = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;

  /** Once the flow is decided and the listener lingers, nothing it holds may keep the process alive. */
  const detached = () => linger && phase !== 'waiting';
  const detach = () => {
    if (!linger) return;
    server.unref();
    for (const s of sockets) s.unref();
  };

  /** Answers after the decision: Connection: close, and tracked until written. */
  const reply = (res: ServerResponse, page: CallbackPage) => {
    const out = new Promise<void>((resolve) => {
      // Ref'd: the process may wait this long for a page a browser does not read, no longer.
      const grace = setTimeout(resolve, FINAL_PAGE_GRACE_MS);
      finished(res, () => {
        clearTimeout(grace);
        resolve();
      });
    });
    replying.add(out);
    void out.then(() => replying.delete(out));
    send(res, page, true);
    if (detached()) res.socket?.unref();
  };

  /** Holds the browser's request until finish(), or answers "still working" after holdMs. */
  const hold = (res: ServerResponse) => {
    res.socket?.ref();
    const timer = setTimeout(() => {
      held.delete(res);
      reply(res, stillWorkingPage());
    }, holdMs);
    held.set(res, timer);
    res.on('close', () => {
      clearTimeout(timer);
      held.delete(res);
    });
  };

  /** Answers every held request with `page`. */
  const release = (page: CallbackPage) => {
    for (const [res, timer] of held) {
      clearTimeout(timer);
      reply(res, page);
    }
    held.clear();
  };

  /** Lets the pages being written go out (bounded), then stops listening and destroys every connection. */
  const close = () => {
    closing ??= Promise.all(replying).then(() => shutDown(server));
    return closing;
  };

  /** Ends the wait: timeout, abort, close() or a server error. Held requests get the generic page. */
  const stop = (error: MtlsOAuthError) => {
    if (phase === 'closed') return;
    const wasWaiting = phase === 'waiting';
    phase = 'closed';
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    release(finishedPage());
    void close().then(() => {
      if (wasWaiting) settle({ ok: false, error });
    });
  };

  const notify = (event: CallbackEvent) => {
    try {
      opts.onEvent?.(event);
    } catch {
      // a progress callback must not break the listener
    }
  };

  const turnAway = (res: ServerResponse, page: CallbackPage, reason: string) => {
    if (phase !== 'waiting') return reply(res, page);
    rejected++;
    lastRejection = reason;
    notify({ type: 'rejected', status: page.status, reason, waiting: true });
    send(res, page, false);
  };

  const decide = (res: ServerResponse, query: string) => {
    const verdict = evaluateCallback(new URLSearchParams(query), expectations);
    if (verdict.action === 'ignore') return turnAway(res, verdict.page, verdict.reason);
    clearTimeout(timer);
    if (verdict.action === 'fail') {
      // The response ends the flow, and its page is the outcome.
      phase = 'finished';
      finalPage = verdict.page;
      opts.signal?.removeEventListener('abort', onAbort);
      detach();
      reply(res, verdict.page);
      notify({
        type: 'rejected',
        status: verdict.page.status,
        reason: verdict.error.message,
        waiting: false,
      });
      const outcome: Outcome = { ok: false, error: verdict.error };
      if (linger) return settle(outcome);
      phase = 'closed';
      return void close().then(() => settle(outcome));
    }
    phase = 'finishing';
    detach();
    hold(res);
    notify({ type: 'accepted' });
    const params = Object.fromEntries(new URLSearchParams(query));
    const { code, state, iss, checks } = verdict;
    settle({ ok: true, value: { code, state, iss, params, redirectUri, rejected, checks } });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (phase === 'closed') return reply(res, finishedPage());
    const hostHeader = req.headers.host?.toLowerCase();
    if (!hostHeader || !allowedHosts.has(hostHeader)) {
      return turnAway(
        res,
        forbiddenHostPage(),
        `Host header "${echo(req.headers.host ?? '', 80)}" is not this loopback listener`,
      );
    }
    const target = splitTarget(req.url);
    if (target.path !== path) return turnAway(res, notFoundPage(), `no such path ${echo(target.path, 80)}`);
    if (req.method !== 'GET') return turnAway(res, methodNotAllowedPage(), `method ${req.method} is not GET`);
    // After the decision the callback path only reports the outcome: no second code is looked at.
    if (phase === 'finishing') return hold(res);
    if (phase === 'finished') return reply(res, finalPage ?? finishedPage());
    decide(res, target.query);
  };

  const onTimeout = () => {
    const secs = Math.round(timeoutMs / 1000);
    stop(
      new MtlsOAuthError(
        'timeout',
        'CALLBACK_TIMEOUT',
        `no authorization response reached ${redirectUri} within ${secs} s`,
        {
          hint:
            rejected > 0
              ? `${rejected} request(s) to the callback were turned away (last: ${lastRejection}); finish the login in the tab this run opened, or raise --wait`
              : 'finish the login in the browser sooner or raise --wait; check that the IdP redirects to exactly this redirect_uri',
          details: { redirectUri, rejected },
        },
      ),
    );
  };

  const onAbort = () => stop(interrupted());

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (detached()) socket.unref();
  });
  server.on('request', onRequest);
  server.on('error', (e) => stop(listenError(e, host, port)));
  const timer = setTimeout(onTimeout, timeoutMs);
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    redirectUri,
    host,
    port,
    path,
    result,
    finish: (page) => {
      if (phase !== 'finishing') return closing ?? Promise.resolve();
      phase = 'finished';
      finalPage = page;
      opts.signal?.removeEventListener('abort', onAbort);
      release(page);
      if (linger) return Promise.all(replying).then(() => {});
      phase = 'closed';
      return close();
    },
    close: () => {
      stop(
        new MtlsOAuthError(
          'interrupted',
          'CALLBACK_CLOSED',
          'the callback listener was closed before a response arrived',
        ),
      );
      return close();
    },
  };
}

function interrupted(): MtlsOAuthError {
  return new MtlsOAuthError(
    'interrupted',
    'INTERRUPTED',
    'interrupted: the callback listener was closed, nothing was exchanged',
  );
}
