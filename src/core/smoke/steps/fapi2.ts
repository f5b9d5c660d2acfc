// The fapi2 step (--security-profile fapi2): the IdP's metadata against the FAPI 2.0 Security
// Profile (fapi2.ts, each check naming its clause; docs/fapi2.md), and what the run showed in
// practice: the token sender-constrained (the binding step) and the client authentication used.

import { fapi2Checks, fapi2TokenChecks, profileFailure } from '../../fapi2.ts';
import { checkFailure, type RunState, type SmokeStep, type StepOutcome, worst } from '../step.ts';

async function stepFapi2(st: RunState): Promise<StepOutcome> {
  if (!st.o.securityProfile) {
    return { status: 'skip', detail: 'no --security-profile given', ok: true };
  }
  const checks = [
    ...fapi2Checks(st.metadata!),
    ...(st.bound
      ? fapi2TokenChecks({
          authMethod: st.client.credentials.method,
          certificateBound: st.bound.certificate,
          dpopBound: st.bound.dpop,
        })
      : []),
  ];
  const failure = profileFailure(checks);
  if (failure) {
    return {
      status: 'fail',
      detail: failure.message,
      hint: failure.hint,
      ok: false,
      checks,
      error: checkFailure('FAPI2_NOT_MET', failure.message, failure.hint),
    };
  }
  const status = worst(checks.map((c) => c.status));
  return {
    status: status === 'skip' ? 'pass' : status,
    detail: `the ${checks.length} requirements of the FAPI 2.0 Security Profile checked are met${st.bound ? '' : ' (the metadata only: no token was checked)'}`,
    ok: true,
    checks,
  };
}

export const fapi2Step = {
  name: 'fapi2',
  summary: 'with --security-profile fapi2: the metadata and the token meet the FAPI 2.0 Security Profile',
  needs: ['discovery'],
  brings: ['discovery'],
  run: stepFapi2,
} as const satisfies SmokeStep;
