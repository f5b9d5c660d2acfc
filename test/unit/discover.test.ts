import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  analyzeMtls,
  type DiscoveryHttp,
  discover,
  discoverMetadata,
  endpointFor,
  parseIssuerInput,
  validateMetadata,
  wellKnownUrls,
} from '../../src/core/discovery/index.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../fixtures/discovery/${name}.json`, import.meta.url), 'utf8'));

const statusOf = (checks: Array<{ name: string; status: string }>, name: string) =>
  checks.filter((c) => c.name === name).map((c) => c.status);

describe('wellKnownUrls', () => {
  test('issuer without a path: OIDC first, then RFC 8414', () => {
    assert.deepEqual(wellKnownUrls('https://idp.example.com'), [
      { kind: 'oidc', url: 'https://idp.example.com/.well-known/openid-configuration' },
      { kind: 'rfc8414', url: 'https://idp.example.com/.well-known/oauth-authorization-server' },
    ]);
    // a terminating "/" is removed before building (OIDC Discovery §4.1, RFC 8414 §3.1)
    assert.deepEqual(wellKnownUrls('https://idp.example.com/'), wellKnownUrls('https://idp.example.com'));
  });

  test('issuer with a path: OIDC appends, RFC 8414 inserts, the appended RFC 8414 form last', () => {
    assert.deepEqual(
      wellKnownUrls('https://idp.example.com:8443/realms/demo').map((l) => l.url),
      [
        'https://idp.example.com:8443/realms/demo/.well-known/openid-configuration',
        'https://idp.example.com:8443/.well-known/oauth-authorization-server/realms/demo',
        'https://idp.example.com:8443/realms/demo/.well-known/oauth-authorization-server',
      ],
    );
    assert.deepEqual(
      wellKnownUrls('https://idp.example.com/tenant/').map((l) => l.url),
      wellKnownUrls('https://idp.example.com/tenant').map((l) => l.url),
    );
  });
});

describe('parseIssuerInput', () => {
  test('an issuer is taken as typed', () => {
    assert.deepEqual(parseIssuerInput('https://idp.example.com/'), { issuer: 'https://idp.example.com/' });
    assert.deepEqual(parseIssuerInput('http://127.0.0.1:8080'), { issuer: 'http://127.0.0.1:8080' });
  });

  test('a document URL gives its issuer', () => {
    const oidc = parseIssuerInput('https://idp.example.com/realms/demo/.well-known/openid-configuration');
    assert.equal(oidc.issuer, 'https://idp.example.com/realms/demo');
    assert.equal(oidc.document?.kind, 'oidc');
    const rfc = parseIssuerInput('https://idp.example.com/.well-known/oauth-authorization-server/tenant');
    assert.equal(rfc.issuer, 'https://idp.example.com/tenant');
    assert.equal(rfc.document?.kind, 'rfc8414');
    assert.deepEqual(
      parseIssuerInput('https://idp.example.com/.well-known/openid-configuration').candidates,
      ['https://idp.example.com', 'https://idp.example.com/'],
    );
  });

  test('rejects what is not an issuer, with exit-2 usage errors', () => {
    for (const bad of [
      'idp.example.com',
      'http://idp.example.com',
      'ftp://idp.example.com',
      'https://idp.example.com/?x=1',
      'https://idp.example.com/#frag',
      'https://idp.example.com/.well-known/jwks.json',
    ]) {
      assert.throws(
        () => parseIssuerInput(bad),
        (e: unknown) =>
          e instanceof MtlsOAuthError && e.kind === 'usage' && e.code === 'BAD_ISSUER' && !!e.hint,
        bad,
      );
    }
  });
});

