// The inputs of the extension grants of `token`: token exchange (RFC 8693) and the JWT bearer
// grant (RFC 7523). Tokens and assertions are secrets: "-" reads one from stdin, "cache" takes the
// cached access token (only toward the issuer it came from); a value given as an argument warns.

import { usageError } from '../core/errors.ts';
import type { Session } from '../core/session.ts';
import type { CachedTokens } from '../core/token-cache.ts';
import type { GrantInput, GrantType } from '../core/token-endpoint.ts';
import { tokenTypeUri } from '../core/token-types.ts';
import { secretFromFlag } from './stdin-input.ts';
import { checkCachedTarget, tokenFromText, warnAboutCachedEntry } from './token-input.ts';
import type { Ui } from './ui.ts';

/** The flags of token exchange and the JWT bearer grant, named as grantParams() takes them. */
export type ExtensionGrantOptions = Pick<
  GrantInput,
  'subjectToken' | 'subjectTokenType' | 'actorToken' | 'actorTokenType' | 'requestedTokenType' | 'assertion'
>;

const EXCHANGE_FLAGS = {
  subjectToken: '--subject-token',
  subjectTokenType: '--subject-token-type',
  actorToken: '--actor-token',
  actorTokenType: '--actor-token-type',
  requestedTokenType: '--requested-token-type',
} as const;

/** Usage errors for extension-grant flags given with another grant. */
export function checkExtensionFlags(grant: GrantType, o: ExtensionGrantOptions): void {
  if (grant !== 'token-exchange') {
    const given = Object.entries(EXCHANGE_FLAGS).filter(([k]) => o[k as keyof ExtensionGrantOptions]);
    if (given.length) {
      throw usageError(
        'GRANT_OPTION',
        `${given.map(([, f]) => f).join(', ')} belong to --grant token-exchange`,
      );
    }
  }
  if (grant !== 'jwt-bearer' && o.assertion) {
    throw usageError('GRANT_OPTION', '--assertion belongs to --grant jwt-bearer');
  }
}

function typeUri(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const uri = tokenTypeUri(value);
  if (!uri) {
    throw usageError('BAD_TOKEN_TYPE', `${flag} "${value}" is neither a token type name nor a URI`, {
      hint: 'access_token, refresh_token, id_token, jwt, saml1, saml2, or a full URN (RFC 8693 §3)',
    });
  }
  return uri;
}

/**
 * The token-exchange and jwt-bearer parts of the GrantInput. `cached` is the cache entry of this
 * issuer and client, for `--subject-token cache` / `--actor-token cache`.
 */
export async function extensionGrantInput(
  ui: Ui,
  o: ExtensionGrantOptions,
  cached: { entry?: CachedTokens; session: Session; cacheOff: boolean },
): Promise<Partial<GrantInput>> {
  const token = async (flag: string, value: string | undefined, what: string) => {
    if (value !== 'cache') {
      return secretFromFlag(ui, { flag, value, what, read: (text) => tokenFromText(text, 'access').token });
    }
    const entry = cached.entry;
    if (!entry?.access_token) {
      throw usageError(
        'NO_TOKEN',
        cached.cacheOff
          ? `${flag} cache: --no-cache leaves no cached token`
          : `${flag} cache: no cached access token for ${cached.session.credentials.clientId}`,
        { hint: `get one first (mtls-oauth token), or pass ${flag} - and pipe it in` },
      );
    }
    // The cached token goes only to the token endpoint of the issuer that issued it.
    checkCachedTarget(entry, cached.session, ['token'], 'access');
    warnAboutCachedEntry(ui, entry, cached.session, 'access');
    return entry.access_token;
  };
  return {
    subjectToken: await token('--subject-token', o.subjectToken, 'a subject token'),
    subjectTokenType: typeUri('--subject-token-type', o.subjectTokenType),
    actorToken: await token('--actor-token', o.actorToken, 'an actor token'),
    actorTokenType: typeUri('--actor-token-type', o.actorTokenType),
    requestedTokenType: typeUri('--requested-token-type', o.requestedTokenType),
    assertion: await secretFromFlag(ui, {
      flag: '--assertion',
      value: o.assertion,
      what: 'a JWT assertion',
    }),
  };
}
