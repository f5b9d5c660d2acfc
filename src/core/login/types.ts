// What login() takes and returns (flow.ts), shared by its steps and by the CLI.

import type { DeliveryOptions } from '../authorization-delivery.ts';
import type { ExtraParams } from '../authorization-request.ts';
import type { Check } from '../check.ts';
import type { ErrorCode } from '../errors.ts';
import type { SecurityProfile } from '../fapi2.ts';
import type { IdTokenClaims, IdTokenValidation } from '../id-token.ts';
import type { PushedRequest } from '../par.ts';
import type { Endpoint, Session } from '../session.ts';
import type { TokenCache } from '../token-cache.ts';
import type { BindingCheck, TokenResponse } from '../token-endpoint.ts';
import type { CallbackSpec } from './callback-spec.ts';
import type { CallbackEvent } from './loopback.ts';

export type LoginStep =
  | 'discovery'
  | 'pushed authorization request'
  | 'token request'
  | 'ID token validation'
  | 'binding check';

export interface AuthorizationUrlInfo {
  /** The authorization URL (carries state, the PKCE challenge and the nonce: single use, not secret). */
  url: string;
  redirectUri: string;
  /** When the wait for the callback ends (ms since the epoch). */
  deadline: number;
}

export interface LoginOptions {
  /** Opened with the operation 'token'; it needs --issuer (discovery). The caller closes it. */
  session: Session;
  /** Space-separated; default `openid`. */
  scope?: string;
  prompt?: string;
  /** -p key=value, in order. */
  extraParams?: ExtraParams;
  /** Default: 127.0.0.1, an ephemeral port, /callback. */
  callback?: CallbackSpec;
  /** The overall wait for the browser's callback. */
  timeoutMs: number;
  /** Aborting (the CLI does on SIGINT) closes the listener; the flow rejects with kind 'interrupted'. */
  signal?: AbortSignal;
  /** Audiences of the ID token besides the client id that the client trusts (--trusted-audience). */
  trustedAudiences?: readonly string[];
  /** Introspect an opaque access token to see its certificate binding (default true). */
  introspect?: boolean;
  /** Where to keep the tokens; none: not cached. */
  cache?: TokenCache;
  /** Called once the listener is up: open the browser, print the URL. May be async. */
  onAuthorizationUrl: (info: AuthorizationUrlInfo) => void | Promise<void>;
  /** Requests to the callback turned away (wrong state, other paths, foreign Host), as they happen. */
  onCallbackEvent?: (event: CallbackEvent) => void;
  /** The step that starts now (for a spinner). */
  onStep?: (step: LoginStep, detail: string) => void;
  /**
   * Keep the callback answering the outcome page on reloads until the process exits (the CLI; it
   * never keeps the process alive). Default: the listener shuts down once the page is out.
   */
  keepCallbackPage?: boolean;
  /** How the request reaches the IdP (PAR, request object: authorization-delivery.ts). */
  delivery?: DeliveryOptions;
  /** Check the flow against a security profile (fapi2.ts); set delivery.profileRequiresPar too. */
  securityProfile?: SecurityProfile;
  /**
   * No listener: the final redirect URL is pasted back (pasted-callback.ts), for a terminal without
   * a browser on this machine. The redirect URI is --redirect-uri, else the loopback one (no port
   * unless --port: what native clients register).
   */
  paste?: { readLine: () => Promise<string> };
}

export interface LoginUser {
  sub: string;
  name?: string;
  email?: string;
  preferred_username?: string;
}

export interface LoginResult {
  issuer: string;
  clientId: string;
  authMethod: string;
  authorizationEndpoint: string;
  redirectUri: string;
  tokenEndpoint: Endpoint;
  scope: { requested: string; granted?: string };
  /** The token response as received (contains the tokens). */
  token: TokenResponse;
  /** Seconds since the epoch. */
  obtainedAt: number;
  expiresAt?: number;
  /** From the validated ID token. */
  user?: LoginUser;
  idToken?: {
    valid: boolean;
    /** Absent when the token could not be parsed or verified. */
    header?: IdTokenValidation['header'];
    claims?: IdTokenClaims;
    /** id-token.ts's detailed checks (alg, signature, iss, aud, ...). */
    checks: Check[];
    jwksFetches?: number;
  };
  binding: BindingCheck;
  /** state, iss, pkce, par, id_token, binding, then the token response's own checks. */
  checks: Check[];
  /** Where the tokens were cached (absent: not cached). */
  cachedIn?: string;
  /** Requests to the callback that were turned away before the accepted one. */
  rejectedCallbacks: number;
  /** The pushed authorization request (PAR), when the request was pushed. */
  par?: PushedRequest;
  /** Set when a check failed: what the CLI reports as the error. */
  failure?: { code: ErrorCode; message: string; hint?: string };
}
