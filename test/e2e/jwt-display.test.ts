// Human output decodes the JWTs it shows (JWT access tokens, ID tokens): header and claims, times
// as dates, cnf spelled out; the token itself stays redacted and its signature is never printed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { completeLogin, startLogin } from '../helpers/user-agent.ts';

const ISO = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z';

/** The part of the human output a JWT section covers: from its heading to the next unindented line. */
function section(stdout: string, heading: string): string {
  const start = stdout.indexOf(`\n${heading} (JWT decoded for display`);
  assert.ok(start >= 0, `no "${heading}" JWT section in:\n${stdout}`);
  const rest = stdout.slice(start + 1);
  const end = rest.slice(1).search(/\n\S/);
  return `${end < 0 ? rest : rest.slice(0, end + 1)}\n`;
}

describe('JWTs in human output', () => {
  let fx: IdpFixture;
  before(async () => {
    fx = await idpFixture({ jwtAccessTokens: true, prefix: 'e2e-jwt-display-' });
  });
  after(() => fx?.close());

  test('token: the JWT access token header and claims, exp as a date, cnf.x5t#S256; no token, no signature', async () => {
    const r = await fx.run(['token', ...fx.args(), '--no-cache', '--json', '--show-secrets']);
    assert.equal(r.code, 0, r.stderr);
    const jwt: string = JSON.parse(r.stdout).result.access_token;
    const [, , signature] = jwt.split('.');

    const human = await fx.run(['token', ...fx.args(), '--no-cache']);
    assert.equal(human.code, 0, human.stderr);
    const at = section(human.stdout, 'access token');
    assert.match(at, /\n {2}header +alg ES256, typ at\+jwt, kid \S+/);
    assert.match(at, new RegExp(`\\n {2}exp +${ISO} \\(in \\d+m`));
    assert.match(at, new RegExp(`\\n {2}iat +${ISO} \\(`));
    assert.match(at, new RegExp(`\\n {2}iss +${fx.idp.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    assert.match(at, /\n {2}cnf +x5t#S256 [\w-]{43}\n/);
    assert.match(at, /\n {2}client_id +kong\n/);
    // The token stays redacted, and its signature appears nowhere (nor the second token's).
    assert.ok(!human.stdout.includes(signature), 'signature printed');
    assert.match(human.stdout, /\n {2}access token +sha256:[0-9a-f]{8}/, 'the token as a fingerprint');
    assert.ok(!/\b[\w-]{20,}\.[\w-]{20,}\.[\w-]{20,}\b/.test(human.stdout), 'a whole JWT printed');
  });

  test('login: the ID token header and claims (sub, nonce, exp as a date), and the JWT access token', async () => {
    const run = startLogin(['login', '--no-browser', ...fx.args(), '--no-cache'], fx.env(), 60_000);
    await completeLogin(fx.idp, await run.url);
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const id = section(r.stdout, 'id token');
    assert.match(id, /\n {2}header +alg RS256, typ JWT, kid \S+\n/);
    assert.match(id, /\n {2}sub +alice\n/);
    assert.match(id, /\n {2}aud +kong\n/);
    assert.match(id, /\n {2}nonce +[\w-]{43}\n/);
    assert.match(id, new RegExp(`\\n {2}exp +${ISO} \\(in `));
    assert.match(id, new RegExp(`\\n {2}iat +${ISO} \\(`));
    assert.match(section(r.stdout, 'access token'), /\n {2}cnf +x5t#S256 [\w-]{43}\n/);
  });
});
