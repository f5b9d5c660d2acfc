// Hostile documents, property-based (fast-check): every parser and validator that reads what an IdP,
// a file or a user hands it gets malformed, deeply nested, wrongly typed and huge input, and must
// give a result or a clean MtlsOAuthError, never an exception of another kind (which the CLI would
// report as a bug, exit 1, "unexpected error"). Functions documented never to throw are held to that.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CompactSign, exportJWK } from 'jose';
import { tokenFromText } from '../../src/cli/token-input.ts';
import { checkBinding, jwtClaims, thumbprintOf } from '../../src/core/binding.ts';
import { readConfigFile, resolveSettings, SETTINGS } from '../../src/core/config.ts';
import { analyzeMtls, discover, parseIssuerInput, validateMetadata } from '../../src/core/discovery/index.ts';
import { MtlsOAuthError } from '../../src/core/errors.ts';
import { validateIdToken } from '../../src/core/id-token.ts';
import { dnFromDer } from '../../src/core/pki/der.ts';
import { formatDn, parseDn } from '../../src/core/pki/dn.ts';
import { inspectCertificates } from '../../src/core/pki/inspect.ts';
import { buildP12 } from '../../src/core/pki/p12/index.ts';
import { parseSans } from '../../src/core/pki/san.ts';
import { TokenCache } from '../../src/core/token-cache.ts';
import {
  bindingFromIntrospection,
  failure,
  introspectToken,
  type OAuthClient,
  oauthErrorFromChallenge,
  validateTokenResponse,
} from '../../src/core/token-endpoint.ts';
import { analyzeServerFlight } from '../../src/core/transport/certificate-request.ts';
import type { HttpResult } from '../../src/core/transport/http-client.ts';
import { proxyFromEnvironment } from '../../src/core/transport/proxy.ts';
import { makeTestPki } from '../helpers/pki.ts';
import { anyDocument, anyJson, introspection, jwtLike, maybe, tokenResponse } from './arbitraries.ts';

const RUNS = { numRuns: Number(process.env.FAST_CHECK_RUNS) || 200 };

import { newKeyPairSync } from '../../src/core/pki/keys.ts';
import { ISSUER } from './arbitraries.ts';

/** The result, or the MtlsOAuthError it threw; anything else thrown fails the property. */
function clean<T>(f: () => T): T | MtlsOAuthError {
  try {
    return f();
  } catch (e) {
    if (e instanceof MtlsOAuthError) return e;
    throw e;
  }
}
async function cleanAsync<T>(f: () => Promise<T>): Promise<T | MtlsOAuthError> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof MtlsOAuthError) return e;
    throw e;
  }
}

function fakeHttp(
  answer: (u: string) => { status?: number; json?: unknown; text?: string; headers?: Record<string, string> },
) {
  return {
    async request(o: { url: string }): Promise<HttpResult> {
      const a = answer(o.url);
      const text = a.text ?? JSON.stringify(a.json) ?? '';
      return { status: a.status ?? 200, headers: a.headers ?? {}, text, json: a.json, url: o.url };
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('discovery documents', () => {
  test('validateMetadata never throws, whatever the document, nor analyzeMtls on what it keeps', () => {
    fc.assert(
      fc.property(
        anyDocument,
        fc.constantFrom('oidc', 'rfc8414', 'rfc8414-appended') as fc.Arbitrary<'oidc'>,
        (doc, kind) => {
          const v = validateMetadata(doc, ISSUER, kind);
          assert.equal(typeof v.valid, 'boolean');
          for (const c of v.checks) assert.ok(['pass', 'fail', 'warn', 'skip'].includes(c.status));
          if (v.metadata) analyzeMtls(v.metadata, v.invalidMembers);
        },
      ),
      RUNS,
    );
  });

  test('discover() over any document and any JWKS: a report or an MtlsOAuthError', async () => {
    await fc.assert(
      fc.asyncProperty(anyDocument, anyJson, async (doc, jwks) => {
        const http = fakeHttp((u) => (u.includes('.well-known') ? { json: doc } : { json: jwks }));
        const r = await cleanAsync(() => discover(http, ISSUER));
        if (!(r instanceof MtlsOAuthError)) JSON.stringify(r); // the --json output must be printable
      }),
      RUNS,
    );
  });

  test('parseIssuerInput: any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.webUrl({ withQueryParameters: true, withFragments: true })),
        (s) => {
          clean(() => parseIssuerInput(s));
        },
      ),
      RUNS,
    );
  });
});

