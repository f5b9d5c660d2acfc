// The api steps (with --api URL): the resource server side of RFC 8705 §3 and, with --dpop, of
// RFC 9449 §7. The bound token goes to the API with our certificate (and our DPoP proof; must be
// accepted: 2xx), then the same token without a certificate and with a throw-away certificate from
// a CA of its own, made in memory, and with --dpop without a proof and with a proof by another key
// (each must be refused: 401/403). A refusal that does not come means the API does not enforce
// the binding: a stolen token works there.

import { type ApiResponse, callApi } from '../../api-call.ts';
import type { DpopSigner } from '../../dpop.ts';
import { isMtlsOAuthError, type MtlsOAuthError } from '../../errors.ts';
import { printable } from '../../safe-text.ts';
import { checkFailure, failed, type RunState, type SmokeStep, type StepOutcome } from '../step.ts';

const refused = (status: number) => status === 401 || status === 403;

/** What the step reports of the API's answer (the challenge as sent: the CLI escapes it). */
function answer(res: ApiResponse) {
  return {
    url: res.url,
    status: res.status,
    ...(res.challenge ? { challenge: { scheme: res.challenge.scheme, ...res.challenge.params } } : {}),
  };
}

/** The challenge's error for a step's detail, escaped: it came from the network. */
const describeChallenge = (res: ApiResponse) => {
  const p = res.challenge?.params;
  if (!p?.error) return '';
  return printable(` (${p.error}${p.error_description ? `: ${p.error_description}` : ''})`, {
    oneLine: true,
  });
};

async function send(
  st: RunState,
  o: { withClientCert: boolean; http?: RunState['http']; dpop?: DpopSigner | null },
): Promise<ApiResponse | MtlsOAuthError> {
  try {
    return await callApi(o.http ?? st.http, {
      url: st.o.settings.api!,
      token: st.token!.access_token,
      withClientCert: o.withClientCert,
      // Our proof unless the step says otherwise (null: none at all).
      ...(o.dpop === null ? {} : (o.dpop ?? st.client.dpop) ? { dpop: (o.dpop ?? st.client.dpop)! } : {}),
      step: 'API request',
    });
  } catch (e) {
    if (isMtlsOAuthError(e)) return e;
    throw e;
  }
}

async function stepApi(st: RunState): Promise<StepOutcome> {
  const res = await send(st, { withClientCert: !!st.identity });
  if (!('status' in res)) return failed(res);
  if (res.status >= 200 && res.status < 300) {
    const proof = st.client.dpop
      ? ` and a DPoP proof of our key${res.dpopNonceRetry ? ' (sent again with the nonce the API asked for)' : ''}`
      : '';
    return {
      status: 'pass',
      detail: `HTTP ${res.status} from ${res.url} with our certificate${proof}`,
      ok: true,
      data: answer(res),
    };
  }
  const detail = `the API answered HTTP ${res.status}${describeChallenge(res)} to the bound token sent with its own certificate`;
  const hint = refused(res.status)
    ? 'the API does not accept the token: does it trust this IdP (issuer, introspection credentials), and does its TLS layer pass the client certificate on?'
    : 'the URL may need a path the API serves: --api https://api.example.com/some/resource';
  return {
    status: 'fail',
    detail,
    hint,
    ok: false,
    error: checkFailure('API_REFUSED', detail, hint),
    data: answer(res),
  };
}

const ENFORCE = {
  certificate: {
    rule: 'the certificate binding (RFC 8705 §3)',
    hint: 'a stolen token works at this API: enable the binding check (Kong: proof_of_possession_mtls: strict on the OpenID Connect plugin)',
  },
  dpop: {
    rule: 'the DPoP binding (RFC 9449 §7.1)',
    hint: 'a stolen token works at this API: enable DPoP there (Kong: proof_of_possession_dpop: strict on the OpenID Connect plugin)',
  },
};

/** A negative proof: the API must refuse the token (401/403), or fail the TLS handshake. */
function negative(
  res: ApiResponse | MtlsOAuthError,
  how: string,
  binding: keyof typeof ENFORCE = 'certificate',
): StepOutcome {
  if (!('status' in res)) {
    // The API (or its TLS layer) turned the connection away: that is a refusal too.
    if (res.kind === 'network') {
      return {
        status: 'pass',
        detail: `refused at the TLS layer ${how}: ${res.message}`,
        ok: true,
        data: { error: res.code },
      };
    }
    return failed(res);
  }
  if (refused(res.status)) {
    return {
      status: 'pass',
      detail: `refused ${how}: HTTP ${res.status}${describeChallenge(res)}`,
      ok: true,
      data: answer(res),
    };
  }
  const detail = `the API answered HTTP ${res.status} to the bound token sent ${how}: it does not enforce ${ENFORCE[binding].rule}`;
  const hint = ENFORCE[binding].hint;
  return {
    status: 'fail',
    detail,
    hint,
    ok: false,
    error: checkFailure('API_BINDING_NOT_ENFORCED', detail, hint),
    data: answer(res),
  };
}

