// The binding step: the access token is bound to our certificate (cnf.x5t#S256) and, with --dpop,
// to our DPoP key (cnf.jkt, RFC 9449 §6).

import { DPOP_NOT_BOUND_HINT } from '../../dpop.ts';
import { checkDpopBinding, checkTokenBinding } from '../../token-endpoint.ts';
import { checkFailure, endpointOf, type RunState, type SmokeStep, type StepOutcome, worst } from '../step.ts';

async function stepBinding(st: RunState): Promise<StepOutcome> {
  const introspection = endpointOf(st, 'introspection');
  const b = await checkTokenBinding(st.client, st.token!, {
    idpBinds: st.metadata ? st.metadata.tls_client_certificate_bound_access_tokens === true : undefined,
    introspectionEndpoint: introspection?.url,
  });
  // With --dpop, the token's binding to our DPoP key (cnf.jkt) too.
  const dpop = await checkDpopBinding(st.client, st.token!, {
    binding: b,
    introspectionEndpoint: introspection?.url,
  });
  st.bound = { certificate: b.status === 'pass', dpop: dpop?.status === 'pass' };
  if (dpop) {
    const status = worst([dpop.status, b.status === 'skip' ? 'pass' : b.status]);
    const detail = `${dpop.detail}; certificate: ${b.detail ?? b.status}`;
    const hint = DPOP_NOT_BOUND_HINT;
    return {
      status,
      detail,
      ok: true,
      checks: [{ name: b.name, status: b.status, ...(b.detail ? { detail: b.detail } : {}) }, dpop],
      ...(dpop.status === 'fail' ? { error: checkFailure('DPOP_NOT_BOUND', detail, hint), hint } : {}),
      data: {
        source: b.source ?? null,
        boundTo: b.boundTo ?? null,
        expected: st.identity?.x5tS256 ?? null,
        dpop: st.client.dpop!.jkt,
      },
    };
  }
  const detail = b.detail ?? b.status;
  const hint =
    'the IdP bound the token to a certificate other than the one presented: is a proxy in front of the IdP terminating TLS with its own client certificate?';
  return {
    status: b.status,
    detail,
    ok: true,
    ...(b.status === 'fail' ? { error: checkFailure('BINDING_MISMATCH', detail, hint), hint } : {}),
    data: { source: b.source ?? null, boundTo: b.boundTo ?? null, expected: st.identity?.x5tS256 ?? null },
  };
}

export const bindingStep = {
  name: 'binding',
  summary: 'the access token is bound to our certificate (cnf.x5t#S256)',
  needs: ['token'],
  brings: ['token'],
  run: stepBinding,
} as const satisfies SmokeStep;
