// The introspect and introspect-after-revoke steps: introspection says the new access token is
// active and bound to our certificate, and inactive once revoked.

import { bindingFromIntrospection, introspectToken } from '../../token-endpoint.ts';
import type { StepName } from '../plan.ts';
import type { StepStatus } from '../report.ts';
import {
  checkFailure,
  endpointOf,
  noEndpoint,
  type RunState,
  type SmokeStep,
  type StepOutcome,
} from '../step.ts';

async function stepIntrospect(st: RunState, after: boolean): Promise<StepOutcome> {
  const name: StepName = after ? 'introspect-after-revoke' : 'introspect';
  const endpoint = endpointOf(st, 'introspection');
  if (!endpoint) return noEndpoint(st, name, 'introspection');
  const { response } = await introspectToken(st.client, endpoint.url, st.token!.access_token, 'access_token');
  const data = { endpoint, response: st.redact(response) };
  if (after) {
    if (response.active) {
      const hint =
        'revocation answered 200 but the token is still active: the IdP may not revoke this kind of token (self-contained JWT access tokens often stay valid until they expire), or introspection reads a stale replica';
      const message = 'the access token is still active after revocation';
      return {
        status: 'fail',
        detail: message,
        hint,
        ok: true,
        error: checkFailure('STILL_ACTIVE', message, hint),
        data,
      };
    }
    return { status: 'pass', detail: 'inactive (active: false)', ok: true, data };
  }
  if (!response.active) {
    const hint =
      'a token issued a moment ago should be active: the IdP may not introspect this kind of token (some cannot introspect JWT access tokens), or introspection needs other permissions for this client';
    const message = 'the IdP says the new access token is not active';
    return {
      status: 'fail',
      detail: message,
      hint,
      ok: false,
      error: checkFailure('TOKEN_INACTIVE', message, hint),
      data,
    };
  }
  const b = bindingFromIntrospection(response, {
    expected: st.identity?.x5tS256,
    idpBinds: st.metadata ? st.metadata.tls_client_certificate_bound_access_tokens === true : undefined,
  });
  const who = typeof response.client_id === 'string' ? `, client_id ${response.client_id}` : '';
  const status: StepStatus = b.status === 'skip' ? 'pass' : b.status;
  const detail = `active${who}; ${b.detail ?? ''}`.replace(/; $/, '');
  return {
    status,
    detail,
    ok: true,
    ...(status === 'fail' ? { error: checkFailure('BINDING_MISMATCH', detail) } : {}),
    checks: [{ name: b.name, status: b.status, ...(b.detail ? { detail: b.detail } : {}) }],
    data,
  };
}

export const introspectStep = {
  name: 'introspect',
  summary: 'introspection: active, bound to our certificate',
  needs: ['token'],
  brings: ['token'],
  run: (st) => stepIntrospect(st, false),
} as const satisfies SmokeStep;

export const introspectAfterRevokeStep = {
  name: 'introspect-after-revoke',
  summary: 'introspection after revocation: inactive',
  needs: ['revoke'],
  brings: ['revoke'],
  run: (st) => stepIntrospect(st, true),
} as const satisfies SmokeStep;
