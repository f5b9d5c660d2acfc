// `mtls-oauth kong` end to end: the built CLI against the real test IdP. The decK output is parsed
// as YAML (the `yaml` package, YAML 1.1 rules as decK reads them) and checked field by field; the
// Admin API script is run by sh against a local HTTP server playing the Admin API (curl sends the
// requests); a failing smoke step refuses the configuration; --include-key writes the key only to
// a 0600 file and never replaces one.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { type IdpFixture, idpFixture } from '../helpers/idp-fixture.ts';
import { closedPort } from '../helpers/tls-servers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Deck = any;

const deckOf = (text: string): Deck => parse(text, { version: '1.1' });

/** The comment lines right above `key:` in the YAML text (the field's reason). */
function commentAbove(text: string, key: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s*${key}:`).test(l));
  assert.ok(i > 0, `no ${key} in the output`);
  const out: string[] = [];
  for (let j = i - 1; j >= 0 && /^\s*#/.test(lines[j]); j--) out.unshift(lines[j].replace(/^\s*# ?/, ''));
  return out.join(' ');
}

describe('kong against the test IdP, aliases on', () => {
  let fx: IdpFixture;
  before(async () => {
    fx = await idpFixture({ aliases: true, prefix: 'kong-e2e-' });
  });
  after(() => fx?.close());

  test('decK YAML on stdout: every field checked, each with its reason, no private key', async () => {
    const r = await fx.run(['kong', ...fx.args()]);
    assert.equal(r.code, 0, r.stderr);
    assertNoStack(r);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
    assert.match(r.stderr, /verified: mtls-oauth smoke \(discovery pass, tls pass, token pass, binding pass/);
    const deck = deckOf(r.stdout);
    assert.equal(deck._format_version, '3.0');

    const leaf = new X509Certificate(readFileSync(fx.files.clientCert));
    assert.equal(deck.certificates.length, 1);
    const cert = deck.certificates[0];
    assert.match(cert.id, UUID);
    assert.ok(
      new X509Certificate(cert.cert).raw.equals(leaf.raw),
      'the Certificate entity holds the client certificate',
    );
    assert.equal(cert.key, `\${{ env "DECK_CLIENT_KEY" }}`);
    assert.deepEqual(cert.tags, ['mtls-oauth']);

    const serverCa = new X509Certificate(readFileSync(fx.files.ca));
    assert.equal(deck.ca_certificates.length, 1);
    assert.ok(new X509Certificate(deck.ca_certificates[0].cert).raw.equals(serverCa.raw));
    assert.match(deck.ca_certificates[0].id, UUID);

    assert.equal(deck.plugins.length, 1);
    const plugin = deck.plugins[0];
    assert.equal(plugin.name, 'openid-connect');
    assert.match(plugin.id, UUID);
    assert.equal(plugin.service, undefined);
    const c = plugin.config;
    assert.equal(c.issuer, fx.idp.issuer);
    assert.deepEqual(c.client_id, ['kong']);
    assert.deepEqual(c.client_auth, ['tls_client_auth']);
    assert.equal(c.tls_client_auth_cert_id, cert.id);
    assert.equal(c.tls_client_auth_ssl_verify, true);
    assert.equal(c.ssl_verify, true);
    assert.equal(c.proof_of_possession_mtls, 'strict');
    const aliases = fx.idp.aliases as Record<string, string>;
    assert.equal(c.mtls_token_endpoint, aliases.token_endpoint);
    assert.equal(c.mtls_introspection_endpoint, aliases.introspection_endpoint);
    assert.equal(c.mtls_revocation_endpoint, aliases.revocation_endpoint);
    assert.deepEqual(Object.keys(c).sort(), [
      'client_auth',
      'client_id',
      'issuer',
      'mtls_introspection_endpoint',
      'mtls_revocation_endpoint',
      'mtls_token_endpoint',
      'proof_of_possession_mtls',
      'ssl_verify',
      'tls_client_auth_cert_id',
      'tls_client_auth_ssl_verify',
    ]);
    // Each field says why it has its value.
    assert.match(commentAbove(r.stdout, 'client_auth'), /RFC 8705 §2\.1.*token request worked/);
    assert.match(commentAbove(r.stdout, 'proof_of_possession_mtls'), /binds access tokens.*cnf\.x5t#S256/);
    assert.match(commentAbove(r.stdout, 'mtls_token_endpoint'), /mtls_endpoint_aliases\.token_endpoint/);
    assert.match(commentAbove(r.stdout, 'tls_client_auth_cert_id'), /Certificate entity/);
    assert.match(commentAbove(r.stdout, 'key'), /DECK_CLIENT_KEY/);
    for (const key of Object.keys(c)) assert.notEqual(commentAbove(r.stdout, key), '', `${key} has a reason`);
  });

  test('the ids are stable: a second run writes the same file', async () => {
    const [a, b] = [await fx.run(['kong', ...fx.args()]), await fx.run(['kong', ...fx.args()])];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  test('--service attaches the plugin to a Service; --json gives the same config and no key', async () => {
    const r = await fx.run(['kong', ...fx.args(), '--service', 'orders', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /PRIVATE KEY/);
    const j = jsonOf(r);
    assert.equal(j.ok, true);
    assert.equal(j.command, 'kong');
    const result = j.result as Deck;
    assert.equal(result.verified, true);
    assert.equal(result.keyIncluded, false);
    const plugin = result.config.plugins[0];
    assert.equal(plugin.service, 'orders');
    assert.equal(plugin.config.proof_of_possession_mtls, 'strict');
    assert.match(result.reasons.client_auth, /RFC 8705/);
    assert.deepEqual(
      j.checks.map((ch) => [ch.name, ch.status]),
      ['discovery', 'tls', 'token', 'binding', 'introspect', 'revoke', 'introspect-after-revoke'].map((s) => [
        s,
        'pass',
      ]),
    );
  });

  test('a failing smoke step: nothing printed, exit 1, the step named', async () => {
    const r = await fx.run(['kong', ...fx.args('kong', 'other')]);
    assertCleanFailure(
      r,
      1,
      /refusing to print a Kong configuration: smoke step token failed: .*invalid_client/,
    );
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /fail +token:/);
    const j = jsonOf(await fx.run(['kong', ...fx.args('kong', 'other'), '--json']));
    assert.equal(j.ok, false);
    assert.equal(j.error?.code, 'KONG_UNVERIFIED');
    assert.equal((j.result as Deck).config, undefined);
  });

  test('--include-key: the key only in a 0600 file, never on stdout, never replaced', async () => {
    const out = join(fx.home, 'kong-with-key.yaml');
    const refused = await fx.run(['kong', ...fx.args(), '--include-key']);
    assertCleanFailure(refused, 2, /--include-key puts the private key in the output: it needs -o FILE/);
    assert.doesNotMatch(refused.stdout + refused.stderr, /PRIVATE KEY/);

    const r = await fx.run(['kong', ...fx.args(), '--include-key', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/);
    assert.match(r.stdout, /written to .*kong-with-key\.yaml \(mode 0600/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const text = readFileSync(out, 'utf8');
    const key = createPrivateKey(deckOf(text).certificates[0].key);
    const expected = createPrivateKey(readFileSync(fx.files.clientKey));
    assert.ok(key.equals(expected), 'the included key is the client key');

    writeFileSync(out, 'keep me\n', { mode: 0o600 });
    const again = await fx.run(['kong', ...fx.args(), '--include-key', '-o', out]);
    assertCleanFailure(again, 2, /exists/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me\n');
    const forced = await fx.run(['kong', ...fx.args(), '--include-key', '-o', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.match(readFileSync(out, 'utf8'), /PRIVATE KEY/);

    const json = await fx.run([
      'kong',
      ...fx.args(),
      '--include-key',
      '-o',
      join(fx.home, 'k2.yaml'),
      '--json',
    ]);
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, /PRIVATE KEY/);
    assert.equal((jsonOf(json).result as Deck).keyIncluded, true);
  });

  test('--format admin-api: sh runs the requests; the Admin API gets the entities by id', async (t) => {
    const requests: Array<{ method: string; url: string; type: string; body: string }> = [];
    const admin = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          type: String(req.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((ok) => admin.listen(0, '127.0.0.1', ok));
    t.after(() => new Promise<void>((ok) => admin.close(() => ok())));
    const script = join(fx.home, 'kong-setup.sh');
    const r = await fx.run(['kong', ...fx.args(), '--format', 'admin-api', '-o', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(script).mode & 0o777, 0o644);
    const deck = deckOf((await fx.run(['kong', ...fx.args()])).stdout);
    const port = (admin.address() as AddressInfo).port;
    const ran = await new Promise<{ code: number | null; stdout: string; stderr: string }>((ok) => {
      execFile(
        'sh',
        [script],
        { env: { PATH: process.env.PATH, KONG_ADMIN_URL: `http://127.0.0.1:${port}` }, cwd: fx.home },
        (e, stdout, stderr) => ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(
      requests.map((q) => `${q.method} ${q.url}`),
      [
        `PUT /certificates/${deck.certificates[0].id}`,
        `PUT /ca_certificates/${deck.ca_certificates[0].id}`,
        `PUT /plugins/${deck.plugins[0].id}`,
      ],
    );
    // The certificate's form: the certificate inline, the key read from the client key file.
    assert.match(requests[0].type, /^multipart\/form-data/);
    assert.ok(requests[0].body.includes(deck.certificates[0].cert.trim()));
    assert.ok(requests[0].body.includes(readFileSync(fx.files.clientKey, 'utf8').trim()));
    const plugin = JSON.parse(requests[2].body);
    assert.equal(plugin.name, 'openid-connect');
    assert.deepEqual(plugin.config, deck.plugins[0].config);
    assert.doesNotMatch(readFileSync(script, 'utf8'), /PRIVATE KEY/);
  });
});

