// Expected failures (--expect-fail STEP[=ERROR]) for negative tests: the IdP must refuse what it
// must refuse, so a step that fails as expected passes, and one that succeeds fails.

import { usageError } from '../errors.ts';
import { CLIENT_REFUSED, CLIENT_REFUSED_AS } from '../oauth-error.ts';
import { STEP_HINT, STEPS, type StepName } from './plan.ts';
import type { StepError } from './report.ts';
import { checkFailure, type StepOutcome } from './step.ts';

export interface ExpectFail {
  step: StepName;
  /** The error the step must fail with: an OAuth error ("invalid_client") or an error code ("TLS_CLIENT_CERT_REJECTED"). */
  error?: string;
}

/** Parses repeated `--expect-fail STEP[=ERROR]`. */
export function parseExpectFail(values: string[]): ExpectFail[] {
  const out: ExpectFail[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const step = (eq < 0 ? v : v.slice(0, eq)).trim().toLowerCase();
    const error = eq < 0 ? undefined : v.slice(eq + 1).trim();
    if (!(STEPS as readonly string[]).includes(step)) {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail ${v}: unknown step "${step}"`, {
        hint: `${STEP_HINT}; e.g. --expect-fail token=invalid_client`,
      });
    }
    if (error === '') {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail ${v}: the error after "=" is empty`, {
        hint: 'e.g. --expect-fail token=invalid_client, or --expect-fail token for any failure',
      });
    }
    if (out.some((x) => x.step === step)) {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail names step "${step}" twice`);
    }
    out.push({ step: step as StepName, ...(error ? { error } : {}) });
  }
  return out;
}

function errorMatches(err: StepError | undefined, expected: string): boolean {
  if (!err) return false;
  const want = expected.toLowerCase();
  // A bare HTTP 401/403 is the IdP refusing the client: it meets an expected invalid_client.
  const refused = err.code === CLIENT_REFUSED ? CLIENT_REFUSED_AS : undefined;
  const names = [err.code, err.oauthError, refused]
    .filter((x): x is string => !!x)
    .map((x) => x.toLowerCase());
  return names.includes(want) || names.includes(`oauth_${want.replace(/[^a-z0-9]+/g, '_')}`);
}

/** Applies --expect-fail to a step's outcome. */
export function applyExpectation(out: StepOutcome, expect: ExpectFail | undefined, skippedByNeeds: boolean) {
  if (!expect) return { ...out, expected: undefined };
  const want = expect.error ? ` with ${expect.error}` : '';
  if (skippedByNeeds) return { ...out, expected: { ...expect, met: false } };
  if (out.status === 'fail') {
    if (!expect.error || errorMatches(out.error, expect.error)) {
      return {
        ...out,
        status: 'pass' as const,
        detail: `failed as expected: ${out.detail}`,
        hint: undefined,
        expected: { ...expect, met: true },
      };
    }
    const got = out.error?.oauthError ?? out.error?.code ?? 'a failure';
    return {
      ...out,
      detail: `expected to fail${want}, but failed with ${got}: ${out.detail}`,
      expected: { ...expect, met: false },
    };
  }
  const hint =
    expect.step === 'token'
      ? 'the IdP issued a token it was expected to refuse: check the client registration (subject DN, trusted CAs) and the IdP’s mTLS settings'
      : 'the IdP accepted what this run expected it to refuse';
  return {
    ...out,
    status: 'fail' as const,
    detail: `expected to fail${want}, but ${out.status === 'skip' ? 'it was skipped' : 'it succeeded'}: ${out.detail}`,
    hint,
    error: checkFailure('EXPECTED_FAILURE', `expected to fail${want}`, hint),
    expected: { ...expect, met: false },
  };
}
