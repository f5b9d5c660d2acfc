// Hostile documents through the built CLI: a server answers `discover`, `token` and `introspect`
// with documents drawn from the same arbitraries as the property tests (a fixed seed, a handful of
// runs: each is a process). Every run ends with a documented exit code, a message and no stack
// trace, in human and -v output (rendering and the verbose log see the documents too) and in --json
// (stdout stays one JSON document).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type BadServer, startBadServer } from '../helpers/bad-servers.ts';
import { assertNoStack, type CliResult, jsonOf, runCli } from '../helpers/cli.ts';
import { anyJson, introspection, metadataDocFor, nested, tokenResponse } from './arbitraries.ts';
import { type FaultPki, faultPki } from './fixtures.ts';

const N = 8;

function assertClean(r: CliResult, allowed: number[], what: string, json = false) {
  assert.ok(allowed.includes(r.code ?? -1), `${what}: exit ${r.code}; stderr:\n${r.stderr.slice(0, 2000)}`);
  assertNoStack(r);
  assert.doesNotMatch(r.stderr, /unexpected error|this is a bug/, `${what}: not reported as a bug`);
  if (json) {
    const doc = jsonOf(r);
    assert.equal(doc.ok, r.code === 0, `${what}: ok matches the exit code`);
    if (r.code !== 0) assert.ok(doc.error?.code && doc.error.message, `${what}: the error in the envelope`);
  } else if (r.code !== 0) {
    assert.match(r.stderr, /^error: .+/m, `${what}: one error line`);
  }
}

/** JSON text nested `n` levels deep (built as text: JSON.stringify would overflow the stack). */
const deepJson = (n: number) => `${'{"a":['.repeat(n)}1${']}'.repeat(n)}`;

let pki: FaultPki;
let server: BadServer;
/** What the server answers next, per path. */
const answers = new Map<string, { status?: number; body: unknown }>();

before(async () => {
  pki = await faultPki();
  server = await startBadServer('json', {
    cert: pki.server.cert,
    key: pki.server.key,
    route: (line) => {
      const path = line.split(' ')[1]?.split('?')[0] ?? '/';
      return answers.get(path) ?? { status: 404, body: { error: 'not_found' } };
    },
  });
});
after(async () => {
  await server.close();
  pki.remove();
});

describe('discover: hostile discovery documents and JWKS', () => {
  test(`${N} drawn documents (seeded), human -v and --json: exit 0, 1 or 3, never a crash`, async () => {
    const docs = fc.sample(metadataDocFor(server.url, server.url), { numRuns: N, seed: 7 });
    const jwks = fc.sample(anyJson, { numRuns: N, seed: 8 });
    for (let i = 0; i < N; i++) {
      answers.set('/.well-known/openid-configuration', { body: docs[i] });
      answers.set('/.well-known/oauth-authorization-server', { body: docs[i] });
      answers.set('/jwks', { body: jwks[i] });
      const human = await runCli([...pki.args('discover', server.url), '-v'], { env: pki.env() });
      assertClean(human, [0, 1, 3], `document ${i} (human)`);
      const json = await runCli([...pki.args('discover', server.url), '--json'], { env: pki.env() });
      assertClean(json, [0, 1, 3], `document ${i} (--json)`, true);
    }
  });

  test('a valid document whose JWKS is garbage: exit 0, the JWKS problem is a warning', async () => {
    answers.set('/.well-known/openid-configuration', {
      body: {
        issuer: server.url,
        authorization_endpoint: `${server.url}/auth`,
        token_endpoint: `${server.url}/token`,
        jwks_uri: `${server.url}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      },
    });
    for (const body of [
      { keys: 'nope' },
      { keys: [null, 5, { kty: { x: 1 } }, { kty: 'RSA', n: 42 }, { kty: 'RSA', n: '' }] },
      nested(40),
      deepJson(100_000),
    ]) {
      answers.set('/jwks', { body });
      const r = await runCli(pki.args('discover', server.url), { env: pki.env() });
      assertClean(r, [0], `jwks ${JSON.stringify(body).slice(0, 40)}`);
      assert.match(r.stdout, /JWKS/);
    }
  });

  test('a discovery document nested 100 000 deep: exit 3, JSON_TOO_DEEP', async () => {
    answers.set('/.well-known/openid-configuration', { body: deepJson(100_000) });
    answers.set('/.well-known/oauth-authorization-server', { body: deepJson(100_000) });
    const r = await runCli([...pki.args('discover', server.url), '--json'], { env: pki.env() });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(jsonOf(r).error?.code, 'JSON_TOO_DEEP');
  });
});

describe('token and introspect: hostile responses', () => {
  test(`${N} drawn token responses (200 and 400): exit 0, 1, 3 or 4, never a crash`, async () => {
    const bodies = fc.sample(tokenResponse, { numRuns: N, seed: 9 });
    for (let i = 0; i < N; i++) {
      answers.set('/token', { status: i % 3 === 2 ? 400 : 200, body: bodies[i] });
      const r = await runCli([...pki.args('token', server.url), '-v'], { env: pki.env() });
      assertClean(r, [0, 1, 3, 4], `token response ${i}`);
    }
  });

  test('wrongly typed token responses: exit 4, BAD_TOKEN_RESPONSE, the member named', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ access_token: 42, token_type: 'Bearer' }, /has no access_token/],
      [
        { access_token: 'x', token_type: 'Bearer', expires_in: 'soon' },
        /expires_in that is not a non-negative number/,
      ],
      [
        { access_token: 'x', token_type: 'Bearer', refresh_token: { a: 1 } },
        /refresh_token that is not a string/,
      ],
      [['access_token'], /is not a JSON object/],
    ];
    for (const [body, message] of cases) {
      answers.set('/token', { body });
      const r = await runCli([...pki.args('token', server.url), '--json'], { env: pki.env() });
      assert.equal(r.code, 4, r.stderr);
      const doc = jsonOf(r);
      assert.equal(doc.error?.code, 'BAD_TOKEN_RESPONSE');
      assert.match(doc.error!.message, message);
    }
  });

  test(`${N} drawn introspection responses: exit 0, 1, 3 or 4, never a crash`, async () => {
    const bodies = fc.sample(introspection, { numRuns: N, seed: 10 });
    const args = [
      'introspect',
      '-',
      '--introspection-endpoint',
      `${server.url}/introspect`,
      '--client-id',
      'kong',
      '--cert',
      pki.files.cert,
      '--key',
      pki.files.key,
      '--ca',
      pki.files.ca,
      '-v',
    ];
    for (let i = 0; i < N; i++) {
      answers.set('/introspect', { body: bodies[i] });
      const r = await runCli(args, { env: pki.env(), input: 'an-opaque-token' });
      assertClean(r, [0, 1, 3, 4], `introspection response ${i}`);
    }
    answers.set('/introspect', { body: { active: 'yes' } });
    const r = await runCli(args, { env: pki.env(), input: 'an-opaque-token' });
    assertClean(r, [4], 'active: "yes"');
    assert.match(r.stderr, /no boolean "active" \(RFC 7662 §2\.2\)/);
  });
});