describe('kong: other setups', () => {
  test('aliases off, tokens not bound: no alias fields, proof_of_possession_mtls "off" (quoted)', async (t) => {
    const fx = await idpFixture({
      prefix: 'kong-e2e-',
      kong: { tls_client_certificate_bound_access_tokens: false },
    });
    t.after(() => fx.close());
    const r = await fx.run(['kong', ...fx.args()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /proof_of_possession_mtls: "off"/);
    const c = deckOf(r.stdout).plugins[0].config;
    assert.equal(c.proof_of_possession_mtls, 'off');
    assert.match(commentAbove(r.stdout, 'proof_of_possession_mtls'), /no certificate binding/);
    assert.equal(c.mtls_token_endpoint, undefined);
    assert.equal(c.mtls_introspection_endpoint, undefined);
  });

  test('self_signed_tls_client_auth: the method that worked', async (t) => {
    const fx = await idpFixture({ prefix: 'kong-e2e-' });
    t.after(() => fx.close());
    const r = await fx.run([
      'kong',
      ...fx.args('self-signed', 'selfSigned'),
      '--auth',
      'self_signed_tls_client_auth',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const c = (jsonOf(r).result as Deck).config.plugins[0].config;
    assert.deepEqual(c.client_auth, ['self_signed_tls_client_auth']);
    assert.deepEqual(c.client_id, ['self-signed']);
  });

  test('--no-verify: no request at all, proof_of_possession_mtls off, a warning', async (t) => {
    const fx = await idpFixture({ prefix: 'kong-e2e-' });
    t.after(() => fx.close());
    const port = await closedPort();
    const issuer = `https://127.0.0.1:${port}`;
    const r = await fx.run([
      'kong',
      '--issuer',
      issuer,
      '--client-id',
      'kong',
      ...fx.tlsArgs(),
      '--no-verify',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --no-verify/);
    const deck = deckOf(r.stdout);
    assert.equal(deck.plugins[0].config.issuer, issuer);
    assert.equal(deck.plugins[0].config.proof_of_possession_mtls, 'off');
    assert.match(r.stdout, /NOT verified/);
  });

  test('usage errors before any request: no issuer, a client secret method, no certificate', async (t) => {
    const fx = await idpFixture({ prefix: 'kong-e2e-' });
    t.after(() => fx.close());
    assertCleanFailure(
      await fx.run(['kong', '--client-id', 'kong', ...fx.tlsArgs()]),
      2,
      /needs the IdP's issuer/,
    );
    assertCleanFailure(
      await fx.run(['kong', ...fx.args(), '--auth', 'client_secret_basic', '--no-verify']),
      2,
      /mTLS client authentication, not client_secret_basic/,
    );
    assertCleanFailure(
      await fx.run(['kong', '--issuer', fx.idp.issuer, '--client-id', 'kong']),
      2,
      /none is given/,
    );
    assert.equal(existsSync(join(fx.home, 'kong.yaml')), false);
  });
});
