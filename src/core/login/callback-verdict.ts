// What one request to the callback path means for the flow (pure; the listener, loopback.ts, and
// a pasted redirect URL, pasted-callback.ts, both judge by it): not ours (wrong or missing state:
// keep waiting), ours with a code (accept), or ours and ending the flow (the IdP's error, a wrong
// or missing iss per RFC 9207, a malformed response).

import type { Check } from '../check.ts';
import { type CodeOfKind, MtlsOAuthError } from '../errors.ts';
import { constantTimeEqual } from '../pkce.ts';
import {
  badStatePage,
  type CallbackPage,
  echo,
  idpErrorPage,
  invalidResponsePage,
  issuerProblemPage,
} from './callback-page.ts';

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
