import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveSettings } from '../../src/core/config.ts';

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
