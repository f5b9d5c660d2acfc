// Extension grants of the embedded IdP, which oidc-provider leaves to the deployment: token
// exchange (RFC 8693) of the IdP's own access tokens, and the JWT bearer grant (RFC 7523) for
// assertions from issuers it is told to trust. Both issue a client-credentials-style access token,
// certificate-bound like every token of a client registered for bound tokens (RFC 8705 §3).

import type Provider from 'oidc-provider';
import { importEsm } from '../cli/import-esm.ts';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** An issuer of JWT bearer assertions the IdP trusts, and its public keys. */
export interface AssertionIssuer {
  issuer: string;
  jwks: { keys: object[] };
}

// oidc-provider ships no types (test/helpers/oidc-provider.d.ts): its Koa context, loosely.
// biome-ignore lint/suspicious/noExplicitAny: an untyped library's context
type Ctx = any;
type Errors = typeof import('oidc-provider').errors;

/**
 * An OAuth error whose error_description says what was wrong: oidc-provider's error classes keep
 * the detail to themselves (error_detail), which suits production, not a test IdP.
 */
function oauthError(errors: Errors, kind: 'InvalidGrant' | 'InvalidRequest', detail: string): Error {
  const e = new errors[kind](detail);
  (e as { error_description?: string }).error_description = detail;
  return e;
}
// biome-ignore lint/suspicious/noExplicitAny: an untyped library's model
type Token = any;

/**
 * A new access token for the authenticated client, bound to its certificate when it is registered
 * for bound tokens, with `extra` claims (visible in introspection).
 */
async function issue(ctx: Ctx, errors: Errors, extra: Record<string, unknown>): Promise<Token> {
  const { client, provider, params } = ctx.oidc;
  const scope = typeof params?.scope === 'string' ? params.scope : undefined;
  const token = new provider.ClientCredentials({ client, scope });
  token.extra = extra;
  if (client?.tlsClientCertificateBoundAccessTokens) {
    const cert = (ctx.socket as import('node:tls').TLSSocket).getPeerX509Certificate?.();
    if (!cert) throw oauthError(errors, 'InvalidGrant', 'mutual TLS client certificate not provided');
    token.setThumbprint('x5t', cert.toString());
  }
  return token;
}

async function respond(ctx: Ctx, token: Token, body: Record<string, unknown>, next: () => Promise<void>) {
  ctx.oidc.entity('ClientCredentials', token);
  const value = await token.save();
  ctx.body = {
    access_token: value,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope || undefined,
    ...body,
  };
  await next();
}

/** A token of this IdP that is still valid: an access token or a client-credentials token. */
async function findToken(provider: Provider, value: string) {
  const token = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
  return token && !token.isExpired ? token : undefined;
}

export async function registerExtensionGrants(
  provider: Provider,
  o: { assertionIssuers?: AssertionIssuer[]; tokenEndpoint: string },
): Promise<void> {
  const [{ errors }, jose] = await Promise.all([
    importEsm<typeof import('oidc-provider')>('oidc-provider'),
    import('jose'),
  ]);

  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: Ctx, next: () => Promise<void>) => {
      const p = ctx.oidc.params as Record<string, string | undefined>;
      if (!p.subject_token)
        throw oauthError(errors, 'InvalidRequest', 'missing required parameter subject_token');
      if (p.subject_token_type !== ACCESS_TOKEN_TYPE) {
        throw oauthError(
          errors,
          'InvalidRequest',
          'only access tokens of this IdP can be exchanged (subject_token_type)',
        );
      }
      if (p.requested_token_type && p.requested_token_type !== ACCESS_TOKEN_TYPE) {
        throw oauthError(errors, 'InvalidRequest', 'only access tokens are issued (requested_token_type)');
      }
      const subject = await findToken(provider, p.subject_token);
      if (!subject) throw oauthError(errors, 'InvalidGrant', 'subject_token is invalid or expired');
      const extra: Record<string, unknown> = { sub: subject.accountId ?? subject.clientId };
      if (p.actor_token) {
        if (p.actor_token_type !== ACCESS_TOKEN_TYPE) {
          throw oauthError(errors, 'InvalidRequest', 'only access tokens can act (actor_token_type)');
        }
        const actor = await findToken(provider, p.actor_token);
        if (!actor) throw oauthError(errors, 'InvalidGrant', 'actor_token is invalid or expired');
        extra.act = { sub: actor.accountId ?? actor.clientId }; // RFC 8693 §4.1
      }
      if (p.audience) extra.exchanged_for = p.audience;
      const token = await issue(ctx, errors, extra);
      await respond(ctx, token, { issued_token_type: ACCESS_TOKEN_TYPE }, next);
    },
    [
      'subject_token',
      'subject_token_type',
      'actor_token',
      'actor_token_type',
      'requested_token_type',
      'audience',
      'resource',
      'scope',
    ],
  );

  provider.registerGrantType(
    JWT_BEARER,
    async (ctx: Ctx, next: () => Promise<void>) => {
      const assertion = (ctx.oidc.params as Record<string, string | undefined>).assertion;
      if (!assertion) throw oauthError(errors, 'InvalidRequest', 'missing required parameter assertion');
      let iss: string | undefined;
      try {
        iss = jose.decodeJwt(assertion).iss;
      } catch {
        throw oauthError(errors, 'InvalidGrant', 'the assertion is not a JWT');
      }
      const trusted = o.assertionIssuers?.find((t) => t.issuer === iss);
      if (!trusted)
        throw oauthError(errors, 'InvalidGrant', `assertions of issuer ${iss ?? '(none)'} are not trusted`);
      let sub: string | undefined;
      try {
        // RFC 7523 §3: iss, sub, aud (this IdP or its token endpoint), exp; a valid signature.
        const { payload } = await jose.jwtVerify(
          assertion,
          jose.createLocalJWKSet(trusted.jwks as import('jose').JSONWebKeySet),
          {
            issuer: trusted.issuer,
            audience: [provider.issuer, o.tokenEndpoint],
            requiredClaims: ['sub', 'exp'],
          },
        );
        sub = payload.sub;
      } catch (e) {
        throw oauthError(errors, 'InvalidGrant', `the assertion is not valid: ${(e as Error).message}`);
      }
      const token = await issue(ctx, errors, { sub, assertion_issuer: trusted.issuer });
      await respond(ctx, token, {}, next);
    },
    ['assertion', 'scope', 'resource'],
  );
}
