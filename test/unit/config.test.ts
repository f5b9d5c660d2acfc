import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { closestKey, resolveSettings } from '../../src/core/config.ts';
import { NOBODY } from '../helpers/unprivileged.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'mtls-oauth.json');
writeFileSync(
  file,
  JSON.stringify({
    defaultProfile: 'dev',
    profiles: {
      dev: { issuer: 'https://dev.example', clientId: 'kong', cert: 'certs/client.crt', timeout: 7 },
      ci: { issuer: 'https://ci.example' },
    },
  }),
);

describe('settings resolution', () => {
  it('takes flag over environment over profile, and says where each came from', () => {
    const r = resolveSettings({
      flags: { issuer: 'https://flag.example' },
      env: { MTLS_OAUTH_CLIENT_ID: 'from-env', HOME: dir },
      configPath: file,
      cwd: dir,
    });
    assert.equal(r.settings.issuer, 'https://flag.example');
    assert.equal(r.sources.issuer, 'flag');
    assert.equal(r.settings.clientId, 'from-env');
    assert.equal(r.sources.clientId, 'env MTLS_OAUTH_CLIENT_ID');
    assert.equal(r.settings.cert, join(dir, 'certs/client.crt'), 'profile paths are relative to the file');
    assert.equal(r.settings.timeout, 7);
    assert.equal(r.profile, 'dev');
  });

  it('selects a named profile and finds ./mtls-oauth.json by default', () => {
    const r = resolveSettings({ flags: {}, env: { HOME: dir }, profile: 'ci', cwd: dir });
    assert.equal(r.settings.issuer, 'https://ci.example');
    assert.equal(r.configFile, file);
  });

  it('warns when a secret is given as a flag', () => {
    const r = resolveSettings({
      flags: { clientSecret: 's3cr3t' },
      env: { HOME: dir },
      cwd: join(dir, 'none'),
    });
    assert.match(r.warnings.join('\n'), /process list.*MTLS_OAUTH_CLIENT_SECRET/);
  });

  it('an unknown key blocks only its own profile, with the key it probably meant', () => {
    const f = join(dir, 'mixed.json');
    writeFileSync(
      f,
      JSON.stringify({ profiles: { good: { issuer: 'https://good.example' }, bad: { clientid: 'kong' } } }),
    );
    const r = resolveSettings({ flags: {}, env: { HOME: dir }, configPath: f, profile: 'good', cwd: dir });
    assert.equal(r.settings.issuer, 'https://good.example');
    assert.match(
      r.warnings.join('\n'),
      /profile "bad" has unknown key "clientid" \(did you mean clientId\?\)/,
    );
    assert.throws(
      () => resolveSettings({ flags: {}, env: { HOME: dir }, configPath: f, profile: 'bad', cwd: dir }),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'CONFIG_UNKNOWN_KEY' &&
        /did you mean clientId\?/.test(e.message) &&
        /rename "clientid" to "clientId"/.test(e.hint ?? ''),
    );
  });

  it('closestKey: case, then one or two edits; nothing further', () => {
    const keys = ['issuer', 'clientId', 'cert', 'key'];
    assert.equal(closestKey('clientid', keys), 'clientId');
    assert.equal(closestKey('isuer', keys), 'issuer');
    assert.equal(closestKey('client_id', keys), 'clientId');
    assert.equal(closestKey('password', keys), undefined);
  });

  it('names unknown keys, wrong types and missing profiles', () => {
    const bad = join(dir, 'bad.json');
    const cases: Array<[unknown, RegExp]> = [
      [{ profiles: { p: { isuer: 'x' } } }, /unknown key "isuer"/],
      [{ profiles: { p: { timeout: 'soon' } } }, /"timeout" must be a positive number/],
      [{ profiles: { p: { timeout: -1 } } }, /"timeout" must be a positive number/],
      [{ profiles: { p: { insecure: false } } }, /sets "insecure", which is taken only from --insecure or/],
      [{ profile: {} }, /unknown key "profile"/],
      [{ profiles: { p: { caMode: 'merge' } } }, /"caMode" must be "add" or "replace"/],
      [
        { profiles: { p: { assertionAudience: 'the idp' } } },
        /"assertionAudience" must be "endpoint", "issuer" or/,
      ],
    ];
    for (const [doc, re] of cases) {
      writeFileSync(bad, JSON.stringify(doc));
      assert.throws(
        () => resolveSettings({ flags: {}, env: { HOME: dir }, configPath: bad, profile: 'p', cwd: dir }),
        (e: Error & { kind?: string }) => e.kind === 'usage' && re.test(e.message),
      );
    }
    for (const ok of ['endpoint', 'issuer', 'https://idp.example.com/oauth2/token']) {
      const r = resolveSettings({ flags: { assertionAudience: ok }, env: {}, cwd: dir });
      assert.equal(r.settings.assertionAudience, ok);
    }
    writeFileSync(bad, '{ not json');
    assert.throws(() => resolveSettings({ flags: {}, env: {}, configPath: bad, cwd: dir }), /not valid JSON/);
    assert.throws(
      () => resolveSettings({ flags: {}, env: { HOME: dir }, configPath: file, profile: 'nope', cwd: dir }),
      /profile "nope" is not in/,
    );
  });
});

