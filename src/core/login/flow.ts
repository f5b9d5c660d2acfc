// The authorization-code flow of `login` (RFC 6749 §4.1 with PKCE, RFC 7636; native-app loopback
// redirect, RFC 8252; OpenID Connect Core §3.1; the code exchanged over mutual TLS, RFC 8705), put
// together from the modules that do each part:
//
//   discovery (session.ts / discovery/)  the authorization, token and JWKS endpoints
//   pkce.ts                                fresh state, PKCE verifier and nonce for this flow
//   login/callback-spec.ts                 where the callback listens (--redirect-uri, --port)
//   login/loopback.ts                      the callback listener (Host; one response; the page)
//   login/callback-verdict.ts              what a callback means (state, iss, the IdP's error)
//   login/pasted-callback.ts               the same, for a URL pasted back (--paste)
//   authorization-delivery.ts              the URL the browser is sent to (PAR, request object)
//   login/finish.ts                        the code exchange, the binding check, the cache
//   login/id-token-step.ts                 the ID token, against the issuer's JWKS (id-token.ts)
//
// Opening the browser and printing belong to the caller (onAuthorizationUrl): this module never
// prints. The browser's request to the callback is held while the code is exchanged and the tokens
// checked (loopback.ts bounds the wait), so the page it gets tells the real outcome: success, or the
// step that failed with its error code. The result carries the named checks `state`, `iss`, `pkce`, `par`, `id_token` and `binding`.
// A failure of the flow itself (the IdP's error response, a wrong issuer, a timeout, Ctrl-C, a
// refused code exchange) is thrown as an MtlsOAuthError; an ID token that fails validation is not
// thrown but reported (the `id_token` check fails, `failure` says why, and nothing is cached).

import {
  type DeliveredRequest,
  type DeliveryOptions,
  deliverAuthorizationRequest,
} from '../authorization-delivery.ts';
import {
  assertExtraParamsAllowed,
  normalizeScope,
  parseAuthorizationEndpoint,
  scopeHasOpenid,
} from '../authorization-request.ts';
import type { Metadata } from '../discovery/metadata.ts';
import { type MtlsOAuthError, usageError } from '../errors.ts';
import { FAPI2_ALGS } from '../fapi2.ts';
import { generateNonce, generatePkce, generateState } from '../pkce.ts';
import type { Session } from '../session.ts';
import { loginFailedPage, successPage } from './callback-page.ts';
import { pasteRedirectUri } from './callback-spec.ts';
import { applyFapi2, failedStepPage, finishLogin, loginInterrupted, type Progress } from './finish.ts';
import { DEFAULT_CALLBACK_PATH, startCallbackListener } from './loopback.ts';
import { pastedCallback } from './pasted-callback.ts';
import type { LoginOptions, LoginResult } from './types.ts';

/** The discovery metadata, fetched now if the session did not need it (e.g. --token-endpoint). */
async function metadataOf(session: Session): Promise<Metadata> {
  if (session.metadata) return session.metadata;
  if (!session.settings.issuer) throw missingIssuer();
  const { discoverMetadata } = await import('../discovery/index.ts');
  return (await discoverMetadata(session.http, session.settings.issuer)).metadata;
}

export function missingIssuer(): MtlsOAuthError {
  return usageError('MISSING_ISSUER', 'login needs the issuer: pass --issuer URL (or MTLS_OAUTH_ISSUER)', {
    hint: 'the IdP is discovered from it (authorization, token and JWKS endpoints), and the ID token and the iss parameter are checked against it',
  });
}

