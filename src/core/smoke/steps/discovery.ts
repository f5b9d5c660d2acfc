// The discovery step: the metadata document, validated, and its mTLS analysis as checks.

import { discover, invalidDocumentError, MTLS_AUTH_METHODS } from '../../discovery/index.ts';
import { failed, type RunState, type SmokeStep, type StepOutcome, worst } from '../step.ts';

async function stepDiscovery(st: RunState): Promise<StepOutcome> {
  const issuer = st.o.settings.issuer!;
  const report = await discover(st.http, issuer, { jwks: false });
  st.discovery = report;
  const data = {
    documentUrl: report.documentUrl,
    document: report.document,
  };
  if (!report.valid || !report.metadata) {
    return failed(invalidDocumentError(report), { checks: report.checks, data });
  }
  st.metadata = report.metadata;
  const a = report.analysis!;
  const methods = (a.clientAuth.token.methods ?? []).filter((m) =>
    (MTLS_AUTH_METHODS as readonly string[]).includes(m),
  );
  const facts = [
    methods.length ? methods.join(' + ') : 'no mTLS client authentication advertised',
    // Not advertised is not "not bound": the binding step reads the token itself.
    a.certificateBoundAccessTokens ? 'certificate-bound tokens' : 'certificate-bound tokens not advertised',
    a.hasAliases ? 'mtls_endpoint_aliases' : 'no mtls_endpoint_aliases',
  ];
  const warnings = report.checks.filter((c) => c.status === 'warn').length;
  const status = worst(report.checks.map((c) => c.status));
  return {
    status: status === 'skip' ? 'pass' : status,
    detail: `${facts.join(', ')}${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`,
    ok: true,
    checks: report.checks,
    data,
  };
}

export const discoveryStep = {
  name: 'discovery',
  summary: 'discovery document: valid, and its mTLS analysis (auth methods, bound tokens, aliases)',
  needs: [],
  brings: [],
  run: stepDiscovery,
} as const satisfies SmokeStep;