describe('validateMetadata', () => {
  test('a good Keycloak-like document passes', () => {
    const v = validateMetadata(fixture('keycloak-realm'), 'https://idp.example.com/realms/demo');
    assert.equal(v.valid, true, JSON.stringify(v.checks));
    assert.ok(v.checks.every((c) => c.status === 'pass'));
  });

  test('issuer must match character for character', () => {
    const doc = fixture('broken-issuer-mismatch');
    const v = validateMetadata(doc, 'https://idp.example.com');
    assert.equal(v.valid, false);
    const c = v.checks.find((x) => x.name === 'issuer')!;
    assert.equal(c.status, 'fail');
    assert.match(c.detail!, /"https:\/\/evil\.example\.net" but "https:\/\/idp\.example\.com" was asked for/);

    const slash = validateMetadata(fixture('broken-issuer-trailing-slash'), 'https://idp.example.com');
    assert.equal(slash.valid, false);
    assert.match(slash.checks.find((x) => x.name === 'issuer')!.detail!, /trailing "\/"/);
    // ...and the other way round
    assert.equal(validateMetadata(fixture('aliases-partial'), 'https://idp.example.com/').valid, false);
  });

  test('required members: OIDC needs more than RFC 8414', () => {
    const v = validateMetadata(fixture('broken-missing-fields'), 'https://idp.example.com');
    const c = v.checks.find((x) => x.name === 'required members')!;
    assert.equal(c.status, 'fail');
    for (const m of ['token_endpoint', 'response_types_supported', 'jwks_uri', 'subject_types_supported']) {
      assert.match(c.detail!, new RegExp(`"${m}"`));
    }
    const minimal = fixture('oauth-minimal');
    assert.equal(validateMetadata(minimal, 'https://idp.example.com/tenant', 'rfc8414').valid, true);
    assert.equal(validateMetadata(minimal, 'https://idp.example.com/tenant', 'oidc').valid, false);
  });

  test('https everywhere, http only on loopback (aliases too)', () => {
    const v = validateMetadata(fixture('broken-http-endpoints'), 'https://idp.example.com');
    const c = v.checks.find((x) => x.name === 'https endpoints')!;
    assert.equal(c.status, 'fail');
    assert.match(c.detail!, /"token_endpoint" uses http:\/\/ on a non-loopback host/);
    assert.match(c.detail!, /"jwks_uri"/);
    assert.match(c.detail!, /mtls_endpoint_aliases\."token_endpoint"/);

    const local = JSON.parse(
      JSON.stringify(fixture('aliases-partial')).replaceAll(
        'https://idp.example.com',
        'http://127.0.0.1:8080',
      ),
    );
    assert.equal(validateMetadata(local, 'http://127.0.0.1:8080').valid, true);
  });

  test('wrong types fail cleanly and are dropped from the metadata', () => {
    const v = validateMetadata(fixture('broken-wrong-types'), 'https://idp.example.com');
    assert.equal(v.valid, false);
    const c = v.checks.find((x) => x.name === 'member types')!;
    assert.equal(c.status, 'fail');
    for (const m of [
      'token_endpoint',
      'response_types_supported',
      'token_endpoint_auth_methods_supported',
      'code_challenge_methods_supported',
      'tls_client_certificate_bound_access_tokens',
      'mtls_endpoint_aliases',
    ]) {
      assert.match(c.detail!, new RegExp(`"${m}"`));
      assert.equal(v.metadata![m], undefined, m);
    }
    // the analysis of what is left does not crash
    assert.ok(analyzeMtls(v.metadata!).checks.length > 0);
  });

  test('not an object, no issuer, unknown auth methods', () => {
    for (const doc of [null, [], 'x', 42]) {
      const v = validateMetadata(doc, 'https://idp.example.com');
      assert.equal(v.valid, false);
      assert.deepEqual(statusOf(v.checks, 'document'), ['fail']);
    }
    assert.deepEqual(statusOf(validateMetadata({}, 'https://idp.example.com').checks, 'issuer'), ['fail']);
    const doc = {
      ...fixture('aliases-partial'),
      token_endpoint_auth_methods_supported: ['tls_client_auth', 'magic'],
    };
    const v = validateMetadata(doc, 'https://idp.example.com');
    assert.equal(v.valid, true);
    assert.deepEqual(statusOf(v.checks, 'auth methods'), ['warn']);
  });
});

