// What a smoke run reports: each step's result, and the run's.

import type { Check, CheckStatus } from '../check.ts';
import type { AuthMethod } from '../client-auth.ts';
import type { ErrorCode, ErrorKind } from '../errors.ts';
import type { Endpoint } from '../session.ts';
import type { ConnectionRecord } from '../transport/diagnostics.ts';
import type { SmokeGrant } from './options.ts';
import type { StepName } from './plan.ts';

/** A step's status is a check's. */
export type StepStatus = CheckStatus;

export interface StepError {
  code: ErrorCode;
  kind: ErrorKind;
  message: string;
  hint?: string;
  /** The OAuth error the IdP answered with (RFC 6749 §5.2), if it did. */
  oauthError?: string;
  /** The IdP's error response as received. */
  response?: unknown;
}

export interface StepResult {
  name: StepName;
  status: StepStatus;
  /** Wall time of the step in milliseconds (0 for a skipped step). */
  timeMs: number;
  detail: string;
  hint?: string;
  /** The failure (for an expected failure too). */
  error?: StepError;
  /** --expect-fail for this step, and whether the expectation held. */
  expected?: { error?: string; met: boolean };
  /** Finer checks: the discovery analysis, one per probed origin, the token response's. */
  checks?: Check[];
  /** Machine-readable details: the IdP's responses as received, secrets redacted unless asked. */
  data?: Record<string, unknown>;
}

export interface SmokeReport {
  /** The issuer (--issuer), when discovery was used. */
  issuer?: string;
  /** The client_id ('' when no step needed one and none was given). */
  clientId: string;
  authMethod: AuthMethod;
  grant: SmokeGrant;
  identity: { subject: string; issuer: string; x5tS256: string; source: string } | null;
  /** The endpoints used with the certificate (or without, when none is configured). */
  endpoints: Partial<Record<'token' | 'introspection' | 'revocation', Endpoint>>;
  steps: StepResult[];
  /** No step failed (warnings and skips do not fail a run). */
  ok: boolean;
  /** Set when the IdP could not be reached at all: the run's first failure was a network error and nothing ever answered. */
  unreachable?: { code: ErrorCode; message: string; hint?: string; step: StepName };
  /** Every connection made, in order. */
  connections: ConnectionRecord[];
  timeMs: number;
}
