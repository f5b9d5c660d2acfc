// The tls step: a TLS probe of each origin the plan calls with the certificate: client certificate
// requested? sent? accepted?

import type { Check } from '../../check.ts';
import { groupByOrigin, probeEndpoint } from '../../diagnosis/probe.ts';
import { verdictFacts, verdictOf, worstStatus } from '../../diagnosis/verdict.ts';
import type { Operation } from '../../session.ts';
import { endpointOf, failed, type RunState, type SmokeStep, type StepOutcome } from '../step.ts';

async function stepTls(st: RunState): Promise<StepOutcome> {
  const ops: Operation[] = ['token'];
  if (st.plan.includes('introspect') || st.plan.includes('introspect-after-revoke'))
    ops.push('introspection');
  if (st.plan.includes('revoke')) ops.push('revocation');
  const groups = groupByOrigin(ops.map((op) => ({ name: op, url: endpointOf(st, op)?.url })));
  if (groups.length === 0) {
    return { status: 'skip', detail: 'no endpoint to probe', ok: true };
  }
  const probes = [];
  for (const g of groups) {
    const p = await probeEndpoint(st.http, g.url);
    probes.push({ ...g, ...p, verdict: verdictOf(p) });
  }
  const checks: Check[] = probes.map((p) => ({
    name: `${p.origin} (${p.names.join(', ')})`,
    status: p.verdict.status,
    detail: p.verdict.summary,
  }));
  const data = {
    probes: probes.map((p) => ({
      origin: p.origin,
      url: p.url,
      operations: p.names,
      status: p.status ?? null,
      verdict: verdictFacts(p.verdict),
      ...(p.error ? { error: { code: p.error.code, message: p.error.message, hint: p.error.hint } } : {}),
      connection: p.record ?? null,
    })),
  };
  const firstFail = probes.find((p) => p.error);
  if (firstFail?.error) {
    const e = firstFail.error;
    return {
      ...failed(e, { checks, data }),
      detail: probes.length > 1 ? `${firstFail.origin}: ${e.message}` : e.message,
    };
  }
  const warned = probes.find((p) => p.verdict.status === 'warn');
  const detail =
    probes.length === 1
      ? probes[0].verdict.summary
      : `${probes.length} origins: ${probes.map((p) => `${p.origin} ${p.verdict.status}${p.verdict.code ? ` (${p.verdict.code})` : ''}`).join(', ')}`;
  return {
    status: worstStatus(checks.map((c) => c.status)),
    detail,
    ...(warned?.verdict.hint ? { hint: warned.verdict.hint } : {}),
    ok: true,
    checks,
    data,
  };
}

export const tlsStep = {
  name: 'tls',
  summary: 'TLS probe of each endpoint origin used: client certificate requested, sent, accepted',
  needs: ['discovery'],
  brings: ['discovery'],
  run: stepTls,
} as const satisfies SmokeStep;
