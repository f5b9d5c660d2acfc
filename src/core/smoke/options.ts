// What a smoke run is asked to do.

import type { ResolvedSettings, Settings } from '../config.ts';
import type { TokenCache } from '../token-cache.ts';
import type { ExpectFail } from './expect-fail.ts';
import type { StepName } from './plan.ts';
import type { CachedRefreshToken } from './refresh-token.ts';

export type SmokeGrant = 'client_credentials' | 'refresh_token' | 'password';
export const SMOKE_GRANTS: SmokeGrant[] = ['client_credentials', 'refresh_token', 'password'];

export interface SmokeOptions {
  settings: Settings;
  /** Steps chosen (--steps); default all. Dependencies are added (planSteps). */
  steps?: StepName[];
  expectFail?: ExpectFail[];
  /** Default client_credentials. */
  grant?: SmokeGrant;
  /** Also check the run against a security profile (the fapi2 step). */
  securityProfile?: import('../fapi2.ts').SecurityProfile;
  /** refresh_token grant: the refresh token and where it came from (see refreshTokenFor). */
  refreshToken?: CachedRefreshToken;
  /** Where each setting came from (resolveSettings), to label endpoints with their real source. */
  sources?: ResolvedSettings['sources'];
  /** password grant: the user and the password. */
  username?: string;
  password?: string;
  /** RFC 8707 resource, audience, extra token request parameters. */
  resource?: string;
  audience?: string;
  extra?: Record<string, string>;
  /** The token cache: after a refresh, a rotated refresh token is stored there (never the access token, which the run revokes). */
  cache?: TokenCache;
  /** Tokens in full in the report's data (else redacted, redact.ts). */
  showSecrets?: boolean;
  /** Verbose sink for requests, responses and connections (secrets redacted). */
  log?: (line: string) => void;
  warn?: (message: string) => void;
  /** Called as each step starts (progress). */
  onStep?: (step: StepName) => void;
  /** Transport overrides (tests): e.g. a lookup function. */
  http?: Partial<import('../transport/http-client.ts').HttpClientOptions>;
}