describe('token and introspection responses', () => {
  test('validateTokenResponse: a token or BAD_TOKEN_RESPONSE', () => {
    fc.assert(
      fc.property(tokenResponse, (body) => {
        const r = clean(() => validateTokenResponse(body));
        if (r instanceof MtlsOAuthError) assert.equal(r.code, 'BAD_TOKEN_RESPONSE');
        else assert.equal(typeof r.token.access_token, 'string');
      }),
      RUNS,
    );
  });

  test('introspectToken: an answer with a boolean "active", or a clean error', async () => {
    await fc.assert(
      fc.asyncProperty(introspection, fc.constantFrom(200, 400, 401, 500, 503), async (body, status) => {
        const c = {
          http: fakeHttp(() => ({ status, json: body })),
          credentials: { clientId: 'kong', method: 'tls_client_auth' },
        } as unknown as OAuthClient;
        const r = await cleanAsync(() => introspectToken(c, `${ISSUER}/introspect`, 'tok'));
        if (!(r instanceof MtlsOAuthError)) {
          assert.equal(typeof r.response.active, 'boolean');
          bindingFromIntrospection(r.response, { expected: 'abc', idpBinds: true });
          bindingFromIntrospection(r.response, {});
        }
      }),
      RUNS,
    );
  });

  test('failure() explains any error answer without throwing (bodies, WWW-Authenticate headers)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.oneof(anyJson, fc.string()),
        fc.option(fc.string()),
        (status, body, challenge) => {
          const c = {
            http: {},
            credentials: { clientId: 'kong', method: 'tls_client_auth' },
          } as unknown as OAuthClient;
          const res: HttpResult = {
            status,
            headers: challenge === null ? {} : { 'www-authenticate': challenge },
            text: typeof body === 'string' ? body : (JSON.stringify(body) ?? ''),
            url: `${ISSUER}/token`,
          };
          const e = failure(c, res, 'token request', `${ISSUER}/token`);
          assert.ok(e instanceof MtlsOAuthError);
          oauthErrorFromChallenge(challenge ?? undefined);
        },
      ),
      RUNS,
    );
  });
});

describe('tokens: JWT claims, binding, ID tokens', () => {
  test('jwtClaims, thumbprintOf and checkBinding never throw', () => {
    fc.assert(
      fc.property(jwtLike, fc.option(fc.string()), fc.option(fc.boolean()), (token, expected, idpBinds) => {
        const claims = jwtClaims(token);
        thumbprintOf(claims);
        const v = checkBinding({
          claims,
          expected: expected ?? undefined,
          idpBinds: idpBinds ?? undefined,
          source: 'JWT access token',
        });
        assert.ok(['pass', 'fail', 'warn', 'skip'].includes(v.status));
      }),
      RUNS,
    );
  });

  describe('validateIdToken', () => {
    const { privateKey, publicKey } = newKeyPairSync('ec', { namedCurve: 'P-256' });
    let jwks: { keys: object[] };
    before(async () => {
      jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] };
    });
    const options = (fetchJwks: () => Promise<unknown>) => ({
      issuer: ISSUER,
      clientId: 'kong',
      nonce: 'n-0S6_WzA2Mj',
      accessToken: 'at',
      code: 'code',
      fetchJwks: fetchJwks as never,
    });

    test('garbage tokens, garbage JWK sets: a result or ID_TOKEN_INVALID (never another exception)', async () => {
      await fc.assert(
        fc.asyncProperty(jwtLike, anyJson, async (token, set) => {
          const r = await cleanAsync(() =>
            validateIdToken(
              token,
              options(async () => set),
            ),
          );
          assert.ok(r instanceof MtlsOAuthError, 'nothing here is a valid ID token');
        }),
        RUNS,
      );
    });

    test('properly signed tokens with hostile claims (wrong types, deep, huge): checks, not crashes', async () => {
      const claims = fc.oneof(
        {
          weight: 3,
          arbitrary: fc.record(
            {
              iss: maybe(fc.constant(ISSUER)),
              aud: maybe(fc.oneof(fc.constant('kong'), fc.array(fc.constantFrom('kong', 'other')))),
              azp: maybe(fc.constant('kong')),
              sub: maybe(fc.string()),
              exp: maybe(fc.integer()),
              iat: maybe(fc.integer()),
              nbf: maybe(fc.integer()),
              nonce: maybe(fc.constant('n-0S6_WzA2Mj')),
              at_hash: maybe(fc.string()),
              c_hash: maybe(fc.string()),
            },
            { requiredKeys: [] },
          ),
        },
        { weight: 1, arbitrary: anyJson },
      );
      const payload = fc.oneof(
        { weight: 4, arbitrary: claims.map((c) => Buffer.from(JSON.stringify(c) ?? 'null')) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)) },
      );
      await fc.assert(
        fc.asyncProperty(payload, async (bytes) => {
          const token = await new CompactSign(bytes)
            .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
            .sign(privateKey);
          await cleanAsync(() =>
            validateIdToken(
              token,
              options(async () => jwks),
            ),
          );
        }),
        { numRuns: 150 },
      );
    });
  });
});

