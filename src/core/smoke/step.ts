// What a smoke step is (SmokeStep: one file per step in steps/, listed in steps/index.ts), the
// state a run passes from step to step, and the helpers the steps share.

import type { Check } from '../check.ts';
import type { DiscoveryReport, Metadata } from '../discovery/index.ts';
import { type CodeOfKind, type MtlsOAuthError, usageError } from '../errors.ts';
import { chooseEndpoint, type Endpoint, type Operation } from '../session.ts';
import type { OAuthClient, TokenResponse } from '../token-endpoint.ts';
import type { HttpClient } from '../transport/http-client.ts';
import type { ClientIdentity } from '../transport/identity.ts';
import type { SmokeOptions } from './options.ts';
import type { StepName } from './plan.ts';
import type { StepError, StepStatus } from './report.ts';

/**
 * One step of the smoke test. Adding a step: a file in steps/ that exports one of these, and its
 * place in STEP_LIST (steps/index.ts), which orders the run.
 */
export interface SmokeStep<Name extends string = string> {
  name: Name;
  /** One line, for documentation. */
  summary: string;
  /**
   * Steps whose output this one needs: when one of them failed (or was skipped), this one is
   * skipped. Names of earlier steps (plain strings: StepName is derived from the step list itself;
   * plan.ts checks them).
   */
  needs: readonly string[];
  /** Steps added to a --steps list that names this one (discovery only when there is an issuer). */
  brings: readonly string[];
  run(st: RunState): Promise<StepOutcome>;
}

export interface StepOutcome {
  status: StepStatus;
  detail: string;
  hint?: string;
  /** The step produced what later steps need. */
  ok: boolean;
  error?: StepError;
  checks?: Check[];
  data?: Record<string, unknown>;
}

export interface RunState {
  o: SmokeOptions;
  http: HttpClient;
  client: OAuthClient;
  identity?: ClientIdentity;
  metadata?: Metadata;
  discovery?: DiscoveryReport;
  token?: TokenResponse;
  /** What the binding step proved the token is bound to (undefined: it did not run). */
  bound?: { certificate: boolean; dpop: boolean };
  plan: StepName[];
  /** Steps the user named (an IdP without the endpoint fails them instead of skipping). */
  explicit: Set<StepName>;
  redact: <T>(v: T) => T;
}

export const worst = (statuses: StepStatus[]): StepStatus =>
  statuses.includes('fail')
    ? 'fail'
    : statuses.includes('warn')
      ? 'warn'
      : statuses.every((s) => s === 'skip') && statuses.length > 0
        ? 'skip'
        : 'pass';

/** A failure as a step error (the IdP's OAuth error picked out). */
export function stepError(e: MtlsOAuthError): StepError {
  const response = e.details?.response as { error?: unknown } | undefined;
  const oauth = e.kind === 'oauth' && typeof response?.error === 'string' ? response.error : undefined;
  return {
    code: e.code,
    kind: e.kind,
    message: e.message,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(oauth ? { oauthError: oauth, response } : {}),
  };
}

export function failed(e: MtlsOAuthError, extra: Partial<StepOutcome> = {}): StepOutcome {
  return { status: 'fail', detail: e.message, hint: e.hint, ok: false, error: stepError(e), ...extra };
}

/** A check failure (not an exception) with a code --expect-fail can name. */
export function checkFailure(code: CodeOfKind<'check'>, message: string, hint?: string): StepError {
  return { code, kind: 'check', message, ...(hint ? { hint } : {}) };
}

export function endpointOf(st: RunState, op: Operation): Endpoint | undefined {
  return chooseEndpoint(op, {
    settings: st.o.settings,
    metadata: st.metadata,
    withClientCert: !!st.identity,
    sources: st.o.sources,
  });
}

export function noEndpoint(st: RunState, step: StepName, op: Operation): StepOutcome {
  const flag = `--${op}-endpoint`;
  const where = st.metadata ? `the IdP's metadata has no ${op}_endpoint` : `no ${op} endpoint (${flag})`;
  if (st.explicit.has(step)) {
    const e = usageError('NO_ENDPOINT', `${where}`, {
      hint: st.metadata
        ? `the IdP may not support ${op}; if it does, give the URL with ${flag} URL`
        : `give ${flag} URL, or --issuer for discovery`,
    });
    return failed(e);
  }
  return { status: 'skip', detail: `${where}: nothing to call`, ok: false };
}

export const describeEndpoint = (e: Endpoint) =>
  `${e.url}${e.via === 'mtls alias' ? ' (mtls alias)' : e.via === 'setting' ? ` (${e.source ?? 'setting'})` : ''}`;