describe('analyzeMtls and endpointFor', () => {
  test('Keycloak-like: mTLS everywhere, aliases used with a certificate only', () => {
    const doc = fixture('keycloak-realm');
    const a = analyzeMtls(doc);
    assert.equal(a.clientAuth.token.tls_client_auth, true);
    assert.equal(a.clientAuth.token.self_signed_tls_client_auth, false);
    assert.equal(a.clientAuth.introspection.tls_client_auth, true);
    assert.equal(a.clientAuth.revocation.tls_client_auth, true);
    assert.equal(a.certificateBoundAccessTokens, true);
    assert.equal(a.issParameter, true);
    assert.deepEqual(a.pkce, { methods: ['plain', 'S256'], s256: true, plainOnly: false });
    assert.ok(a.grantTypes.values.includes('password'));
    const token = a.endpoints.find((r) => r.operation === 'token')!;
    assert.deepEqual(token.withCert, { url: doc.mtls_endpoint_aliases.token_endpoint, via: 'alias' });
    assert.equal(token.withoutCert, doc.token_endpoint);
    // registration_endpoint has an alias but is not an endpoint this tool calls
    assert.deepEqual(
      a.otherAliases.map((o) => o.member),
      ['registration_endpoint'],
    );
    assert.ok(a.checks.filter((c) => c.name !== 'mtls_endpoint_aliases').every((c) => c.status === 'pass'));

    for (const op of [
      'token',
      'introspection',
      'revocation',
      'userinfo',
      'pushed_authorization_request',
    ] as const) {
      const member = `${op}_endpoint`;
      assert.equal(endpointFor(doc, op, { withCert: true }), doc.mtls_endpoint_aliases[member]);
      assert.equal(endpointFor(doc, op, { withCert: false }), doc[member]);
    }
  });

  test('partial aliases: the plain endpoint where no alias; warnings for what will bite', () => {
    const doc = fixture('aliases-partial');
    assert.equal(endpointFor(doc, 'token', { withCert: true }), 'https://mtls.idp.example.com/token');
    assert.equal(endpointFor(doc, 'introspection', { withCert: true }), 'https://idp.example.com/introspect');
    assert.equal(endpointFor(doc, 'token', { withCert: false }), 'https://idp.example.com/token');
    assert.equal(endpointFor(doc, 'userinfo', { withCert: true }), undefined);
    const a = analyzeMtls(doc);
    const warn = a.checks.filter((c) => c.status === 'warn').map((c) => `${c.name}: ${c.detail}`);
    assert.ok(
      warn.some((w) => /no alias for introspection_endpoint, revocation_endpoint/.test(w)),
      warn.join('\n'),
    );
    assert.ok(warn.some((w) => /device_authorization_endpoint/.test(w)));
    assert.ok(warn.some((w) => /^mTLS at introspection/.test(w)));
    assert.ok(warn.some((w) => /^PKCE S256: S256 is not advertised/.test(w)));
    assert.equal(a.pkce.plainOnly, true);
    assert.equal(a.clientAuth.revocation.methods, null, 'not advertised');
    assert.equal(a.clientAuth.token.self_signed_tls_client_auth, true);
  });

  test('no mTLS at all; absent members take their RFC 8414 defaults', () => {
    const a = analyzeMtls(fixture('no-mtls'));
    assert.deepEqual(
      a.checks.filter((c) => c.status === 'warn').map((c) => c.name),
      [
        'mTLS client authentication',
        'mTLS at introspection',
        'mTLS at revocation',
        'certificate-bound tokens',
      ],
    );
    // Not advertised is not "not bound": only the token itself can tell.
    const bound = a.checks.find((c) => c.name === 'certificate-bound tokens');
    assert.match(bound?.detail ?? '', /^not advertised/);
    assert.doesNotMatch(bound?.detail ?? '', /will not carry/);
    assert.equal(a.hasAliases, false);
    assert.equal(
      endpointFor(fixture('no-mtls'), 'token', { withCert: true }),
      fixture('no-mtls').token_endpoint,
    );

    const m = analyzeMtls(fixture('oauth-minimal'));
    assert.equal(m.clientAuth.token.assumed, 'client_secret_basic');
    assert.equal(m.clientAuth.token.tls_client_auth, false);
    assert.deepEqual(m.grantTypes, { values: ['authorization_code', 'implicit'], advertised: false });
    assert.match(m.checks.find((c) => c.name === 'mTLS client authentication')!.detail!, /absent/);
    assert.match(m.checks.find((c) => c.name === 'PKCE S256')!.detail!, /absent/);
  });
});

