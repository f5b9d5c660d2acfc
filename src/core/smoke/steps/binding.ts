// The binding step: the access token is bound to our certificate (cnf.x5t#S256).

import { checkTokenBinding } from '../../token-endpoint.ts';
import { checkFailure, endpointOf, type RunState, type SmokeStep, type StepOutcome } from '../step.ts';

async function stepBinding(st: RunState): Promise<StepOutcome> {
  const introspection = endpointOf(st, 'introspection');
  const b = await checkTokenBinding(st.client, st.token!, {
    idpBinds: st.metadata ? st.metadata.tls_client_certificate_bound_access_tokens === true : undefined,
    introspectionEndpoint: introspection?.url,
  });
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
