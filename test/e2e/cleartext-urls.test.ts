// Issue 10 part 3 through the built CLI: one rule for every URL (src/core/url-policy.ts), https,
// or plain http only to a loopback address. The loopback spellings (127.0.0.0/8, [::1], the
// IPv4-mapped [::ffff:127.0.0.1], localhost) are accepted wherever a URL comes from; http:// to
// any other host is refused with BAD_URL (exit 2) before a byte is sent, whether it came from a
// flag, MTLS_OAUTH_* or a config profile; a discovery document naming one is invalid (exit 1).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLoopbackHost, urlProblem } from '../../src/core/url-policy.ts';
import { cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';

const TOKEN = { access_token: 'opaque-token-value-1234567890', token_type: 'Bearer', expires_in: 60 };
const REMOTE = 'http://192.0.2.10:8080'; // TEST-NET-1: never contacted, the rule refuses it first

describe('plain http: loopback only, one rule everywhere', () => {
  const servers: Server[] = [];
  /** Requests the local servers received: the Host header and the body (where the secret is). */
  const seen: Array<{ host: string; body: string }> = [];
  const ports: Record<string, number> = {};
  let dir: string;

  const listen = async (host: string) => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        seen.push({ host: req.headers.host ?? '', body });
        const origin = `http://${req.headers.host}`;
        // The issuer ".../remote" names a token endpoint on a non-loopback http host.
        const remote = req.url?.startsWith('/remote/');
        if (req.url?.endsWith('/.well-known/openid-configuration')) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(
            JSON.stringify({
              issuer: remote ? `${origin}/remote` : origin,
              token_endpoint: remote ? `${REMOTE}/token` : `${origin}/token`,
              authorization_endpoint: `${origin}/authorize`,
              jwks_uri: `${origin}/jwks`,
              response_types_supported: ['code'],
              subject_types_supported: ['public'],
              id_token_signing_alg_values_supported: ['RS256'],
              token_endpoint_auth_methods_supported: ['client_secret_post'],
            }),
          );
        } else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(TOKEN));
      });
    });
    await new Promise<void>((ok) => server.listen(0, host, ok));
    servers.push(server);
    return (server.address() as AddressInfo).port;
  };

  before(async () => {
    ports.v4 = await listen('127.0.0.1');
    ports.v4b = await listen('127.0.0.2');
    ports.v6 = await listen('::1');
    dir = mkdtempSync(join(tmpdir(), 'e2e-cleartext-'));
  });
  after(async () => {
    for (const s of servers) await new Promise((ok) => s.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  const secretArgs = ['--client-id', 'c1', '--auth', 'client_secret_post', '--no-cache', '--json'];
  const SECRET = 'cleartext-secret-value';
  const env = (extra: NodeJS.ProcessEnv = {}) =>
    cleanEnv({ MTLS_OAUTH_CLIENT_SECRET: SECRET, HOME: dir, XDG_CONFIG_HOME: dir, ...extra });

  test('the policy: which hosts are loopback', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '127.255.255.254', '[::1]', 'localhost', '[::ffff:7f00:1]'])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['[::ffff:a00:1]', '[::]', '0.0.0.0', '10.0.0.1', 'localhost.evil.example', '[fe80::1]'])
      assert.equal(isLoopbackHost(h), false, h);
    // The URL parser's normal forms: every spelling of 127.0.0.1 is loopback.
    for (const u of ['http://127.1/', 'http://2130706433/', 'http://[::ffff:127.0.0.1]/', 'http://[0:0::1]/'])
      assert.equal(urlProblem(u), undefined, u);
    assert.match(urlProblem('http://[::ffff:10.0.0.1]/')!, /non-loopback/);
    assert.match(urlProblem('ftp://127.0.0.1/')!, /only https/);
  });

  test('every loopback spelling through --token-endpoint: the request is made (exit 0)', async () => {
    const urls = [
      `http://[::ffff:127.0.0.1]:${ports.v4}/token`,
      `http://[::ffff:7f00:1]:${ports.v4}/token`,
      `http://127.0.0.2:${ports.v4b}/token`,
      `http://[::1]:${ports.v6}/token`,
      `http://localhost:${ports.v4}/token`,
    ];
    for (const url of urls) {
      const before = seen.length;
      const r = await runCli(['token', '--token-endpoint', url, ...secretArgs], { env: env() });
      assert.equal(r.code, 0, `${url}: ${r.stderr}`);
      assert.equal(jsonOf(r).ok, true);
      assert.equal(seen.length, before + 1, url);
    }
  });

  test('http:// to a non-loopback host: BAD_URL, exit 2, nothing sent (flag, env, profile)', async () => {
    const url = `${REMOTE}/token`;
    const refused = (r: Awaited<ReturnType<typeof runCli>>, how: string) => {
      assert.equal(r.code, 2, `${how}: ${r.stderr}`);
      const err = jsonOf(r).error!;
      assert.equal(err.code, 'BAD_URL', how);
      assert.match(err.message, /192\.0\.2\.10.*http:\/\/ on a non-loopback host/, how);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET), how);
    };
    refused(await runCli(['token', '--token-endpoint', url, ...secretArgs], { env: env() }), 'flag');
    refused(
      await runCli(['token', ...secretArgs], { env: env({ MTLS_OAUTH_TOKEN_ENDPOINT: url }) }),
      'environment',
    );
    const config = join(dir, 'profile.json');
    writeFileSync(config, JSON.stringify({ profiles: { default: { tokenEndpoint: url } } }), { mode: 0o600 });
    refused(await runCli(['token', '--config', config, ...secretArgs], { env: env() }), 'profile');
    // A mapped address outside 127/8 is not loopback either.
    const mapped = `http://[::ffff:192.0.2.10]:8080/token`;
    refused(await runCli(['token', '--token-endpoint', mapped, ...secretArgs], { env: env() }), 'mapped');
  });

  test('discovery: a mapped-loopback issuer and endpoints work; a non-loopback http endpoint is refused', async () => {
    const issuer = `http://[::ffff:7f00:1]:${ports.v4}`;
    const ok = await runCli(['token', '--issuer', issuer, ...secretArgs], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);

    const sent = seen.length;
    const bad = await runCli(['token', '--issuer', `http://127.0.0.1:${ports.v4}/remote`, ...secretArgs], {
      env: env(),
    });
    // An invalid discovery document (a check that failed, exit 1), the same words as the flag's.
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(jsonOf(bad).error!.code, 'DISCOVERY_INVALID');
    assert.match(
      jsonOf(bad).error!.message,
      /"token_endpoint" uses http:\/\/ on a non-loopback host: http:\/\/192\.0\.2\.10/,
    );
    // Only the discovery document was fetched; no body (no secret) went anywhere.
    assert.deepEqual(
      seen.slice(sent).map((s) => s.body),
      [''],
    );
  });
});
