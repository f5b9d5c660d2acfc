// A headless user agent for `mtls-oauth login --no-browser`: it does what a person's browser does.
//
//   const watcher = watchForAuthorizationUrl();          // feed it the CLI's stderr
//   child.stderr.on('data', (d) => watcher.feed(String(d)));
//   const url = await watcher.url;                       // the line the CLI printed
//   const { redirect, response } = await completeLogin(idp, url);   // login + consent + callback
//
// completeLogin follows the authorization URL, submits the test IdP's dev login and consent forms
// with cookies (the IdP helper's driver, test/helpers/idp.ts), and follows the final redirect to the
// loopback callback, returning the page the browser would show. `tamper` changes that redirect
// first (a wrong state, a foreign iss, ...), and getLoopback sends any other request to the
// callback (other paths, a foreign Host header).
//
// startLogin runs the built CLI's `login` and hands over the URL it prints, for any user agent
// (this one, or a real browser: test/e2e/browser.test.ts).
//
// No node:test imports here: the demo script uses this module too.

import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { type CliResult, runCli } from './cli.ts';
import type { TestIdp } from './idp.ts';

export interface LoopbackResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * The authorization URL in text the CLI printed on stderr: a line that is nothing but an http(s)
 * URL carrying `state` and `redirect_uri`, or (a pushed request, RFC 9126 §4) `request_uri`, or (a
 * signed request object, RFC 9101 §5) `request`.
 */
export function findAuthorizationUrl(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    if (!/^https?:\/\/\S+$/.test(line)) continue;
    try {
      const u = new URL(line);
      const q = u.searchParams;
      if ((q.has('state') && q.has('redirect_uri')) || q.has('request_uri') || q.has('request')) return line;
    } catch {
      // not a URL after all
    }
  }
  return undefined;
}

export interface UrlWatcher {
  /** Give it stderr as it arrives. */
  feed(chunk: string): void;
  /** Resolves with the authorization URL once a whole line with it has arrived. */
  url: Promise<string>;
  /** Rejects `url` (e.g. the process ended first) unless it resolved already. */
  fail(error: Error): void;
  /** Everything fed so far. */
  text(): string;
}

export function watchForAuthorizationUrl(): UrlWatcher {
  let buffer = '';
  let settled = false;
  let resolve!: (url: string) => void;
  let reject!: (e: Error) => void;
  const url = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  url.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection
  return {
    feed(chunk) {
      buffer += chunk;
      if (settled) return;
      // Only complete lines: the URL may arrive in pieces.
      const complete = buffer.slice(0, buffer.lastIndexOf('\n') + 1);
      const found = findAuthorizationUrl(complete);
      if (found) {
        settled = true;
        resolve(found);
      }
    },
    url,
    fail(error) {
      if (settled) return;
      settled = true;
      reject(error);
    },
    text: () => buffer,
  };
}

export interface RunningLogin {
  /** The authorization URL the CLI printed. */
  url: Promise<string>;
  done: Promise<CliResult>;
  child: () => ChildProcess | undefined;
  stderr: () => string;
}

/** Starts `mtls-oauth ARGS` (a login with --no-browser); `url` resolves with the URL it prints. */
export function startLogin(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): RunningLogin {
  const watcher = watchForAuthorizationUrl();
  let child: ChildProcess | undefined;
  const done = runCli(args, {
    env,
    timeoutMs,
    onStderr: (chunk, c) => {
      child = c;
      watcher.feed(chunk);
    },
  });
  done.then((r) =>
    watcher.fail(new Error(`the CLI ended (exit ${r.code}) without printing a URL:\n${r.stderr}`)),
  );
  return { url: watcher.url, done, child: () => child, stderr: watcher.text };
}

/**
 * A GET to the loopback callback on a connection of its own (no keep-alive), as a browser would
 * send it; `host` replaces the Host header (DNS rebinding). Resolves with the whole response.
 */
export function getLoopback(
  url: string | URL,
  o: { host?: string; method?: string; timeoutMs?: number } = {},
): Promise<LoopbackResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: u.port || 80,
        path: `${u.pathname}${u.search}`,
        method: o.method ?? 'GET',
        headers: { accept: 'text/html', ...(o.host ? { host: o.host } : {}) },
        agent: false,
        timeout: o.timeoutMs ?? 15_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.origin} in time`)));
    req.on('error', reject);
    req.end();
  });
}

/** The parameters of an authorization URL the flow needs to forge callbacks: redirect_uri, state. */
export function flowOf(authorizationUrl: string): { redirectUri: string; state: string; url: URL } {
  const url = new URL(authorizationUrl);
  const redirectUri = url.searchParams.get('redirect_uri');
  const state = url.searchParams.get('state');
  if (!redirectUri || !state) throw new Error(`not an authorization URL: ${authorizationUrl}`);
  return { redirectUri, state, url };
}

/**
 * A callback URL for the flow started by `authorizationUrl`, with the given parameters (undefined
 * drops one). Default: the flow's own state.
 */
export function callbackUrl(authorizationUrl: string, params: Record<string, string | undefined>): URL {
  const { redirectUri, state } = flowOf(authorizationUrl);
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries({ state, ...params })) if (v !== undefined) u.searchParams.set(k, v);
  return u;
}

export interface LoginAsUserOptions {
  /** The account to log in as (default alice). */
  login?: string;
  /** Abort the interaction at the IdP: the redirect carries error=access_denied. */
  deny?: boolean;
  /** Changes the redirect before it is followed (return a new URL, or edit it in place). */
  tamper?: (redirect: URL) => URL | undefined;
}

/**
 * Plays the person at the browser: authorization URL → IdP login and consent forms → the redirect
 * to the loopback callback. Returns the redirect followed and the callback's page.
 */
export async function completeLogin(
  idp: Pick<TestIdp, 'authorize'>,
  authorizationUrl: string,
  o: LoginAsUserOptions = {},
): Promise<{ redirect: URL; response: LoopbackResponse }> {
  const target = await idp.authorize(authorizationUrl, { login: o.login, deny: o.deny });
  let redirect = new URL(target);
  redirect = o.tamper?.(redirect) ?? redirect;
  const response = await getLoopback(redirect);
  return { redirect, response };
}
