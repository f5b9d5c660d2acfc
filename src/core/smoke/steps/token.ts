// The token step: a token by client_credentials, refresh_token or (deprecated) password.

import type { Check } from '../../check.ts';
import { grantParams, tokenRequest } from '../../token-endpoint.ts';
import { assertCachedTokenTarget } from '../../token-origin.ts';
import type { SmokeOptions } from '../options.ts';
import {
  describeEndpoint,
  endpointOf,
  noEndpoint,
  type RunState,
  type SmokeStep,
  type StepOutcome,
  worst,
} from '../step.ts';

async function stepToken(st: RunState): Promise<StepOutcome> {
  const { o } = st;
  const grant = o.grant ?? 'client_credentials';
  const endpoint = endpointOf(st, 'token');
  if (!endpoint) return noEndpoint(st, 'token', 'token');
  if (grant === 'refresh_token' && o.refreshToken?.cached) {
    assertCachedTokenTarget(o.refreshToken.cached.entry, endpoint, {
      what: 'refresh token',
      issuer: st.metadata?.issuer,
      metadata: st.metadata,
    });
  }
  const params = tokenParams(o);
  const { token, checks } = await tokenRequest(st.client, endpoint.url, params);
  st.token = token;
  const allChecks: Check[] = [...checks];
  if (grant === 'password') {
    allChecks.push({
      name: 'password grant',
      status: 'warn',
      detail: 'deprecated: RFC 9700 §2.4 says the password grant MUST NOT be used',
    });
  }
  const cached = grant === 'refresh_token' ? o.refreshToken?.cached : undefined;
  if (cached && o.cache) {
    // Keep a rotated refresh token; the access token is not cached (this run revokes it).
    const rotated = token.refresh_token;
    if (rotated && rotated !== o.refreshToken?.token) {
      o.cache.update(cached.key, (current) =>
        current
          ? { ...current, refresh_token: rotated, ...(token.id_token ? { id_token: token.id_token } : {}) }
          : current,
      );
      allChecks.push({
        name: 'refresh token',
        status: 'pass',
        detail: `rotated; the new one is in ${o.cache.file}`,
      });
    }
  }
  const facts = [
    `${grant}: ${token.token_type}`,
    typeof token.expires_in === 'number' ? `expires in ${token.expires_in} s` : undefined,
    token.scope ? `scope "${token.scope}"` : undefined,
    token.refresh_token ? 'with a refresh token' : undefined,
    `from ${describeEndpoint(endpoint)}`,
  ].filter(Boolean);
  const status = worst(allChecks.map((c) => c.status));
  return {
    status: status === 'skip' ? 'pass' : status,
    detail: facts.join(', '),
    ok: true,
    checks: allChecks,
    data: { endpoint, grant, response: st.redact(token) },
  };
}

/** The token request's parameters (usage errors for missing inputs, before anything is sent). */
export function tokenParams(o: SmokeOptions): Record<string, string | undefined> {
  return grantParams({
    grant: o.grant ?? 'client_credentials',
    scope: o.settings.scope,
    resource: o.resource,
    audience: o.audience,
    refreshToken: o.refreshToken?.token,
    username: o.username,
    password: o.password,
    extra: o.extra,
  });
}

export const tokenStep = {
  name: 'token',
  summary: 'a token: client_credentials (default), refresh_token or password',
  needs: ['discovery', 'tls'],
  brings: ['discovery'],
  run: stepToken,
} as const satisfies SmokeStep;
