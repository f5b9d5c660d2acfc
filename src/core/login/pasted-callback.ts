// `login --paste`: for a terminal with no browser on this machine (SSH). No listener: the person
// opens the authorization URL wherever they have a browser, which is then sent to the redirect URI
// (which fails to load there: nothing listens), and pastes that final URL back. The pasted URL is
// judged by the loopback's own evaluateCallback (state, iss, the IdP's error response): one
// validation for both ways in. A wrong or missing state ends the flow here, as there is no browser
// to keep waiting for.

import { MtlsOAuthError, usageError } from '../errors.ts';
import { type CallbackExpectations, evaluateCallback } from './callback-verdict.ts';
import type { CallbackListener, CallbackResult, LoopbackHost } from './loopback.ts';

export interface PastedCallbackOptions extends CallbackExpectations {
  host: LoopbackHost;
  port: number;
  path: string;
  /** The redirect URI sent to the IdP, which the pasted URL must start with. */
  redirectUri: string;
  /** Reads the pasted line (called once, after the authorization URL is shown). */
  readLine: () => Promise<string>;
  /** The wait for the paste. */
  timeoutMs: number;
  /** Aborting (Ctrl-C) ends the wait: kind 'interrupted'. */
  signal?: AbortSignal;
}

const PASTE_HINT =
  'paste the whole address the browser shows after logging in (it starts with the redirect URI and carries code and state)';

/** The pasted text as the query of a response to `redirectUri`, or a usage error. */
export function pastedParams(text: string, redirectUri: string): URLSearchParams {
  const trimmed = text.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw usageError('PASTE_INVALID', trimmed ? 'the pasted text is not a URL' : 'nothing was pasted', {
      hint: PASTE_HINT,
    });
  }
  const expected = new URL(redirectUri);
  if (url.origin !== expected.origin || url.pathname !== expected.pathname) {
    throw usageError('PASTE_INVALID', `the pasted URL is not a response to the redirect URI ${redirectUri}`, {
      hint: PASTE_HINT,
    });
  }
  return url.searchParams;
}

/** A CallbackListener whose one response is the URL pasted back; nothing listens. */
export function pastedCallback(o: PastedCallbackOptions): CallbackListener {
  let result: Promise<CallbackResult> | undefined;
  /** The pasted line, unless the wait times out or is interrupted first. */
  const line = () =>
    new Promise<string>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        stop();
        reject(
          new MtlsOAuthError(
            'interrupted',
            'INTERRUPTED',
            'interrupted while waiting for the pasted URL; nothing was exchanged',
          ),
        );
      };
      const timer = setTimeout(() => {
        stop();
        reject(
          new MtlsOAuthError(
            'timeout',
            'CALLBACK_TIMEOUT',
            `no URL was pasted within ${Math.round(o.timeoutMs / 1000)} s`,
            {
              hint: 'finish the login in the browser sooner or raise --timeout',
            },
          ),
        );
      }, o.timeoutMs);
      timer.unref();
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      o.readLine().then(
        (text) => {
          stop();
          resolve(text);
        },
        (e: unknown) => {
          stop();
          reject(e);
        },
      );
    });
  const read = async (): Promise<CallbackResult> => {
    const params = pastedParams(await line(), o.redirectUri);
    const verdict = evaluateCallback(params, o);
    if (verdict.action === 'fail') throw verdict.error;
    if (verdict.action === 'ignore') {
      throw new MtlsOAuthError(
        'check',
        'CALLBACK_INVALID',
        `invalid authorization response: ${verdict.reason} (this login's state was not in the pasted URL); the code was not exchanged`,
        { hint: 'paste the URL of this login, from the browser that opened the URL printed above' },
      );
    }
    const { code, state, iss, checks } = verdict;
    return {
      code,
      state,
      iss,
      params: Object.fromEntries(params),
      redirectUri: o.redirectUri,
      rejected: 0,
      checks,
    };
  };
  return {
    redirectUri: o.redirectUri,
    host: o.host,
    port: o.port,
    path: o.path,
    // Read only once asked for: after the URL has been shown.
    get result() {
      result ??= read();
      return result;
    },
    finish: async () => {},
    close: async () => {},
  };
}
