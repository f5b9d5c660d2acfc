import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertCleanFailure, cleanEnv, jsonOf, runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'mtls-oauth-config-e2e-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'mtls-oauth.json'),
  JSON.stringify({ profiles: { staging: { issuer: 'https://staging.example', clientId: 'from-profile' } } }),
);
const env = cleanEnv({ HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg') });

describe('mtls-oauth config show', () => {
  it('resolves flag > env > profile and names each source', async () => {
    const r = await runCli(['config', 'show', '--profile', 'staging', '--json', '--client-id', 'from-flag'], {
      cwd: dir,
      env: { ...env, MTLS_OAUTH_ISSUER: 'https://env.example', MTLS_OAUTH_CLIENT_SECRET: 'top-secret-value' },
    });
    assert.equal(r.code, 0, r.stderr);
    const { result } = jsonOf(r);
    assert.deepEqual(result.settings.issuer, {
      value: 'https://env.example',
      source: 'env MTLS_OAUTH_ISSUER',
    });
    assert.deepEqual(result.settings.clientId, { value: 'from-flag', source: 'flag' });
    assert.equal(result.profile, 'staging');
    assert.doesNotMatch(r.stdout, /top-secret-value/, 'secrets redacted');
  });

  it('names the token cache file and where its location comes from', async () => {
    const human = await runCli(['config', 'show'], { cwd: dir, env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      new RegExp(`^token cache: ${join(dir, 'xdg', 'mtls-oauth', 'tokens.json')}  \\(default\\)$`, 'm'),
    );
    const cacheDir = join(dir, 'elsewhere');
    const r = await runCli(['config', 'show', '--json'], {
      cwd: dir,
      env: { ...env, MTLS_OAUTH_CACHE_DIR: cacheDir },
    });
    assert.deepEqual(jsonOf(r).result.tokenCache, {
      file: join(cacheDir, 'tokens.json'),
      source: 'env MTLS_OAUTH_CACHE_DIR',
    });
  });

  it('warns about a secret given as a flag', async () => {
    const r = await runCli(['config', 'show', '--client-secret', 'hunter2-hunter2'], { cwd: dir, env });
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: --client-secret puts a secret in the process list/);
    assert.doesNotMatch(r.stdout, /hunter2-hunter2/);
  });

  it('rejects a missing profile and a bad value with exit 2', async () => {
    assertCleanFailure(
      await runCli(['config', 'show', '--profile', 'prod'], { cwd: dir, env }),
      2,
      /profile "prod" is not in/,
    );
    assertCleanFailure(
      await runCli(['config', 'show'], { cwd: dir, env: { ...env, MTLS_OAUTH_TIMEOUT: 'soon' } }),
      2,
      /MTLS_OAUTH_TIMEOUT: "timeout" must be a positive number/,
    );
  });
});
