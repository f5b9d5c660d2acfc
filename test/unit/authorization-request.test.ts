import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildAuthorizationUrl,
  createAuthorizationRequest,
  parseExtraParams,
} from '../../src/core/authorization-request.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { codeChallengeS256 } from '../../src/core/pkce.ts';

const base = {
  authorizationEndpoint: 'https://idp.example/authorize',
  clientId: 'kong',
  redirectUri: 'http://127.0.0.1:49152/callback',
  state: 'STATE-abc',
  codeChallenge: 'CHALLENGE-xyz',
  nonce: 'NONCE-123',
};

const usage = (code: string) => (e: unknown) =>
  e instanceof MtlsOAuthError && e.kind === 'usage' && e.code === code;

describe('buildAuthorizationUrl', () => {
  it('carries response_type=code, client_id, redirect_uri, scope openid by default, state, S256 challenge and nonce', () => {
    const url = buildAuthorizationUrl(base);
    assert.equal(url.origin + url.pathname, 'https://idp.example/authorize');
    const q = url.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'kong');
    assert.equal(q.get('redirect_uri'), 'http://127.0.0.1:49152/callback');
    assert.equal(q.get('scope'), 'openid');
    assert.equal(q.get('state'), 'STATE-abc');
    assert.equal(q.get('code_challenge'), 'CHALLENGE-xyz');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('nonce'), 'NONCE-123');
    assert.equal(q.has('prompt'), false);
  });

  it('keeps a query the endpoint already has (RFC 6749 §3.1) and encodes values', () => {
    const url = buildAuthorizationUrl({
      ...base,
      authorizationEndpoint: 'https://idp.example/oauth2/authorize?tenant=a%20b',
      scope: 'openid  profile email',
    });
    assert.equal(url.searchParams.get('tenant'), 'a b');
    assert.equal(url.searchParams.get('scope'), 'openid profile email');
    assert.match(url.href, /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A49152%2Fcallback/);
  });

  it('needs a nonce when the scope contains openid, and sends none otherwise', () => {
    assert.throws(() => buildAuthorizationUrl({ ...base, nonce: undefined }), usage('AUTHZ_NONCE_MISSING'));
    const url = buildAuthorizationUrl({ ...base, scope: 'api:read', nonce: undefined });
    assert.equal(url.searchParams.get('scope'), 'api:read');
    assert.equal(url.searchParams.has('nonce'), false);
  });

  it('passes prompt and extra parameters, repeated names included (resource, RFC 8707)', () => {
    const url = buildAuthorizationUrl({
      ...base,
      prompt: 'consent',
      extraParams: [
        ['resource', 'https://a.example'],
        ['resource', 'https://b.example'],
        ['acr_values', 'silver'],
        ['ui_locales', ''],
      ],
    });
    assert.equal(url.searchParams.get('prompt'), 'consent');
    assert.deepEqual(url.searchParams.getAll('resource'), ['https://a.example', 'https://b.example']);
    assert.equal(url.searchParams.get('acr_values'), 'silver');
    assert.equal(url.searchParams.get('ui_locales'), '');
  });

  it('refuses extra parameters that would override state, code_challenge, nonce or redirect_uri', () => {
    for (const name of ['state', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri']) {
      assert.throws(
        () => buildAuthorizationUrl({ ...base, extraParams: [[name, 'evil']] }),
        (e: unknown) => usage('AUTHZ_PARAM_RESERVED')(e) && (e as Error).message.includes(`"${name}"`),
        name,
      );
    }
  });

  it('refuses extra parameters that have a flag of their own, and says which flag', () => {
    assert.throws(
      () => buildAuthorizationUrl({ ...base, extraParams: [['scope', 'x']] }),
      (e: unknown) => usage('AUTHZ_PARAM_RESERVED')(e) && (e as MtlsOAuthError).hint === 'use --scope',
    );
    for (const name of ['client_id', 'response_type', 'prompt']) {
      assert.throws(
        () => buildAuthorizationUrl({ ...base, extraParams: [[name, 'x']] }),
        usage('AUTHZ_PARAM_RESERVED'),
      );
    }
  });

  it('refuses an endpoint that is not https (except loopback), not a URL, or has a fragment', () => {
    for (const bad of [
      'http://idp.example/authorize',
      'not a url',
      'https://idp.example/authorize#frag',
      'ftp://x',
    ]) {
      assert.throws(
        () => buildAuthorizationUrl({ ...base, authorizationEndpoint: bad }),
        usage('AUTHZ_ENDPOINT_INVALID'),
        bad,
      );
    }
    assert.equal(
      buildAuthorizationUrl({ ...base, authorizationEndpoint: 'http://127.0.0.1:3000/auth' }).host,
      '127.0.0.1:3000',
    );
  });
});

describe('parseExtraParams', () => {
  it('splits at the first "=", allows an empty value', () => {
    assert.deepEqual(parseExtraParams(['a=b', 'claims={"x":"=y"}', 'empty=']), [
      ['a', 'b'],
      ['claims', '{"x":"=y"}'],
      ['empty', ''],
    ]);
    assert.deepEqual(parseExtraParams(), []);
  });

  it('refuses a parameter without a name or without "="', () => {
    for (const bad of ['novalue', '=value', '']) {
      assert.throws(() => parseExtraParams([bad]), usage('BAD_PARAM'), bad);
    }
  });
});

describe('createAuthorizationRequest', () => {
  const opts = {
    authorizationEndpoint: 'https://idp.example/authorize',
    clientId: 'kong',
    redirectUri: 'http://127.0.0.1:50000/callback',
  };

  it('generates state, verifier and nonce per flow and puts the matching challenge in the URL', () => {
    const r = createAuthorizationRequest(opts);
    const q = r.url.searchParams;
    assert.equal(r.scope, 'openid');
    assert.equal(q.get('state'), r.state);
    assert.equal(q.get('nonce'), r.nonce);
    assert.equal(q.get('code_challenge'), codeChallengeS256(r.codeVerifier));
    assert.equal(r.codeChallenge, q.get('code_challenge'));
    assert.equal(q.get('redirect_uri'), opts.redirectUri);
    assert.equal(r.redirectUri, opts.redirectUri);
    assert.ok(!r.url.href.includes(r.codeVerifier), 'the verifier never goes to the browser');
    assert.equal(Buffer.from(r.codeVerifier, 'base64url').length, 32);
    assert.ok(Buffer.from(r.state, 'base64url').length >= 16);

    const again = createAuthorizationRequest(opts);
    assert.notEqual(again.state, r.state);
    assert.notEqual(again.codeVerifier, r.codeVerifier);
    assert.notEqual(again.nonce, r.nonce);
  });

  it('has no nonce when openid is not in the scope', () => {
    const r = createAuthorizationRequest({ ...opts, scope: 'api' });
    assert.equal(r.nonce, undefined);
    assert.equal(r.url.searchParams.has('nonce'), false);
  });

  it('checks extra parameters before anything is generated', () => {
    assert.throws(
      () => createAuthorizationRequest({ ...opts, extraParams: parseExtraParams(['state=fixed']) }),
      usage('AUTHZ_PARAM_RESERVED'),
    );
  });
});
