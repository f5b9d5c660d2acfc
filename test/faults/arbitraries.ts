// Arbitraries for the hostile-input tests: JSON values of every shape (deep, huge, wrongly typed,
// prototype names), and documents shaped like the ones an IdP sends where each member is sometimes
// right and mostly not.

import fc from 'fast-check';

export const ISSUER = 'https://idp.example.com/realms/demo';

/** Arrays or objects nested `depth` levels around a leaf. */
export const nested = (depth: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
};
export const deep = fc.integer({ min: 10, max: 300 }).map((d) => nested(d));
export const huge = fc.constantFrom('x'.repeat(200_000), 'é'.repeat(50_000), '\u0000'.repeat(10_000));
export const hugeArray = fc.constantFrom(
  Array.from({ length: 20_000 }, (_, i) => `m${i}`),
  Array.from({ length: 5_000 }, () => ({})),
);
export const odd = fc.constantFrom<unknown>(
  null,
  true,
  false,
  0,
  -1,
  1e308,
  Number.MAX_SAFE_INTEGER,
  '',
  ' ',
  '__proto__',
  'constructor',
  [],
  {},
  [null],
  { __proto__: null },
  'https://',
  'http://evil.example/',
  'javascript:alert(1)',
  '\u202e',
);
/** Any JSON value, deep or huge ones included. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: odd },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: hugeArray },
);
/** A value that is sometimes right, mostly not. */
export const maybe = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 2, arbitrary: good }, { weight: 3, arbitrary: anyJson });
export const url = fc.oneof(
  fc.constantFrom(`${ISSUER}/token`, 'https://mtls.idp.example.com/token', 'http://127.0.0.1:1/x'),
  fc.webUrl(),
);
export const methods = fc.array(
  fc.oneof(
    fc.constantFrom('tls_client_auth', 'self_signed_tls_client_auth', 'client_secret_basic'),
    fc.string(),
  ),
);

/** A discovery document, mostly wrong, naming `issuer` and URLs at `base` among others. */
export const metadataDocFor = (issuer: string, base: string) => {
  const url = fc.oneof(
    fc.constantFrom(`${base}/token`, `${base}/introspect`, `${base}/jwks`, 'http://127.0.0.1:1/x'),
    fc.webUrl(),
  );
  return fc.record(
    {
      issuer: maybe(fc.constantFrom(issuer, `${issuer}/`)),
      authorization_endpoint: maybe(url),
      token_endpoint: maybe(url),
      introspection_endpoint: maybe(url),
      revocation_endpoint: maybe(url),
      userinfo_endpoint: maybe(url),
      jwks_uri: maybe(url),
      mtls_endpoint_aliases: maybe(fc.dictionary(fc.string(), maybe(url))),
      token_endpoint_auth_methods_supported: maybe(methods),
      introspection_endpoint_auth_methods_supported: maybe(methods),
      revocation_endpoint_auth_methods_supported: maybe(methods),
      tls_client_certificate_bound_access_tokens: maybe(fc.boolean()),
      grant_types_supported: maybe(fc.array(fc.string())),
      code_challenge_methods_supported: maybe(fc.array(fc.constantFrom('S256', 'plain'))),
      response_types_supported: maybe(fc.array(fc.string())),
      authorization_response_iss_parameter_supported: maybe(fc.boolean()),
    },
    { requiredKeys: [] },
  );
};
export const metadataDoc = metadataDocFor(ISSUER, ISSUER);
export const anyDocument = fc.oneof({ weight: 3, arbitrary: metadataDoc }, { weight: 1, arbitrary: anyJson });

export const tokenResponse = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        access_token: maybe(fc.string({ minLength: 1 })),
        token_type: maybe(fc.constantFrom('Bearer', 'DPoP', 'mac')),
        expires_in: maybe(fc.integer()),
        refresh_token: maybe(fc.string()),
        id_token: maybe(fc.string()),
        scope: maybe(fc.string()),
        error: maybe(fc.string()),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

export const cnf = maybe(fc.record({ 'x5t#S256': maybe(fc.string()) }, { requiredKeys: [] }));
export const introspection = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      {
        active: maybe(fc.boolean()),
        cnf,
        exp: maybe(fc.integer()),
        client_id: maybe(fc.string()),
        scope: maybe(fc.string()),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: anyJson },
);

export const b64u = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : (JSON.stringify(v) ?? 'null')).toString('base64url');
/** Strings shaped like JWTs (three base64url parts of JSON, or not), and plain garbage. */
export const jwtLike = fc.oneof(
  fc.string(),
  fc
    .tuple(anyJson, anyJson, fc.uint8Array({ maxLength: 64 }))
    .map(([h, p, s]) => `${b64u(h)}.${b64u(p)}.${Buffer.from(s).toString('base64url')}`),
  fc.tuple(fc.string(), fc.string(), fc.string()).map((xs) => xs.join('.')),
  fc.constantFrom('a.b.c', '..', '.', 'e30.e30.', `${b64u({ alg: 'none' })}.${b64u({})}.`),
);
