// Issue 6's configuration requirements through the built CLI, beyond test/e2e/config.test.ts: the
// default config file in the user's config directory (and ./mtls-oauth.json before it), the
// MTLS_OAUTH_CONFIG / MTLS_OAUTH_PROFILE variables, an environment variable for each documented
// setting, `config show` redaction of secrets from every source in human output, errors that name
// the key (exit 2), and the warning for a secret given as a flag, on `smoke` too.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { assertCleanFailure, cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'smoke-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh home, XDG config directory and working directory. */
function box() {
  const dir = join(root, `box-${++n}`);
  const home = join(dir, 'home');
  const xdg = join(dir, 'xdg');
  const cwd = join(dir, 'work');
  for (const d of [home, xdg, cwd]) mkdirSync(d, { recursive: true });
  const write = (file: string, doc: unknown) => {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return file;
  };
  return { dir, home, xdg, cwd, write, env: cleanEnv({ HOME: home, XDG_CONFIG_HOME: xdg }) };
}

const show = async (b: ReturnType<typeof box>, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  runCli(['config', 'show', ...args], { cwd: b.cwd, env: { ...b.env, ...env } });

describe('the config file: where it is looked for', () => {
  test('$XDG_CONFIG_HOME/mtls-oauth/config.json, its defaultProfile', async () => {
    const b = box();
    const file = b.write(join(b.xdg, 'mtls-oauth', 'config.json'), {
      defaultProfile: 'work',
      profiles: { work: { issuer: 'https://xdg.example' }, other: { issuer: 'https://other.example' } },
    });
    const j = jsonOf(await show(b, ['--json']));
    assert.equal(j.result.settings.issuer.value, 'https://xdg.example');
    assert.equal(j.result.settings.issuer.source, `profile "work" in ${file}`);
    // --profile and MTLS_OAUTH_PROFILE pick another one.
    assert.equal(
      jsonOf(await show(b, ['--json', '--profile', 'other'])).result.settings.issuer.value,
      'https://other.example',
    );
    const viaEnv = jsonOf(await show(b, ['--json'], { MTLS_OAUTH_PROFILE: 'other' }));
    assert.equal(viaEnv.result.settings.issuer.value, 'https://other.example');
  });

  test('~/.config/mtls-oauth/config.json without XDG_CONFIG_HOME', async () => {
    const b = box();
    b.write(join(b.home, '.config', 'mtls-oauth', 'config.json'), {
      profiles: { default: { issuer: 'https://home.example' } },
    });
    const env = { ...b.env };
    delete env.XDG_CONFIG_HOME;
    const r = await runCli(['config', 'show', '--json'], { cwd: b.cwd, env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(jsonOf(r).result.settings.issuer.value, 'https://home.example');
  });

  test('./mtls-oauth.json comes before the user config file; --config and MTLS_OAUTH_CONFIG name another', async () => {
    const b = box();
    b.write(join(b.xdg, 'mtls-oauth', 'config.json'), {
      profiles: { default: { issuer: 'https://user.example' } },
    });
    b.write(join(b.cwd, 'mtls-oauth.json'), { profiles: { default: { issuer: 'https://project.example' } } });
    const elsewhere = b.write(join(b.dir, 'elsewhere.json'), {
      profiles: { default: { issuer: 'https://elsewhere.example' } },
    });
    assert.equal(jsonOf(await show(b, ['--json'])).result.settings.issuer.value, 'https://project.example');
    assert.equal(
      jsonOf(await show(b, ['--json', '--config', elsewhere])).result.settings.issuer.value,
      'https://elsewhere.example',
    );
    assert.equal(
      jsonOf(await show(b, ['--json'], { MTLS_OAUTH_CONFIG: elsewhere })).result.settings.issuer.value,
      'https://elsewhere.example',
    );
    // An explicit file that does not exist is an error, not a silent fallback.
    assertCleanFailure(
      await show(b, ['--config', join(b.dir, 'missing.json')]),
      2,
      /cannot read config file/,
    );
  });
});

describe('every documented setting has its environment variable', () => {
  test('MTLS_OAUTH_{ISSUER,CLIENT_ID,CERT,KEY,CA,P12,CLIENT_SECRET,KEY_PASSPHRASE,P12_PASSWORD}', async () => {
    const b = box();
    const env = {
      MTLS_OAUTH_ISSUER: 'https://env.example',
      MTLS_OAUTH_CLIENT_ID: 'kong',
      MTLS_OAUTH_CERT: 'client.crt',
      MTLS_OAUTH_KEY: 'client.key',
      MTLS_OAUTH_CA: 'ca.crt',
      MTLS_OAUTH_P12: 'client.p12',
      MTLS_OAUTH_CLIENT_SECRET: 'client-secret-value-1234',
      MTLS_OAUTH_KEY_PASSPHRASE: 'key-passphrase-value-1234',
      MTLS_OAUTH_P12_PASSWORD: 'p12-password-value-1234',
    };
    const r = await show(b, ['--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const s = jsonOf(r).result.settings;
    const names: Record<string, string> = {
      issuer: 'MTLS_OAUTH_ISSUER',
      clientId: 'MTLS_OAUTH_CLIENT_ID',
      cert: 'MTLS_OAUTH_CERT',
      key: 'MTLS_OAUTH_KEY',
      ca: 'MTLS_OAUTH_CA',
      p12: 'MTLS_OAUTH_P12',
      clientSecret: 'MTLS_OAUTH_CLIENT_SECRET',
      keyPassphrase: 'MTLS_OAUTH_KEY_PASSPHRASE',
      p12Password: 'MTLS_OAUTH_P12_PASSWORD',
    };
    for (const [name, variable] of Object.entries(names)) {
      assert.equal(s[name]?.source, `env ${variable}`, name);
    }
  });
});

describe('config show keeps secrets out of its output', () => {
  test('secrets from the environment and from a profile are shortened in human output', async () => {
    const b = box();
    const file = b.write(join(b.cwd, 'mtls-oauth.json'), {
      profiles: { default: { issuer: 'https://idp.example', keyPassphrase: 'passphrase-from-the-profile' } },
    });
    // A file holding a secret is read only when nobody else can read it (test/e2e/config-trust.test.ts).
    chmodSync(file, 0o600);
    const r = await show(b, [], { MTLS_OAUTH_CLIENT_SECRET: 'secret-from-the-environment' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /keyPassphrase/);
    assert.match(r.stdout, /clientSecret/);
    for (const secret of ['passphrase-from-the-profile', 'secret-from-the-environment']) {
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${secret} not printed`);
    }
    assert.match(r.stdout, /https:\/\/idp\.example/, 'what is not secret is shown');
  });
});

describe('errors in the file name the key (exit 2)', () => {
  test('an unknown key and a wrong type, in the user config file', async () => {
    const b = box();
    const file = join(b.xdg, 'mtls-oauth', 'config.json');
    b.write(file, { profiles: { default: { issuer: 'https://idp.example', clientid: 'kong' } } });
    const unknown = await show(b);
    assertCleanFailure(unknown, 2, /profile "default" has unknown key "clientid"/);
    assert.match(unknown.stderr, /^hint: rename "clientid" to "clientId"/m);
    b.write(file, { profiles: { default: { timeout: 'soon' } } });
    assertCleanFailure(await show(b), 2, /"timeout" must be a positive number/);
    // The same file breaks smoke the same way, before any request.
    assertCleanFailure(
      await runCli(['smoke'], { cwd: b.cwd, env: b.env }),
      2,
      /"timeout" must be a positive number/,
    );
    // "insecure" is never taken from a file, whatever its value.
    b.write(file, { profiles: { default: { insecure: true } } });
    assertCleanFailure(
      await show(b),
      2,
      /profile "default" sets "insecure", which is taken only from --insecure or MTLS_OAUTH_INSECURE/,
    );
  });
});

describe('a secret given as a flag', () => {
  test('smoke warns that the process list shows it', async () => {
    const b = box();
    const r = await runCli(
      [
        'smoke',
        '--client-secret',
        'flag-secret-12345678',
        '--client-id',
        'x',
        '--token-endpoint',
        'http://127.0.0.1:9/token',
        '--steps',
        'token',
      ],
      { cwd: b.cwd, env: b.env },
    );
    assert.match(
      r.stderr,
      /warning: --client-secret puts a secret in the process list.*MTLS_OAUTH_CLIENT_SECRET/,
    );
    assert.ok(!r.stdout.includes('flag-secret-12345678'));
  });
});