export async function login(o: LoginOptions): Promise<LoginResult> {
  const { session } = o;
  const aborted = () => {
    if (o.signal?.aborted) throw loginInterrupted();
  };
  if (!session.settings.issuer) throw missingIssuer();
  const scope = normalizeScope(o.scope);
  const extra = o.extraParams ?? [];
  const spec = o.callback ?? { host: '127.0.0.1', port: 0, path: DEFAULT_CALLBACK_PATH };

  // 1. Discovery, and everything that can be refused before a port is opened.
  o.onStep?.('discovery', session.settings.issuer);
  const metadata = await metadataOf(session);
  aborted();
  const issuer = metadata.issuer;
  const authorizationEndpoint = session.settings.authorizationEndpoint ?? metadata.authorization_endpoint;
  if (!authorizationEndpoint) {
    throw usageError('NO_ENDPOINT', "the IdP's metadata has no authorization_endpoint", {
      hint: 'the IdP may not support the authorization-code flow; if it does, give --authorization-endpoint URL',
    });
  }
  parseAuthorizationEndpoint(authorizationEndpoint);
  assertExtraParamsAllowed(extra);
  const tokenEndpoint = session.endpoint('token');
  const openid = scopeHasOpenid(scope);

  // 2. This flow's secrets, then the listener that expects its state.
  const state = generateState();
  const pkce = generatePkce();
  const nonce = openid ? generateNonce() : undefined;
  const expectations = {
    expectedState: state,
    issuer,
    issRequired: metadata.authorization_response_iss_parameter_supported === true,
  };
  const listener = o.paste
    ? pastedCallback({
        ...expectations,
        host: spec.host,
        port: spec.port,
        path: spec.path,
        redirectUri: spec.redirectUri ?? pasteRedirectUri(spec),
        readLine: o.paste.readLine,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
      })
    : await startCallbackListener({
        host: spec.host,
        port: spec.port,
        path: spec.path,
        ...expectations,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
        onEvent: o.onCallbackEvent,
        linger: o.keepCallbackPage,
      });
  const deadline = Date.now() + o.timeoutMs;
  const redirectUri = spec.redirectUri ?? listener.redirectUri;

  // 3. The authorization request (pushed first with PAR), handed to the browser.
  let delivered: DeliveredRequest;
  try {
    delivered = await deliverAuthorizationRequest(
      session,
      metadata,
      {
        authorizationEndpoint,
        clientId: session.credentials.clientId,
        redirectUri,
        scope,
        state,
        codeChallenge: pkce.challenge,
        nonce,
        prompt: o.prompt,
        extraParams: extra,
      },
      profiled(o),
    );
    await o.onAuthorizationUrl({ url: delivered.url.href, redirectUri, deadline });
  } catch (e) {
    await listener.close();
    throw e;
  }

  // 4. The one accepted response. A response that ends the flow (the IdP's error, a wrong iss), a
  // timeout or Ctrl-C: the listener has answered the browser (or closed) itself.
  const callback = await listener.result;

  // 5-8 run while the browser waits (bounded) for the page that tells how they went.
  const progress: Progress = { step: 'token request' };
  try {
    aborted();
    const flow = {
      metadata,
      authorizationEndpoint,
      tokenEndpoint,
      callback,
      redirectUri,
      scope,
      pkce,
      nonce,
      pushed: delivered.pushed,
      requestObject: delivered.requestObject,
    };
    const result = await finishLogin(o, flow, progress);
    if (o.securityProfile === 'fapi2') applyFapi2(result);
    const f = result.failure;
    await listener.finish(f ? loginFailedPage(progress.failedStep ?? progress.step, f.code) : successPage());
    return result;
  } catch (e) {
    await listener.finish(failedStepPage(progress.step, e));
    throw e;
  }
}

/**
 * The delivery options under the login's security profile: FAPI 2.0 allows only PS256, ES256 and
 * EdDSA (§5.4.1), so an RSA key signs the request object and the client assertion with PS256.
 */
function profiled(o: LoginOptions): DeliveryOptions {
  if (o.securityProfile !== 'fapi2') return o.delivery ?? {};
  o.session.credentials.assertionAlgs = FAPI2_ALGS;
  return { ...o.delivery, signingAlgs: FAPI2_ALGS };
}