describe('config file trust (as ssh trusts its config)', () => {
  let k = 0;
  /** A config file in a fresh folder, with `mode`, owned by `uid` (we run as root: chown works). */
  const configFile = (doc: unknown, mode: number, uid?: number) => {
    const d = join(dir, `trust-${++k}`);
    mkdirSync(d);
    const f = join(d, 'mtls-oauth.json');
    writeFileSync(f, JSON.stringify(doc));
    chmodSync(f, mode);
    if (uid !== undefined) chownSync(f, uid, uid);
    return { dir: d, file: f };
  };
  const plain = { profiles: { default: { issuer: 'https://idp.example' } } };
  const refused =
    (f: string, code: string, re: RegExp) => (e: Error & { kind?: string; code?: string; hint?: string }) => {
      assert.equal(e.kind, 'usage');
      assert.equal(e.code, code);
      assert.match(e.message, re);
      assert.ok(e.message.includes(f), 'the message names the file');
      assert.ok(e.hint, 'a hint says how to fix it');
      return true;
    };

  it('refuses a file owned by another user, even in a sticky world-writable folder', () => {
    const { dir: d, file: f } = configFile(plain, 0o644, NOBODY);
    chmodSync(d, 0o1777);
    assert.throws(
      () => resolveSettings({ flags: {}, env: { HOME: dir }, cwd: d }),
      refused(f, 'CONFIG_INSECURE', /belongs to another user \(uid 65534\)/),
    );
    assert.throws(
      () => resolveSettings({ flags: {}, env: {}, configPath: f, cwd: dir }),
      refused(f, 'CONFIG_INSECURE', /belongs to another user/),
      'an explicit --config file too',
    );
  });

  it('refuses a file writable by group or others, and says how to fix it', () => {
    for (const [mode, who] of [
      [0o664, 'group'],
      [0o646, 'others'],
      [0o666, 'group'],
    ] as const) {
      const { file: f } = configFile(plain, mode);
      assert.throws(
        () => resolveSettings({ flags: {}, env: {}, configPath: f, cwd: dir }),
        (e: Error & { hint?: string }) =>
          refused(f, 'CONFIG_INSECURE', new RegExp(`mode 0${mode.toString(8)}, writable by ${who}`))(e) &&
          /chmod go-w/.test(e.hint!),
      );
    }
    const ok = configFile(plain, 0o644);
    assert.equal(
      resolveSettings({ flags: {}, env: {}, configPath: ok.file, cwd: dir }).settings.issuer,
      'https://idp.example',
      'readable by others is fine without secrets',
    );
  });

  it('refuses a file holding a secret that others than its owner can read', () => {
    const doc = { profiles: { a: {}, ci: { issuer: 'https://idp.example', clientSecret: 'in-the-file' } } };
    for (const mode of [0o644, 0o640, 0o604]) {
      const { file: f } = configFile(doc, mode);
      assert.throws(
        () => resolveSettings({ flags: {}, env: {}, configPath: f, profile: 'a', cwd: dir }),
        (e: Error & { hint?: string }) =>
          refused(f, 'CONFIG_SECRET_EXPOSED', /holds a secret \("clientSecret" in profile "ci"\)/)(e) &&
          /MTLS_OAUTH_CLIENT_SECRET|chmod 600/.test(e.hint!),
        `mode ${mode.toString(8)}`,
      );
    }
    const { file: f } = configFile(doc, 0o600);
    const r = resolveSettings({ flags: {}, env: {}, configPath: f, profile: 'ci', cwd: dir });
    assert.equal(r.settings.clientSecret, 'in-the-file');
  });

  it('takes insecure only from the flag or the environment, never from a file', () => {
    const { file: f } = configFile({ profiles: { default: { insecure: true } } }, 0o600);
    assert.throws(
      () => resolveSettings({ flags: {}, env: {}, configPath: f, cwd: dir }),
      refused(
        f,
        'CONFIG_KEY_NOT_ALLOWED',
        /"insecure", which is taken only from --insecure or MTLS_OAUTH_INSECURE/,
      ),
    );
    const { file: clean } = configFile(plain, 0o600);
    const viaEnv = resolveSettings({
      flags: {},
      env: { MTLS_OAUTH_INSECURE: '1' },
      configPath: clean,
      cwd: dir,
    });
    assert.equal(viaEnv.settings.insecure, true);
    assert.equal(viaEnv.sources.insecure, 'env MTLS_OAUTH_INSECURE');
    const viaFlag = resolveSettings({ flags: { insecure: true }, env: {}, configPath: clean, cwd: dir });
    assert.equal(viaFlag.sources.insecure, 'flag');
    assert.throws(
      () => resolveSettings({ flags: {}, env: { MTLS_OAUTH_INSECURE: 'maybe' }, cwd: dir }),
      /"insecure" must be true or false/,
    );
  });

  it('announces a file found in the current directory, with the keys it set', () => {
    const doc = {
      profiles: {
        default: {
          issuer: 'https://file.example',
          tokenEndpoint: 'https://file.example/token',
          ca: 'ca.pem',
        },
      },
    };
    const { dir: d, file: f } = configFile(doc, 0o644);
    const xdg = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'no-xdg') };
    const r = resolveSettings({
      flags: {},
      env: { ...xdg, MTLS_OAUTH_ISSUER: 'https://env.example' },
      cwd: d,
    });
    assert.equal(r.configFromCwd, true);
    assert.deepEqual(r.notices, [
      `using ${f} from the current directory (profile "default"): ca, tokenEndpoint`,
    ]);
    assert.equal(r.sources.tokenEndpoint, `profile "default" in ${f}`, 'its real source, not "flag"');
    // Named with --config (or MTLS_OAUTH_CONFIG), the user chose it: no notice.
    assert.deepEqual(resolveSettings({ flags: {}, env: xdg, configPath: f, cwd: d }).notices, []);
    assert.deepEqual(
      resolveSettings({ flags: {}, env: { ...xdg, MTLS_OAUTH_CONFIG: f }, cwd: d }).notices,
      [],
    );
    // Every key overridden: nothing came from it.
    const all = resolveSettings({
      flags: { issuer: 'https://a', tokenEndpoint: 'https://a/t', ca: 'x' },
      env: xdg,
      cwd: d,
    });
    assert.deepEqual(all.notices, []);
    // The user's own config file is no surprise.
    const home = join(dir, `home-${++k}`);
    mkdirSync(join(home, 'mtls-oauth'), { recursive: true });
    writeFileSync(join(home, 'mtls-oauth', 'config.json'), JSON.stringify(plain));
    const user = resolveSettings({
      flags: {},
      env: { HOME: home, XDG_CONFIG_HOME: home },
      cwd: join(dir, 'none'),
    });
    assert.equal(user.settings.issuer, 'https://idp.example');
    assert.deepEqual(user.notices, []);
  });
});