describe('names, SANs, certificates', () => {
  const dnChars = fc.constantFrom(...'CN=OU,O+C\\"#;<> =kong\\2C\u0000é'.split(''));
  test('parseDn: a DN or BAD_SUBJECT; what parses formats back to a string that parses to the same DN', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: dnChars, maxLength: 40 }).map((s) => `CN=${s}`),
        ),
        (s) => {
          const dn = clean(() => parseDn(s));
          if (dn instanceof MtlsOAuthError) {
            assert.equal(dn.code, 'BAD_SUBJECT');
            return;
          }
          const text = formatDn(dn);
          const again = clean(() => parseDn(text));
          if (!(again instanceof MtlsOAuthError)) assert.equal(formatDn(again), text);
        },
      ),
      RUNS,
    );
  });

  test('parseSans: SANs or BAD_SAN', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .array(
              fc
                .tuple(fc.constantFrom('dns', 'ip', 'uri', 'email', 'x', ''), fc.string())
                .map(([t, v]) => `${t}:${v}`),
            )
            .map((xs) => xs.join(',')),
        ),
        (s) => {
          const r = clean(() => parseSans(s));
          if (r instanceof MtlsOAuthError) assert.equal(r.code, 'BAD_SAN');
        },
      ),
      RUNS,
    );
  });

  test("dnFromDer (names from a server's CertificateRequest) never throws", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        assert.equal(typeof dnFromDer(Buffer.from(b)), 'string');
      }),
      RUNS,
    );
  });

  test("analyzeServerFlight (a hostile server's handshake bytes): returns, or throws an Error the connector catches", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          // TLS-record-shaped: content type, version, a length that may lie
          fc
            .array(
              fc.tuple(
                fc.constantFrom(20, 21, 22, 23),
                fc.integer({ min: 0, max: 70_000 }),
                fc.uint8Array({ maxLength: 200 }),
              ),
            )
            .map((rs) =>
              Buffer.concat(
                rs.map(([t, n, b]) =>
                  Buffer.concat([Buffer.from([t, 3, 3, (n >> 8) & 255, n & 255]), Buffer.from(b)]),
                ),
              ),
            ),
        ),
        fc.array(fc.string()),
        (bytes, keylog) => {
          try {
            analyzeServerFlight(Buffer.from(bytes), keylog);
          } catch (e) {
            assert.ok(e instanceof Error);
          }
        },
      ),
      RUNS,
    );
  });

  describe('certs inspect on hostile files', () => {
    let der: Buffer;
    let p12: Buffer;
    before(async () => {
      const pki = await makeTestPki();
      der = pki.client.x509.raw;
      p12 = buildP12(pki.client.keyPair.privateKey, [pki.client.x509, pki.ca.x509], { password: 'pw' });
    });
    const mutate = (base: () => Buffer) =>
      fc
        .tuple(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          fc.option(fc.nat()),
        )
        .map(([flips, cut]) => {
          const b = Buffer.from(base());
          for (const [i, v] of flips) b[i % b.length] = v;
          return cut === null ? b : b.subarray(0, cut % (b.length + 1));
        });

    test('random bytes, PEM around random bytes, damaged DER and PKCS#12: a report or a usage error', () => {
      const pem = (label: string) => (b: Uint8Array) =>
        Buffer.from(
          `-----BEGIN ${label}-----\n${Buffer.from(b).toString('base64')}\n-----END ${label}-----\n`,
        );
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)),
            fc.uint8Array({ maxLength: 1500 }).map(pem('CERTIFICATE')),
            fc.uint8Array({ maxLength: 600 }).map(pem('PRIVATE KEY')),
            mutate(() => der),
            mutate(() => der).map((b) => pem('CERTIFICATE')(b)),
            mutate(() => p12),
          ),
          fc.option(fc.string()),
          (data, password) => {
            const r = clean(() =>
              inspectCertificates({ data, source: 'hostile.crt', password: password ?? undefined }),
            );
            if (r instanceof MtlsOAuthError) assert.equal(r.kind, 'usage');
            else JSON.stringify(r);
          },
        ),
        RUNS,
      );
    });
  });
});

