// The smoke test: one run that proves an IdP's mutual-TLS setup end to end, as a list of steps a
// person or a CI pipeline can read:
//
//   discovery                the metadata document, validated, and its mTLS analysis as checks
//   tls                      a TLS probe of each origin the plan calls with the certificate:
//                            client certificate requested? sent? accepted?
//   token                    a token: client_credentials, refresh_token or (deprecated) password
//   binding                  the access token is bound to our certificate (cnf.x5t#S256)
//   introspect               introspection: active, and bound to our certificate
//   revoke                   revocation of the access token
//   introspect-after-revoke  introspection again: inactive
//
// Each step passes, fails, warns or is skipped, with its duration and, on failure, the error and its
// hint. A step whose input an earlier step failed to produce is skipped ("needs token"). An expected
// failure (`expectFail`) inverts a step for negative tests: the IdP must refuse what it must refuse.
//
// One HttpClient for the whole run: one handshake per host and identity (the TLS probe's connection
// carries the token request that follows), every connection recorded for the report.
//
//   const report = await runSmoke({ settings, warn: console.error });
//   report.steps   // [{ name: 'discovery', status: 'pass', timeMs: 12.3, detail: '...' }, ...]
//   report.ok      // no step failed
//   report.unreachable  // set when the IdP could not be reached at all (no answer to anything)

import {
  type ClientCredentials,
  defaultAuthMethod,
  parseAuthMethod,
  usesCertificate,
} from '../client-auth.ts';
import { now } from '../clock.ts';
import { isMtlsOAuthError, usageError } from '../errors.ts';
import { redactJson } from '../redact.ts';
import { credentialsFor, dpopSignerFor, httpClientFor, noCertificateWarning } from '../session.ts';
import { applyExpectation } from './expect-fail.ts';
import { SMOKE_GRANTS, type SmokeOptions } from './options.ts';
import { needsOf, planSteps, type StepName, stepOf } from './plan.ts';
import type { SmokeReport, StepResult } from './report.ts';
import { endpointOf, failed, type RunState, type StepOutcome } from './step.ts';
import { tokenParams } from './steps/token.ts';