/** A token bound to our DPoP key and not to our certificate: the certificate proofs prove nothing of it. */
function notCertificateBound(st: RunState): StepOutcome | undefined {
  if (!st.client.dpop || !st.bound || st.bound.certificate) return undefined;
  return {
    status: 'skip',
    detail:
      'the token is bound to our DPoP key, not to our certificate: api-without-proof and api-other-key prove its binding',
    ok: true,
  };
}

async function stepApiWithoutCert(st: RunState): Promise<StepOutcome> {
  return (
    notCertificateBound(st) ??
    negative(await send(st, { withClientCert: false }), 'without a client certificate')
  );
}

async function stepApiOtherCert(st: RunState): Promise<StepOutcome> {
  const skip = notCertificateBound(st);
  if (skip) return skip;
  const [{ createTestPki }, { parseDn }, { identityFromPem }, { HttpClient }, { httpClientFor }] =
    await Promise.all([
      import('../../pki/issue.ts'),
      import('../../pki/dn.ts'),
      import('../../transport/identity.ts'),
      import('../../transport/http-client.ts'),
      import('../../session.ts'),
    ]);
  const pki = await createTestPki({ subject: parseDn('CN=mtls-oauth throw-away'), days: 1 });
  const identity = identityFromPem(pki.client.pem, pki.client.keyPem, 'a throw-away certificate (in memory)');
  const http = httpClientFor(HttpClient, st.o.settings, identity, { log: st.o.log, http: st.o.http });
  try {
    const out = negative(
      await send(st, { withClientCert: true, http }),
      `with another certificate (x5t#S256 ${identity.x5tS256}, from a CA of its own)`,
    );
    return { ...out, data: { ...out.data, certificate: identity.x5tS256 } };
  } finally {
    await http.close();
  }
}

export const apiStep = {
  name: 'api',
  summary: 'with --api: the API accepts the bound token with our certificate (2xx)',
  needs: ['token'],
  brings: ['token'],
  run: stepApi,
} as const satisfies SmokeStep;

export const apiWithoutCertStep = {
  name: 'api-without-cert',
  summary: 'with --api: the API refuses the same token without a client certificate (401/403)',
  needs: ['token'],
  brings: ['token'],
  run: stepApiWithoutCert,
} as const satisfies SmokeStep;

export const apiOtherCertStep = {
  name: 'api-other-cert',
  summary:
    'with --api: the API refuses the same token with a throw-away certificate from a CA of its own (401/403)',
  needs: ['token'],
  brings: ['token'],
  run: stepApiOtherCert,
} as const satisfies SmokeStep;

/** Without --dpop there is no DPoP binding to prove. */
function noDpop(st: RunState): StepOutcome | undefined {
  if (st.client.dpop) return undefined;
  return { status: 'skip', detail: 'no DPoP (--dpop): the token is not bound to a key', ok: true };
}

async function stepApiWithoutProof(st: RunState): Promise<StepOutcome> {
  return (
    noDpop(st) ??
    negative(
      await send(st, { withClientCert: !!st.identity, dpop: null }),
      'as a Bearer token, without a DPoP proof',
      'dpop',
    )
  );
}

async function stepApiOtherKey(st: RunState): Promise<StepOutcome> {
  const skip = noDpop(st);
  if (skip) return skip;
  const { createDpopSigner } = await import('../../dpop.ts');
  const other = await createDpopSigner();
  const out = negative(
    await send(st, { withClientCert: !!st.identity, dpop: other }),
    `with a proof by another key (jkt ${other.jkt}, made for this step)`,
    'dpop',
  );
  return { ...out, data: { ...out.data, key: other.jkt } };
}

export const apiWithoutProofStep = {
  name: 'api-without-proof',
  summary: 'with --api and --dpop: the API refuses the DPoP-bound token sent without a proof (401/403)',
  needs: ['token'],
  brings: ['token'],
  run: stepApiWithoutProof,
} as const satisfies SmokeStep;

export const apiOtherKeyStep = {
  name: 'api-other-key',
  summary: 'with --api and --dpop: the API refuses the token with a proof by another key (401/403)',
  needs: ['token'],
  brings: ['token'],
  run: stepApiOtherKey,
} as const satisfies SmokeStep;