describe('configuration, stdin, environment, cache files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-hostile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const settingValue = fc.oneof(fc.string(), anyJson);
  const configText = fc.oneof(
    fc.string(),
    anyJson.map((v) => JSON.stringify(v) ?? ''),
    fc
      .record(
        {
          defaultProfile: maybe(fc.constantFrom('a', 'b')),
          profiles: maybe(
            fc.dictionary(
              fc.constantFrom('a', 'b', '__proto__'),
              maybe(fc.dictionary(fc.constantFrom(...Object.keys(SETTINGS), 'unknown'), settingValue)),
            ),
          ),
          extra: anyJson,
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
  );

  test('config files and MTLS_OAUTH_* values: settings or a usage error', () => {
    const file = join(dir, 'mtls-oauth.json');
    fc.assert(
      fc.property(
        configText,
        fc.dictionary(fc.constantFrom(...Object.values(SETTINGS).map((s) => s.env)), fc.string()),
        (text, env) => {
          writeFileSync(file, text);
          const r = clean(() => readConfigFile(file));
          if (r instanceof MtlsOAuthError) assert.equal(r.kind, 'usage');
          const s = clean(() => resolveSettings({ flags: {}, env, configPath: file, cwd: dir }));
          if (s instanceof MtlsOAuthError) assert.equal(s.kind, 'usage');
        },
      ),
      RUNS,
    );
  });

  test('a token piped on stdin: a token or a usage error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          anyJson.map((v) => JSON.stringify(v) ?? ''),
        ),
        fc.constantFrom('access', 'refresh', undefined),
        (text, kind) => {
          const r = clean(() => tokenFromText(text, kind as never));
          if (r instanceof MtlsOAuthError) assert.equal(r.kind, 'usage');
          else assert.equal(typeof r.token, 'string');
        },
      ),
      RUNS,
    );
  });

  test('HTTPS_PROXY / NO_PROXY values: settings or a usage error, and routing never throws', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (proxy, noProxy, host) => {
        const p = clean(() => proxyFromEnvironment({ HTTPS_PROXY: proxy, NO_PROXY: noProxy }));
        if (p instanceof MtlsOAuthError) assert.equal(p.kind, 'usage');
        else p?.routeFor({ hostname: host, port: 443, protocol: 'https:' });
      }),
      RUNS,
    );
  });

  test('a damaged token cache file: read as empty or as it is, never an exception', () => {
    const file = join(dir, 'tokens.json');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          anyJson.map((v) => JSON.stringify(v) ?? ''),
        ),
        (text) => {
          writeFileSync(file, text, { mode: 0o600 });
          const cache = new TokenCache({ file, warn: () => {} });
          cache.get('k');
          cache.entries();
        },
      ),
      RUNS,
    );
  });
});

test('sanity: the hostile arbitraries do produce deep and huge values', () => {
  const sample = fc.sample(anyJson, { numRuns: 300, seed: 42 });
  const depthOf = (v: unknown): number => {
    let d = 0;
    while (v && typeof v === 'object') {
      v = Array.isArray(v) ? v[0] : Object.values(v)[0];
      d++;
    }
    return d;
  };
  assert.ok(
    sample.some((v) => depthOf(v) >= 10),
    'deep values',
  );
  assert.ok(
    sample.some((v) => typeof v === 'string' && v.length >= 10_000),
    'huge strings',
  );
  assert.ok(createHash('sha256').update(randomBytes(1)).digest().length === 32);
});