/** Runs the smoke test. Usage errors (bad settings, unreadable certificate) throw before any request. */
export async function runSmoke(o: SmokeOptions): Promise<SmokeReport> {
  const started = now();
  const { settings } = o;
  const plan = planSteps(o.steps, settings, { securityProfile: o.securityProfile });
  const expectations = new Map((o.expectFail ?? []).map((x) => [x.step, x]));
  for (const step of expectations.keys()) {
    if (!plan.includes(step)) {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail ${step}: that step is not in this run`, {
        hint: `the run's steps: ${plan.join(', ')}`,
      });
    }
  }
  if (!settings.issuer && !settings.tokenEndpoint) {
    throw usageError('NO_ENDPOINT', 'no IdP: pass --issuer URL (discovery) or --token-endpoint URL', {
      hint: 'e.g. --issuer https://idp.example.com (or MTLS_OAUTH_ISSUER)',
    });
  }
  const grant = o.grant ?? 'client_credentials';
  if (!SMOKE_GRANTS.includes(grant)) {
    throw usageError('UNKNOWN_GRANT', `smoke cannot use the grant "${grant}"`, {
      hint: `use one of: ${SMOKE_GRANTS.join(', ')} (authorization_code needs a person: \`mtls-oauth login\`)`,
    });
  }
  // Every input is checked before the first request. Without a token step (--steps discovery,tls)
  // no client credentials are needed.
  const needsClient = plan.includes('token');
  if (needsClient) tokenParams(o);
  if (needsClient && grant === 'password') {
    o.warn?.(
      'the resource owner password credentials grant is deprecated: RFC 9700 (OAuth 2.0 Security BCP) §2.4 says it MUST NOT be used. It is supported here because gateways such as Kong still offer it',
    );
  }

  const { loadClientIdentity } = await import('../transport/identity.ts');
  const identity = await loadClientIdentity(settings);
  const credentials: ClientCredentials = needsClient
    ? await credentialsFor(settings, !!identity)
    : {
        clientId: settings.clientId ?? '',
        method: settings.auth
          ? parseAuthMethod(settings.auth)
          : defaultAuthMethod({
              hasCertificate: !!identity,
              hasSecret: !!settings.clientSecret,
              hasSigningKey: !!settings.signingKey,
            }),
      };
  if (needsClient && usesCertificate(credentials.method) && !identity)
    o.warn?.(noCertificateWarning(credentials.method));
  const { HttpClient } = await import('../transport/http-client.ts');
  const http = httpClientFor(HttpClient, settings, identity, o);
  // --dpop: the token requested with proofs of this key, and the API called with them (RFC 9449).
  const dpop = await dpopSignerFor(settings);
  const st: RunState = {
    o,
    http,
    client: { http, credentials, identity, ...(dpop ? { dpop } : {}) },
    identity,
    plan,
    explicit: new Set(o.steps ?? []),
    redact: <T>(v: T) => (o.showSecrets ? v : (redactJson(v) as T)),
  };

  const results: StepResult[] = [];
  const done = new Map<StepName, StepOutcome>();
  try {
    for (const name of plan) {
      const blocker = needsOf(name).find((d) => plan.includes(d) && !done.get(d)?.ok);
      let out: StepOutcome;
      let timeMs = 0;
      if (blocker) {
        const b = results.find((r) => r.name === blocker);
        const why = b?.expected?.met
          ? ', which failed as expected'
          : b?.status === 'skip'
            ? ', which was skipped'
            : '';
        out = { status: 'skip', detail: `needs ${blocker}${why}`, ok: false };
      } else {
        o.onStep?.(name);
        const t0 = now();
        try {
          out = await stepOf(name).run(st);
        } catch (e) {
          if (!isMtlsOAuthError(e) || e.kind === 'internal' || e.kind === 'interrupted') throw e;
          out = failed(e);
        }
        timeMs = now() - t0;
      }
      done.set(name, out);
      const x = applyExpectation(out, expectations.get(name), !!blocker);
      results.push({
        name,
        status: x.status,
        timeMs: Math.round(timeMs * 10) / 10,
        detail: x.detail,
        ...(x.hint ? { hint: x.hint } : {}),
        ...(x.error ? { error: x.error } : {}),
        ...(x.expected ? { expected: x.expected } : {}),
        ...(x.checks ? { checks: x.checks } : {}),
        ...(x.data ? { data: x.data } : {}),
      });
    }
  } finally {
    await http.close();
  }

  const report: SmokeReport = {
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    clientId: credentials.clientId,
    authMethod: credentials.method,
    grant,
    identity: identity
      ? {
          subject: identity.subjectDn,
          issuer: identity.issuerDn,
          x5tS256: identity.x5tS256,
          source: identity.source,
        }
      : null,
    endpoints: {},
    steps: results,
    ok: !results.some((r) => r.status === 'fail'),
    connections: http.connections,
    timeMs: Math.round((now() - started) * 10) / 10,
  };
  for (const op of ['token', 'introspection', 'revocation'] as const) {
    const e = endpointOf(st, op);
    if (e) report.endpoints[op] = e;
  }
  // Unreachable: the first failure is a network error and the IdP never answered anything.
  const answered = http.connections.some((c) => (c.requests ?? 0) > 0);
  const first = results.find((r) => r.status === 'fail');
  if (
    !answered &&
    first?.error &&
    !first.expected &&
    (first.error.kind === 'network' || first.error.kind === 'timeout')
  ) {
    report.unreachable = {
      code: first.error.code,
      message: first.error.message,
      ...(first.error.hint ? { hint: first.error.hint } : {}),
      step: first.name,
    };
  }
  return report;
}
