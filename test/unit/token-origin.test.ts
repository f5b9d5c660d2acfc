// Where a cached token may go (src/core/token-origin.ts): only to the origins of the issuer it was
// obtained from, as the entry recorded them or as this run's discovery of that same issuer says.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Metadata } from '../../src/core/discovery/metadata.ts';
import type { CachedTokens } from '../../src/core/token-cache.ts';
import { assertCachedTokenTarget, issuerOrigins, originOf } from '../../src/core/token-origin.ts';

const metadata: Metadata = {
  issuer: 'https://idp.example',
  token_endpoint: 'https://idp.example/token',
  introspection_endpoint: 'https://idp.example/introspect',
  revocation_endpoint: 'https://revoke.idp.example/revoke',
  jwks_uri: 'https://keys.elsewhere.example/jwks',
  mtls_endpoint_aliases: { token_endpoint: 'https://mtls.idp.example:8443/token' },
};

describe('token origins', () => {
  it('an origin is scheme, host and port', () => {
    assert.equal(originOf('https://IDP.example:443/a?b'), 'https://idp.example');
    assert.equal(originOf('https://idp.example:8443/a'), 'https://idp.example:8443');
    assert.equal(originOf('not a url'), undefined);
    assert.equal(originOf(undefined), undefined);
  });

  it("an issuer's origins: its own, the token endpoints, every endpoint of its metadata (aliases too)", () => {
    assert.deepEqual(
      issuerOrigins({ issuer: metadata.issuer, tokenEndpoints: [metadata.token_endpoint!], metadata }).sort(),
      ['https://idp.example', 'https://mtls.idp.example:8443', 'https://revoke.idp.example'],
      'jwks_uri is not an endpoint tokens go to',
    );
    assert.deepEqual(issuerOrigins({ tokenEndpoints: ['https://kong.example:8443/oauth2/token'] }), [
      'https://kong.example:8443',
    ]);
  });

  const entry: CachedTokens = {
    client_id: 'kong',
    issuer: 'https://idp.example',
    token_endpoint: 'https://idp.example/token',
    access_token: 'AT',
    obtained_at: 1,
    origins: ['https://idp.example', 'https://mtls.idp.example:8443'],
  };

  it('lets a cached token go to an origin the entry recorded', () => {
    assertCachedTokenTarget(
      entry,
      { url: 'https://mtls.idp.example:8443/introspect' },
      { what: 'access token' },
    );
    assertCachedTokenTarget(entry, { url: 'https://idp.example/revoke' }, { what: 'access token' });
  });

  it('refuses any other origin, naming the token, the target and where the setting came from', () => {
    for (const url of [
      'https://evil.example/introspect',
      'https://idp.example:444/introspect',
      'http://idp.example/introspect',
      'https://idp.example.evil.example/introspect',
    ]) {
      assert.throws(
        () =>
          assertCachedTokenTarget(
            entry,
            { url, source: 'profile "default" in /w/mtls-oauth.json' },
            { what: 'refresh token' },
          ),
        (e: Error & { code?: string; kind?: string; hint?: string }) => {
          assert.equal(e.kind, 'usage');
          assert.equal(e.code, 'CACHED_TOKEN_ELSEWHERE');
          assert.match(e.message, /the cached refresh token was obtained from https:\/\/idp\.example/);
          assert.ok(e.message.includes(url));
          assert.match(e.message, /set by profile "default" in \/w\/mtls-oauth\.json/);
          assert.match(e.hint!, /give the token yourself/);
          return true;
        },
        url,
      );
    }
  });

  it("accepts this run's metadata only when it was discovered from the entry's own issuer", () => {
    const target = { url: 'https://revoke.idp.example/revoke' };
    assert.throws(() => assertCachedTokenTarget(entry, target, { what: 'access token' }), /another origin/);
    assertCachedTokenTarget(entry, target, { what: 'access token', issuer: 'https://idp.example', metadata });
    const other = { ...metadata, issuer: 'https://evil.example' };
    assert.throws(
      () =>
        assertCachedTokenTarget(entry, target, {
          what: 'access token',
          issuer: 'https://evil.example',
          metadata: other,
        }),
      /another origin/,
    );
  });

  it('an entry without recorded origins allows its issuer and token endpoint only', () => {
    const old: CachedTokens = {
      client_id: 'kong',
      token_endpoint: 'https://kong.example:8443/t',
      access_token: 'A',
      obtained_at: 1,
    };
    assertCachedTokenTarget(old, { url: 'https://kong.example:8443/introspect' }, { what: 'access token' });
    assert.throws(
      () =>
        assertCachedTokenTarget(
          old,
          { url: 'https://kong.example:8001/introspect' },
          { what: 'access token' },
        ),
      /another origin/,
    );
  });
});
