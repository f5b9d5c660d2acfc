// Token exchange and JWT bearer request parameters (RFC 8693 §2.1, RFC 7523 §2.1), the token type
// names, and the check of a token exchange response (RFC 8693 §2.2.1).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { exchangeCheck, grantNamed, grantParams } from '../../src/core/token-endpoint.ts';
import { tokenTypeName, tokenTypeUri } from '../../src/core/token-types.ts';

const AT = 'urn:ietf:params:oauth:token-type:access_token';

describe('token types', () => {
  test('short names become URNs; URIs are kept; anything else is refused', () => {
    assert.equal(tokenTypeUri('access_token'), AT);
    assert.equal(tokenTypeUri(' jwt '), 'urn:ietf:params:oauth:token-type:jwt');
    assert.equal(tokenTypeUri('urn:example:custom-token'), 'urn:example:custom-token');
    assert.equal(tokenTypeUri('https://example.com/token-type'), 'https://example.com/token-type');
    assert.equal(tokenTypeUri('weird'), undefined);
    assert.equal(tokenTypeUri(''), undefined);
    assert.equal(tokenTypeName(AT), 'access_token');
    assert.equal(tokenTypeName('urn:example:x'), 'urn:example:x');
  });
});

describe('grantParams for the extension grants', () => {
  test('--grant names and their URNs both select the grant', () => {
    assert.equal(grantNamed('token-exchange'), 'token-exchange');
    assert.equal(grantNamed('urn:ietf:params:oauth:grant-type:jwt-bearer'), 'jwt-bearer');
    assert.equal(grantNamed('implicit'), undefined);
  });

  test('token exchange: URN grant type, subject token type defaulting to access_token, actor pair', () => {
    assert.deepEqual(grantParams({ grant: 'token-exchange', subjectToken: 'S', audience: 'https://api' }), {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'S',
      subject_token_type: AT,
      requested_token_type: undefined,
      scope: undefined,
      resource: undefined,
      audience: 'https://api',
    });
    const p = grantParams({
      grant: 'token-exchange',
      subjectToken: 'S',
      actorToken: 'A',
      actorTokenType: AT,
    });
    assert.equal(p.actor_token, 'A');
    assert.equal(p.actor_token_type, AT);
  });

  test('token exchange: missing subject token, or an actor token without its type, are usage errors', () => {
    const usage = (f: () => unknown, code: string) =>
      assert.throws(f, (e) => e instanceof MtlsOAuthError && e.kind === 'usage' && e.code === code);
    usage(() => grantParams({ grant: 'token-exchange' }), 'MISSING_GRANT_INPUT');
    usage(
      () => grantParams({ grant: 'token-exchange', subjectToken: 'S', actorToken: 'A' }),
      'MISSING_GRANT_INPUT',
    );
    usage(
      () => grantParams({ grant: 'token-exchange', subjectToken: 'S', actorTokenType: AT }),
      'GRANT_OPTION',
    );
    usage(() => grantParams({ grant: 'jwt-bearer' }), 'MISSING_GRANT_INPUT');
  });

  test('jwt-bearer: the assertion under its URN grant type', () => {
    const p = grantParams({ grant: 'jwt-bearer', assertion: 'a.b.c', scope: 'api:read' });
    assert.equal(p.grant_type, 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    assert.equal(p.assertion, 'a.b.c');
    assert.equal(p.scope, 'api:read');
  });
});

describe('exchangeCheck', () => {
  const token = (issued?: string) => ({ access_token: 'x', token_type: 'Bearer', issued_token_type: issued });
  test('passes with the type issued, warns when it is not the one requested, fails without one', () => {
    assert.deepEqual(exchangeCheck(token(AT), AT), {
      name: 'issued_token_type',
      status: 'pass',
      detail: 'access_token',
    });
    const other = exchangeCheck(token('urn:ietf:params:oauth:token-type:jwt'), AT);
    assert.equal(other.status, 'warn');
    assert.match(other.detail ?? '', /jwt issued, access_token requested/);
    assert.equal(exchangeCheck(token(undefined), undefined).status, 'fail');
  });
});
