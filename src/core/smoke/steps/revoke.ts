// The revoke step: revocation of the access token.

import { revokeToken } from '../../token-endpoint.ts';
import {
  describeEndpoint,
  endpointOf,
  noEndpoint,
  type RunState,
  type SmokeStep,
  type StepOutcome,
} from '../step.ts';

async function stepRevoke(st: RunState): Promise<StepOutcome> {
  const endpoint = endpointOf(st, 'revocation');
  if (!endpoint) return noEndpoint(st, 'revoke', 'revocation');
  const r = await revokeToken(st.client, endpoint.url, st.token!.access_token, 'access_token');
  return {
    status: 'pass',
    detail: `access token revoked (HTTP ${r.status} from ${describeEndpoint(endpoint)})`,
    ok: true,
    data: { endpoint, status: r.status },
  };
}

export const revokeStep = {
  name: 'revoke',
  summary: 'revocation of the access token',
  needs: ['token'],
  brings: ['token'],
  run: stepRevoke,
} as const satisfies SmokeStep;