// A fake transport: answers per URL, records what it was asked.
function fakeHttp(answers: Record<string, { status?: number; body?: unknown; error?: MtlsOAuthError }>) {
  const asked: Array<{ url: string; withClientCert?: boolean }> = [];
  const http: DiscoveryHttp = {
    async request(o): ReturnType<DiscoveryHttp['request']> {
      asked.push({ url: o.url, withClientCert: o.withClientCert });
      const a = answers[o.url];
      if (!a)
        return {
          status: 404,
          headers: {},
          text: '{"error":"not_found"}',
          json: { error: 'not_found' },
          url: o.url,
        };
      if (a.error) throw a.error;
      const text = JSON.stringify(a.body);
      return {
        status: a.status ?? 200,
        headers: { 'content-type': 'application/json' },
        text,
        json: a.body,
        url: o.url,
      };
    },
  };
  return { http, asked };
}

const notJson = (status: number) =>
  new MtlsOAuthError(
    'network',
    'NOT_JSON',
    `discovery: answered HTTP ${status} with text/html instead of JSON`,
    {
      details: { status },
    },
  );

describe('discover (with a fake transport)', () => {
  const issuer = 'https://idp.example.com/realms/demo';
  const doc = fixture('keycloak-realm');
  const jwks = {
    keys: [
      {
        kid: 'rsa1',
        kty: 'RSA',
        alg: 'RS256',
        use: 'sig',
        n: Buffer.alloc(256, 0xff).toString('base64url'),
        e: 'AQAB',
      },
      { kid: 'ec1', kty: 'EC', crv: 'P-256', x: 'x', y: 'y', use: 'sig' },
    ],
  };

  test('tries the locations in order, never with the client certificate, and lists the JWKS', async () => {
    const rfc = 'https://idp.example.com/.well-known/oauth-authorization-server/realms/demo';
    const { http, asked } = fakeHttp({ [rfc]: { body: doc }, [doc.jwks_uri]: { body: jwks } });
    const r = await discover(http, issuer);
    assert.equal(r.documentUrl, rfc);
    assert.equal(r.location, 'rfc8414');
    assert.deepEqual(
      r.attempts.map((a) => [a.outcome, a.status]),
      [
        ['http-status', 404],
        ['found', 200],
      ],
    );
    assert.deepEqual(asked, [
      { url: `${issuer}/.well-known/openid-configuration`, withClientCert: false },
      { url: rfc, withClientCert: false },
      { url: doc.jwks_uri, withClientCert: false },
    ]);
    assert.equal(r.valid, true);
    assert.deepEqual(r.document, doc);
    assert.deepEqual(r.jwks?.keys, [
      { kid: 'rsa1', kty: 'RSA', alg: 'RS256', use: 'sig', bits: 2048 },
      { kid: 'ec1', kty: 'EC', use: 'sig', crv: 'P-256' },
    ]);
    assert.deepEqual(statusOf(r.checks, 'JWKS'), ['pass']);
  });

  test('a 200 HTML page is skipped but reported when nothing better is found', async () => {
    const oidc = `${issuer}/.well-known/openid-configuration`;
    await assert.rejects(discover(fakeHttp({ [oidc]: { error: notJson(200) } }).http, issuer), (e: any) => {
      assert.equal(e.code, 'NOT_JSON');
      assert.equal(e.kind, 'network');
      assert.match(e.hint, /issuer/);
      assert.equal(e.details.attempts.length, 3);
      return true;
    });
    // an HTML 404 page is just "not here"
    await assert.rejects(discover(fakeHttp({ [oidc]: { error: notJson(404) } }).http, issuer), {
      code: 'DISCOVERY_NOT_FOUND',
    });
    // and a later location with a document wins
    const rfc = 'https://idp.example.com/.well-known/oauth-authorization-server/realms/demo';
    const r = await discover(
      fakeHttp({ [oidc]: { error: notJson(200) }, [rfc]: { body: doc } }).http,
      issuer,
      {
        jwks: false,
      },
    );
    assert.equal(r.documentUrl, rfc);
    assert.equal(r.attempts[0].outcome, 'not-json');
  });

  test('nothing anywhere: DISCOVERY_NOT_FOUND listing every location', async () => {
    await assert.rejects(discover(fakeHttp({}).http, 'https://idp.example.com'), (e: any) => {
      assert.equal(e.code, 'DISCOVERY_NOT_FOUND');
      assert.match(e.message, /openid-configuration → HTTP 404; .*oauth-authorization-server → HTTP 404/);
      return true;
    });
  });

  test('a transport failure stops at once', async () => {
    const oidc = 'https://idp.example.com/.well-known/openid-configuration';
    const tlsError = new MtlsOAuthError('network', 'TLS_SERVER_UNTRUSTED', 'untrusted');
    const { http, asked } = fakeHttp({ [oidc]: { error: tlsError } });
    await assert.rejects(discover(http, 'https://idp.example.com'), { code: 'TLS_SERVER_UNTRUSTED' });
    assert.equal(asked.length, 1);
  });

  test('an invalid document is a report, and an error for commands that need endpoints', async () => {
    const oidc = 'https://idp.example.com/.well-known/openid-configuration';
    const { http } = fakeHttp({ [oidc]: { body: fixture('broken-issuer-trailing-slash') } });
    const r = await discover(http, 'https://idp.example.com', { jwks: false });
    assert.equal(r.valid, false);
    await assert.rejects(discoverMetadata(http, 'https://idp.example.com'), (e: any) => {
      assert.equal(e.kind, 'check');
      assert.equal(e.code, 'DISCOVERY_INVALID');
      assert.match(e.message, /trailing/);
      assert.match(e.hint, /use exactly that as the issuer/);
      return true;
    });
  });

  test('a document URL as input: its issuer, with or without the trailing slash', async () => {
    const url = 'https://idp.example.com/.well-known/openid-configuration';
    const { http, asked } = fakeHttp({ [url]: { body: fixture('broken-issuer-trailing-slash') } });
    const r = await discover(http, url, { jwks: false });
    assert.equal(r.valid, true, JSON.stringify(r.checks));
    assert.equal(r.issuer, 'https://idp.example.com/');
    assert.equal(asked.length, 1);
  });

  test('a JWKS failure is a warning, not a failure', async () => {
    const { http } = fakeHttp({
      [`${issuer}/.well-known/openid-configuration`]: { body: doc },
      [doc.jwks_uri]: { error: notJson(200) },
    });
    const r = await discover(http, issuer);
    assert.equal(r.valid, true);
    assert.equal(r.jwks?.error?.code, 'NOT_JSON');
    assert.deepEqual(statusOf(r.checks, 'JWKS'), ['warn']);
  });
});
