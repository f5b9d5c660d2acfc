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

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { finished } from 'node:stream';
import type { Check } from '../check.ts';
import { MtlsOAuthError, usageError } from '../errors.ts';
import {
  type CallbackPage,
  echo,
  finishedPage,
  forbiddenHostPage,
  methodNotAllowedPage,
  notFoundPage,
  stillWorkingPage,
} from './callback-page.ts';
import { type CallbackExpectations, evaluateCallback } from './callback-verdict.ts';
import {
  allowedHostHeaders,
  assertLoopbackHost,
  assertPath,
  assertPort,
  assertTimeout,
  formatRedirectUri,
  type LoopbackHost,
  listen,
  listenError,
  shutDown,
} from './loopback-socket.ts';

export type { LoopbackHost } from './loopback-socket.ts';
export { assertLoopbackHost, formatRedirectUri } from './loopback-socket.ts';

export const DEFAULT_CALLBACK_PATH = '/callback';

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
// The server

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
