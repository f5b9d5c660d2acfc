// `mtls-oauth certs p12`: PEM certificate + key (+ chain) into PKCS#12 and back, with openssl as
// the referee; nothing existing replaced without --force, keys written 0600.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertCleanFailure, cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';
import { makeTestPki } from '../helpers/pki.ts';

const root = mkdtempSync(join(tmpdir(), 'mtls-oauth-p12-e2e-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const PASSWORD = 'correct horse battery staple';
const run = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { cwd, env: cleanEnv(env), timeoutMs: 60_000 });
const openssl = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync('openssl', args, { encoding: 'utf8', stdio: 'pipe', env: { ...process.env, ...env } });
const mode = (p: string) => statSync(p).mode & 0o777;
/** The PEM certificates in a text, normalized for comparison. */
const certsIn = (text: string) =>
  text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];

describe('certs p12', () => {
  let pki: Awaited<ReturnType<typeof makeTestPki>>;
  before(async () => {
    pki = await makeTestPki();
  });
  /** A folder with client.crt, client.key (0600) and ca.crt. */
  function inputs(): string {
    const d = fresh();
    writeFileSync(join(d, 'client.crt'), pki.client.cert);
    writeFileSync(join(d, 'client.key'), pki.client.key, { mode: 0o600 });
    writeFileSync(join(d, 'ca.crt'), pki.ca.cert);
    return d;
  }

  it('packs certificate, key and chain; openssl reads them with the password and verifies the chain', async () => {
    const d = inputs();
    const r = await run(
      [
        'certs',
        'p12',
        '--cert',
        'client.crt',
        '--key',
        'client.key',
        '--chain',
        'ca.crt',
        '--p12-password-env',
        'PW',
      ],
      d,
      { PW: PASSWORD },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /client\.p12 +certificate \+ key \+ chain/);
    const p12 = join(d, 'client.p12');
    assert.equal(mode(p12), 0o600);
    const env = { PW: PASSWORD };
    const certs = openssl(['pkcs12', '-in', p12, '-nokeys', '-passin', 'env:PW'], env);
    assert.deepEqual(certsIn(certs), [...certsIn(pki.client.cert), ...certsIn(pki.ca.cert)]);
    const key = openssl(['pkcs12', '-in', p12, '-nocerts', '-nodes', '-passin', 'env:PW'], env);
    const publicKeyOf = (k: string) =>
      execFileSync('openssl', ['pkey', '-pubout'], { input: k, encoding: 'utf8' });
    assert.equal(publicKeyOf(key), publicKeyOf(pki.client.key), 'the same key');
    const leaf = join(d, 'leaf.pem');
    writeFileSync(leaf, certsIn(certs)[0]!);
    assert.match(openssl(['verify', '-CAfile', join(d, 'ca.crt'), leaf]), /: OK/);
    // A wrong password is refused by openssl: the file really is protected.
    assert.throws(() => openssl(['pkcs12', '-in', p12, '-nokeys', '-passin', 'pass:wrong']));
  });

  it('extracts a PKCS#12 file openssl made: certificate, key 0600, chain; openssl verify agrees', async () => {
    const d = inputs();
    openssl(
      [
        'pkcs12',
        '-export',
        '-in',
        'client.crt',
        '-inkey',
        'client.key',
        '-certfile',
        'ca.crt',
        '-out',
        'kong.p12',
        '-passout',
        'env:PW',
      ].map((a) => (a.endsWith('.crt') || a.endsWith('.key') || a.endsWith('.p12') ? join(d, a) : a)),
      { PW: PASSWORD },
    );
    const out = join(d, 'pem');
    const r = await run(['certs', 'p12', '--extract', 'kong.p12', '--out', 'pem', '--json'], d, {
      MTLS_OAUTH_P12_PASSWORD: PASSWORD,
    });
    assert.equal(r.code, 0, r.stderr);
    const result = jsonOf(r).result as {
      files: Record<string, string>;
      certificates: Array<{ subject: string }>;
    };
    assert.deepEqual(
      result.certificates.map((c) => c.subject),
      ['CN=kong', 'CN=Test CA,O=mtls-oauth tests'],
    );
    assert.deepEqual(certsIn(readFileSync(join(out, 'kong.crt'), 'utf8')), certsIn(pki.client.cert));
    assert.deepEqual(certsIn(readFileSync(join(out, 'kong.chain.crt'), 'utf8')), certsIn(pki.ca.cert));
    assert.equal(mode(join(out, 'kong.key')), 0o600);
    assert.match(openssl(['verify', '-CAfile', join(out, 'kong.chain.crt'), join(out, 'kong.crt')]), /: OK/);
    // The key is the certificate's: openssl compares the public keys.
    const pub = (args: string[]) => openssl(args);
    assert.equal(
      pub(['pkey', '-in', join(out, 'kong.key'), '-pubout']),
      pub(['x509', '-in', join(out, 'kong.crt'), '-noout', '-pubkey']),
    );
  });

  it('round trip: what it packs, it extracts', async () => {
    const d = inputs();
    const env = { MTLS_OAUTH_P12_PASSWORD: PASSWORD };
    assert.equal(
      (await run(['certs', 'p12', '--cert', 'client.crt', '--key', 'client.key', '--out', 'x.p12'], d, env))
        .code,
      0,
    );
    const r = await run(['certs', 'p12', '--extract', 'x.p12', '--name', 'back'], d, env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(certsIn(readFileSync(join(d, 'back.crt'), 'utf8')), certsIn(pki.client.cert));
    assert.match(r.stdout, /back\.key +its private key, unencrypted \(0600\)/);
  });

  it('never overwrites without --force; a wrong password, a key of another certificate, no input: exit 2, nothing written', async () => {
    const d = inputs();
    const env = { MTLS_OAUTH_P12_PASSWORD: PASSWORD };
    writeFileSync(join(d, 'client.p12'), 'precious');
    const exists = await run(['certs', 'p12', '--cert', 'client.crt', '--key', 'client.key'], d, env);
    assertCleanFailure(exists, 2, /already exist/);
    assert.equal(readFileSync(join(d, 'client.p12'), 'utf8'), 'precious');
    const forced = await run(
      ['certs', 'p12', '--cert', 'client.crt', '--key', 'client.key', '--force'],
      d,
      env,
    );
    assert.equal(forced.code, 0, forced.stderr);

    // Extracting next to existing PEM files: refused, and they are untouched.
    const before = readFileSync(join(d, 'client.key'), 'utf8');
    const over = await run(['certs', 'p12', '--extract', 'client.p12'], d, env);
    assertCleanFailure(over, 2, /already exist/);
    assert.equal(readFileSync(join(d, 'client.key'), 'utf8'), before);

    const wrong = await run(['certs', 'p12', '--extract', 'client.p12', '--name', 'w'], d, {
      MTLS_OAUTH_P12_PASSWORD: 'nope',
    });
    assertCleanFailure(wrong, 2, /password/i);

    writeFileSync(join(d, 'server.key'), pki.server.key, { mode: 0o600 });
    const mismatch = await run(
      ['certs', 'p12', '--cert', 'client.crt', '--key', 'server.key', '--out', 'm.p12'],
      d,
      env,
    );
    assertCleanFailure(mismatch, 2, /server\.key is not the private key of client\.crt/);

    const same = await run(
      ['certs', 'p12', '--cert', 'client.crt', '--key', 'client.key', '--out', 'client.key'],
      d,
      env,
    );
    assertCleanFailure(same, 2, /client\.key is also an input/);

    const none = await run(['certs', 'p12'], d, env);
    assertCleanFailure(none, 2, /needs --cert and --key/);
    // No password and no terminal to ask on.
    const noPassword = await run(
      ['certs', 'p12', '--cert', 'client.crt', '--key', 'client.key', '--out', 'n.p12'],
      d,
    );
    assertCleanFailure(noPassword, 2, /no terminal/);
    for (const f of ['m.p12', 'n.p12', 'w.crt', 'w.key']) assert.throws(() => statSync(join(d, f)), f);
  });
});
