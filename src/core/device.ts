// The device authorization grant (RFC 8628) for machines without a browser: the device
// authorization request (authenticated like the token endpoint, over mTLS), then polling the token
// endpoint until the user approves on another device, honouring `interval` and `slow_down`, and
// ending on access_denied, expired_token, the code's own expiry or Ctrl-C. The loop is bounded by
// the code's lifetime, itself capped: an IdP cannot keep the tool polling for ever.

import type { Check } from './check.ts';
import { isMtlsOAuthError, MtlsOAuthError } from './errors.ts';
import { authenticatedPost, type OAuthClient, type TokenResponse, tokenRequest } from './token-endpoint.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.2: the interval when the IdP names none. */
export const DEFAULT_INTERVAL_S = 5;
/** slow_down adds this much to the interval (RFC 8628 §3.5). */
export const SLOW_DOWN_STEP_S = 5;
/** Bounds on what the IdP may ask of the loop. */
export const MAX_INTERVAL_S = 60;
export const MAX_LIFETIME_S = 3600;

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Seconds the codes live (capped at MAX_LIFETIME_S). */
  expiresIn: number;
  /** Seconds between polls (capped at MAX_INTERVAL_S). */
  interval: number;
}

function badResponse(why: string, body: unknown): MtlsOAuthError {
  return new MtlsOAuthError(
    'oauth',
    'BAD_DEVICE_RESPONSE',
    `device authorization: the response ${why} (RFC 8628 §3.2)`,
    {
      hint: 'the URL may not be a device authorization endpoint; check discovery (`mtls-oauth discover ISSUER`)',
      // device_code is a credential of this flow: never echoed.
      details: { members: body && typeof body === 'object' ? Object.keys(body) : typeof body },
    },
  );
}

/** Validates a device authorization response (RFC 8628 §3.2). */
export function parseDeviceAuthorization(body: unknown): DeviceAuthorization {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw badResponse('is not a JSON object', body);
  const b = body as Record<string, unknown>;
  const text = (k: string) => {
    const v = b[k];
    if (typeof v !== 'string' || v === '') throw badResponse(`has no ${k}`, body);
    return v;
  };
  const url = (k: string, v: string) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw badResponse(`has a ${k} that is not a URL`, body);
    }
    // The user is sent there to type a code: a page of the IdP, over https.
    if (u.protocol !== 'https:') throw badResponse(`has a ${k} that is not https`, body);
    // The normalized form: percent-encoded, nothing a terminal would interpret.
    return u.href;
  };
  const seconds = (k: string, fallback: number | undefined, max: number) => {
    const v = b[k];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw badResponse(`has ${v === undefined ? 'no' : 'a bad'} ${k}`, body);
    }
    return Math.min(Math.ceil(v), max);
  };
  const complete = b.verification_uri_complete;
  const userCode = text('user_code');
  // Printed for the user to type: plain characters only (RFC 8628 §6.1), never terminal controls.
  if (!/^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/.test(userCode)) {
    throw badResponse('has a user_code with characters a person cannot type', body);
  }
  return {
    deviceCode: text('device_code'),
    userCode,
    verificationUri: url('verification_uri', text('verification_uri')),
    ...(typeof complete === 'string' && complete
      ? { verificationUriComplete: url('verification_uri_complete', complete) }
      : {}),
    expiresIn: seconds('expires_in', undefined, MAX_LIFETIME_S),
    interval: seconds('interval', DEFAULT_INTERVAL_S, MAX_INTERVAL_S),
  };
}

export async function requestDeviceAuthorization(
  c: OAuthClient,
  endpoint: string,
  params: { scope?: string; extra?: Record<string, string> },
): Promise<DeviceAuthorization> {
  const { body } = await authenticatedPost(c, endpoint, 'device authorization', {
    scope: params.scope,
    ...params.extra,
  });
  return parseDeviceAuthorization(body);
}

export type PollEvent =
  | { type: 'pending'; polls: number; nextInS: number }
  | { type: 'slow_down'; polls: number; intervalS: number };

export interface PollOptions {
  signal?: AbortSignal;
  onPoll?: (event: PollEvent) => void;
  /** For tests of the loop: the clock and the wait. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

function interrupted(): MtlsOAuthError {
  return new MtlsOAuthError('interrupted', 'INTERRUPTED', 'interrupted: the device login was cancelled');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(interrupted());
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(interrupted());
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * Polls the token endpoint (RFC 8628 §3.4) until the IdP answers with tokens or a final error.
 * authorization_pending waits `interval`; slow_down adds 5 s to it for every later poll.
 */
export async function pollForToken(
  c: OAuthClient,
  tokenEndpoint: string,
  auth: DeviceAuthorization,
  o: PollOptions = {},
): Promise<{ token: TokenResponse; checks: Check[]; polls: number }> {
  const now = o.now ?? Date.now;
  const wait = o.sleep ?? sleep;
  const deadline = now() + auth.expiresIn * 1000;
  let interval = auth.interval;
  let polls = 0;
  // At most one poll per second over the capped lifetime, whatever the IdP answers.
  while (polls < MAX_LIFETIME_S) {
    if (now() + interval * 1000 > deadline) break;
    await wait(interval * 1000, o.signal);
    polls++;
    try {
      const { token, checks } = await tokenRequest(
        c,
        tokenEndpoint,
        { grant_type: DEVICE_CODE_GRANT, device_code: auth.deviceCode },
        'device token request',
      );
      return { token, checks, polls };
    } catch (e) {
      if (!isMtlsOAuthError(e)) throw e;
      if (e.code === 'OAUTH_AUTHORIZATION_PENDING') {
        o.onPoll?.({ type: 'pending', polls, nextInS: interval });
        continue;
      }
      if (e.code === 'OAUTH_SLOW_DOWN') {
        interval = Math.min(interval + SLOW_DOWN_STEP_S, MAX_INTERVAL_S);
        o.onPoll?.({ type: 'slow_down', polls, intervalS: interval });
        continue;
      }
      throw e;
    }
  }
  throw new MtlsOAuthError(
    'timeout',
    'DEVICE_CODE_EXPIRED',
    `the user code ${auth.userCode} expired (after ${auth.expiresIn} s) before the login was approved`,
    { hint: 'run login --device again and approve it at the verification URI in time' },
  );
}
