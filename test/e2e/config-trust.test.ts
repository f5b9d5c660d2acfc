// Issue 10 parts 1 and 5 through the built CLI: a config file in the current directory cannot
// redirect cached tokens, a config file another user could have written is refused, `insecure`
// never comes from a file, endpoints are labelled with their real source, and parallel runs lose
// no cache entry.
//
// The setup of the report: issuer, client, certificate and CA in MTLS_OAUTH_* (as in CI), real
// tokens cached from the test IdP, then a hostile mtls-oauth.json pointing endpoints at a local
// "attacker" HTTPS server (with a certificate the client trusts, so that only the tool's rules
// stand between the tokens and it).

import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CliResult, jsonOf, runCli } from '../helpers/cli.ts';
import { type ClientMetadata, makeIdpPki, rfc4514Subject, type TestIdp } from '../helpers/idp.ts';
import {
  authorizationCodeGrantArgs,
  cachedEntry,
  type IdpFixture,
  idpFixture,
} from '../helpers/idp-fixture.ts';
import { type Running, startHttpsServer } from '../helpers/tls-servers.ts';
import { NOBODY } from '../helpers/unprivileged.ts';

const PARALLEL = 12;

describe('config files cannot steal cached tokens', () => {
  let fx: IdpFixture;
  let idp: TestIdp;
  let attacker: Running;
  /** Every request the attacker's server received: path and body. */
  const seen: Array<{ url: string; body: string; authorization?: string }> = [];
  let env: NodeJS.ProcessEnv;
  let n = 0;

  const cacheFile = () => join(fx.cacheDir, 'tokens.json');
  const run = (args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}, timeoutMs?: number) =>
    runCli(args, { env: { ...env, ...extraEnv }, cwd, timeoutMs });
  /** A folder (a "checkout") holding mtls-oauth.json with `profile` as its default profile. */
  const checkout = (profile: Record<string, unknown>, mode = 0o644) => {
    const dir = join(fx.home, `checkout-${++n}`);
    mkdirSync(dir);
    const file = join(dir, 'mtls-oauth.json');
    writeFileSync(file, JSON.stringify({ profiles: { default: profile } }));
    chmodSync(file, mode);
    return { dir, file };
  };
  const hostile = () => ({
    tokenEndpoint: `${attacker.url}/token`,
    introspectionEndpoint: `${attacker.url}/introspect`,
    revocationEndpoint: `${attacker.url}/revoke`,
  });
  const failsWith = (r: CliResult, code: string) => {
    assert.equal(r.code, 2, `exit 2; stdout ${r.stdout}\nstderr ${r.stderr}`);
    assert.equal(jsonOf(r).error?.code, code, r.stdout);
  };

  before(async () => {
    const pki = await makeIdpPki();
    const parallelClients: ClientMetadata[] = Array.from({ length: PARALLEL }, (_, i) => ({
      client_id: `parallel-${i}`,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: rfc4514Subject(pki.client.x509),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    }));
    fx = await idpFixture({ pki, clients: parallelClients, prefix: 'e2e-config-trust-' });
    idp = fx.idp;
    // The attacker's server: a certificate the client trusts (the IdP's own), answers anything.
    attacker = await startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      handler: (req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (d) => {
          body += d;
        });
        req.on('end', () => {
          seen.push({ url: req.url ?? '', body, authorization: req.headers.authorization });
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify({
              active: true,
              access_token: 'ATTACKER-ACCESS-TOKEN',
              refresh_token: 'ATTACKER-REFRESH-TOKEN',
              token_type: 'Bearer',
              expires_in: 300,
            }),
          );
        });
      },
    });
    env = fx.env({
      MTLS_OAUTH_ISSUER: idp.issuer,
      MTLS_OAUTH_CLIENT_ID: 'kong',
      MTLS_OAUTH_CERT: fx.files.clientCert,
      MTLS_OAUTH_KEY: fx.files.clientKey,
      MTLS_OAUTH_CA: fx.files.ca,
    });
    // Real tokens, access and refresh, cached from the IdP (no config file around).
    const r = await run(['token', ...(await authorizationCodeGrantArgs(idp))], fx.home);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cachedEntry(fx.cacheDir, idp).refresh_token, 'a refresh token is cached');
  });
  after(async () => {
    await attacker?.close();
    await fx?.close();
  });

  test('a checkout that moves the endpoints gets neither the access nor the refresh token', async () => {
    const real = cachedEntry(fx.cacheDir, idp);
    const before = readFileSync(cacheFile(), 'utf8');
    const { dir, file } = checkout(hostile());
    const attempts: Array<[string[], string]> = [
      [['introspect'], 'NO_CACHED_TOKEN'],
      [['introspect', '--from-cache', 'refresh'], 'NO_CACHED_TOKEN'],
      [['revoke'], 'NO_CACHED_TOKEN'],
      [['token', '--grant', 'refresh_token'], 'NO_REFRESH_TOKEN'],
    ];
    for (const [args, code] of attempts) {
      const r = await run([...args, '--json'], dir);
      failsWith(r, code);
      // Said once on stderr: which file, which keys.
      const notes = r.stderr.split('\n').filter((l) => l.startsWith('note: '));
      assert.deepEqual(notes, [
        `note: using ${file} from the current directory (profile "default"): tokenEndpoint, introspectionEndpoint, revocationEndpoint`,
      ]);
    }
    // Only the endpoints other than the token endpoint moved: the entry is found (same issuer,
    // token endpoint and client), and still not sent anywhere but to its issuer.
    const { dir: dir2, file: file2 } = checkout({
      introspectionEndpoint: `${attacker.url}/introspect`,
      revocationEndpoint: `${attacker.url}/revoke`,
    });
    for (const args of [['introspect'], ['introspect', '--from-cache', 'refresh'], ['revoke', '--verify']]) {
      const r = await run([...args, '--json'], dir2);
      failsWith(r, 'CACHED_TOKEN_ELSEWHERE');
      assert.match(jsonOf(r).error!.message, new RegExp(`set by profile "default" in ${file2}`));
    }
    assert.equal(seen.length, 0, 'the attacker received nothing');
    assert.equal(readFileSync(cacheFile(), 'utf8'), before, 'the cache is unchanged');
    // A fresh token from the moved token endpoint is the attacker's: it is cached apart and the
    // real entry stays as it was (and the notice said where the request went).
    const fresh = await run(['token', '--json'], dir);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stderr, /^note: using .* tokenEndpoint/m);
    assert.ok(seen.length > 0);
    for (const s of seen) {
      for (const secret of [real.access_token, real.refresh_token]) {
        assert.ok(!s.body.includes(secret) && !s.authorization?.includes(secret), `${s.url}: no real token`);
      }
    }
    assert.deepEqual(cachedEntry(fx.cacheDir, idp), real, 'the real entry is untouched');
    // ...and still works where it belongs.
    const home = await run(['introspect', '--json', '--expect-active'], fx.home);
    assert.equal(home.code, 0, home.stderr);
  });

  test('a token the user gives goes where the settings say, after the notice', async () => {
    const { dir } = checkout({ introspectionEndpoint: `${attacker.url}/introspect` });
    const before = seen.length;
    const given = await runCli(['introspect', '-', '--json'], {
      env,
      cwd: dir,
      input: 'a-token-the-user-chose',
    });
    assert.equal(given.code, 0, given.stderr);
    assert.match(
      given.stderr,
      /^note: using .*mtls-oauth\.json from the current directory .*: introspectionEndpoint$/m,
    );
    assert.equal(seen.length, before + 1);
    assert.match(seen.at(-1)!.body, /token=a-token-the-user-chose/);
  });

  test('a config file another user could have written is refused before any request (exit 2)', async () => {
    const before = seen.length;
    // Owned by another user, in a sticky world-writable folder (as in /tmp).
    const shared = join(fx.home, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const foreign = join(shared, 'mtls-oauth.json');
    writeFileSync(foreign, JSON.stringify({ profiles: { default: hostile() } }));
    chownSync(foreign, NOBODY, NOBODY);
    const r = await run(['introspect', '--json'], shared);
    failsWith(r, 'CONFIG_INSECURE');
    const { message, hint } = jsonOf(r).error!;
    assert.ok(message.includes(`config file ${foreign} belongs to another user (uid ${NOBODY})`), message);
    assert.match(hint!, /use a config file of your own/);
    // Writable by group or others.
    const { dir: writable, file } = checkout(hostile(), 0o666);
    const w = await run(['token', '--grant', 'refresh_token'], writable);
    assert.equal(w.code, 2);
    assert.match(w.stderr, new RegExp(`config file ${file} has mode 0666, writable by group`));
    assert.match(w.stderr, /chmod go-w/);
    // A secret in a file others can read.
    const { dir: leaky } = checkout({ clientSecret: 'secret-in-a-readable-file' }, 0o644);
    const s = await run(['introspect', '--json'], leaky);
    failsWith(s, 'CONFIG_SECRET_EXPOSED');
    assert.ok(
      !s.stdout.includes('secret-in-a-readable-file') && !s.stderr.includes('secret-in-a-readable-file'),
    );
    // Trust in the server certificate never comes from a file.
    const { dir: trusting } = checkout({ insecure: true }, 0o600);
    const t = await run(['token', '--json'], trusting);
    failsWith(t, 'CONFIG_KEY_NOT_ALLOWED');
    assert.equal(seen.length, before, 'no request reached the attacker');
  });

  test('an endpoint is labelled with where it came from, not "(flag)"', async () => {
    const introspection = idp.endpoints.introspection;
    const fromEnv = await run(['introspect'], fx.home, { MTLS_OAUTH_INTROSPECTION_ENDPOINT: introspection });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.ok(
      fromEnv.stdout.includes(`${introspection} (env MTLS_OAUTH_INTROSPECTION_ENDPOINT)`),
      fromEnv.stdout,
    );
    const { dir, file } = checkout({ introspectionEndpoint: introspection });
    const fromFile = await run(['introspect'], dir);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.ok(fromFile.stdout.includes(`${introspection} (profile "default" in ${file})`), fromFile.stdout);
    const fromFlag = await run(['introspect', '--introspection-endpoint', introspection], fx.home);
    assert.ok(fromFlag.stdout.includes(`${introspection} (flag)`), fromFlag.stdout);
  });

  test(`${PARALLEL} parallel token runs keep all ${PARALLEL} entries, in a file that is always valid JSON`, async () => {
    const runs = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        run(['token', '--client-id', `parallel-${i}`], fx.home, {}, 120_000),
      ),
    );
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /cached in/);
    }
    const doc = JSON.parse(readFileSync(cacheFile(), 'utf8'));
    for (let i = 0; i < PARALLEL; i++) {
      const entry = cachedEntry(fx.cacheDir, idp, `parallel-${i}`);
      assert.equal(entry?.client_id, `parallel-${i}`, `entry ${i} of ${Object.keys(doc.entries).length}`);
      assert.ok(entry.access_token);
    }
    assert.deepEqual(readdirSync(fx.cacheDir), ['tokens.json'], 'no lock or temporary file left');
  });
});
