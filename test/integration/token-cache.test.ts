// The token cache on a real file system: location, mode 0600 (directory 0700), atomic replacement,
// refusal of files others can read, of links and of damaged files, and refresh-token rotation.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  cacheKey,
  defaultCacheFile,
  entryFromTokenResponse,
  isExpired,
  TokenCache,
} from '../../src/core/token-cache.ts';

const root = mkdtempSync(join(tmpdir(), 'token-cache-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `c${n++}`);

describe('token cache', () => {
  test('lives in MTLS_OAUTH_CACHE_DIR, else XDG_CONFIG_HOME/mtls-oauth, else ~/.config/mtls-oauth', () => {
    assert.equal(
      defaultCacheFile({ MTLS_OAUTH_CACHE_DIR: '/x', XDG_CONFIG_HOME: '/y', HOME: '/h' }),
      '/x/tokens.json',
    );
    assert.equal(defaultCacheFile({ XDG_CONFIG_HOME: '/y', HOME: '/h' }), '/y/mtls-oauth/tokens.json');
    assert.equal(defaultCacheFile({ HOME: '/h' }), '/h/.config/mtls-oauth/tokens.json');
  });

  test('keys entries by issuer, token endpoint and client_id', () => {
    const key = (issuer: string | undefined, tokenEndpoint: string, clientId: string) =>
      cacheKey({ issuer, tokenEndpoint, clientId });
    assert.equal(
      key('https://idp', 'https://idp/token', 'kong'),
      '["https://idp","https://idp/token","kong"]',
    );
    assert.equal(key(undefined, 'https://idp/token', 'a'), '[null,"https://idp/token","a"]');
    const base = key('https://idp', 'https://idp/token', 'a');
    assert.notEqual(base, key('https://idp', 'https://idp/token', 'b'), 'another client');
    assert.notEqual(base, key('https://idp', 'https://evil/token', 'a'), 'another token endpoint');
    assert.notEqual(base, key('https://other', 'https://idp/token', 'a'), 'another issuer');
    assert.notEqual(key('a b', 'c', 'd'), key('a', 'b c', 'd'), 'no ambiguity from spaces');
  });

  test('writes mode 0600 in a 0700 directory, atomically, and reads back; other entries survive', () => {
    const dir = freshDir();
    const file = join(dir, 'tokens.json');
    const cache = new TokenCache({ file });
    assert.equal(cache.get('k1'), undefined, 'a missing file is an empty cache');
    const e1 = entryFromTokenResponse(
      { access_token: 'AT1', token_type: 'Bearer', expires_in: 60, scope: 'a b' },
      {
        clientId: 'kong',
        issuer: 'https://idp',
        grantType: 'client_credentials',
        x5tS256: 'thumb',
        now: 1000,
      },
    );
    assert.equal(cache.set('k1', e1), true);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(cache.get('k1'), {
      client_id: 'kong',
      issuer: 'https://idp',
      access_token: 'AT1',
      token_type: 'Bearer',
      obtained_at: 1000,
      expires_at: 1060,
      scope: 'a b',
      grant_type: 'client_credentials',
      x5t_s256: 'thumb',
    });
    // A second instance (another process) adds an entry; the first one's entry stays.
    new TokenCache({ file }).set('k2', { ...e1, access_token: 'AT2' });
    assert.equal(cache.get('k1')?.access_token, 'AT1');
    assert.equal(cache.get('k2')?.access_token, 'AT2');
    cache.set('k2', undefined);
    assert.equal(cache.get('k2'), undefined);
    assert.deepEqual(readdirSync(dir), ['tokens.json'], 'no temporary files left behind');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'still 0600 after a replacement');
  });

  test('a write waits for the lock another process holds, and leaves no lock behind', async () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'tokens.json');
    const lock = `${file}.lock`;
    // Another process takes the lock, and lets it go a moment later.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('fs');fs.writeFileSync(${JSON.stringify(lock)},String(process.pid),{flag:'wx'});process.stdout.write('held');setTimeout(()=>fs.unlinkSync(${JSON.stringify(lock)}),300)`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(holder.stdout!, 'data');
    const exited = once(holder, 'exit');
    const cache = new TokenCache({ file });
    assert.equal(cache.set('k', { client_id: 'x', obtained_at: 1, access_token: 'A' }), true);
    assert.equal(existsSync(lock), false, 'our lock is gone');
    assert.equal(cache.get('k')?.access_token, 'A');
    await exited;
  });

  test('a lock left by a process that is gone, or held for ages, is taken over', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'tokens.json');
    const lock = `${file}.lock`;
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(lock, String(gone));
    const cache = new TokenCache({ file });
    assert.equal(cache.set('a', { client_id: 'x', obtained_at: 1, access_token: 'A' }), true);
    assert.equal(existsSync(lock), false);
    // A live pid (ours), but an hour old.
    writeFileSync(lock, String(process.pid));
    const anHourAgo = new Date(Date.now() - 3600_000);
    utimesSync(lock, anHourAgo, anHourAgo);
    assert.equal(cache.set('b', { client_id: 'x', obtained_at: 1, access_token: 'B' }), true);
    assert.deepEqual(Object.keys(cache.entries()).sort(), ['a', 'b']);
    assert.deepEqual(readdirSync(dir), ['tokens.json']);
  });

  test('refuses (neither reads nor writes) a file others can read, with one warning', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'tokens.json');
    const entry = { client_id: 'kong', access_token: 'LEAKED', obtained_at: 1 };
    writeFileSync(file, JSON.stringify({ version: 1, entries: { k: entry } }));
    chmodSync(file, 0o644);
    const warnings: string[] = [];
    const cache = new TokenCache({ file, warn: (m) => warnings.push(m) });
    assert.equal(cache.get('k'), undefined, 'not read');
    assert.equal(cache.set('k2', entry), false, 'not written');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /mode 0644, readable by others than you: not used/);
    assert.match(warnings[0], /chmod 600/);
    assert.match(readFileSync(file, 'utf8'), /LEAKED/, 'the file is left as it was');
    assert.equal(statSync(file).mode & 0o777, 0o644);
    const state = cache.state();
    assert.equal(state.usable, false);
    chmodSync(file, 0o600);
    assert.equal(new TokenCache({ file }).get('k')?.access_token, 'LEAKED', 'usable once fixed');
  });

  test('refuses a symbolic link', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const real = join(dir, 'real.json');
    writeFileSync(real, JSON.stringify({ version: 1, entries: {} }), { mode: 0o600 });
    const file = join(dir, 'tokens.json');
    symlinkSync(real, file);
    const warnings: string[] = [];
    const cache = new TokenCache({ file, warn: (m) => warnings.push(m) });
    assert.equal(cache.set('k', { client_id: 'x', obtained_at: 1, access_token: 'A' }), false);
    assert.match(warnings[0], /symbolic link/);
    assert.equal(readFileSync(real, 'utf8'), JSON.stringify({ version: 1, entries: {} }));
  });

  test('a damaged file is reported and replaced on the next write', () => {
    const dir = freshDir();
    mkdirSync(dir);
    const file = join(dir, 'tokens.json');
    writeFileSync(file, '{not json', { mode: 0o600 });
    const warnings: string[] = [];
    const cache = new TokenCache({ file, warn: (m) => warnings.push(m) });
    assert.equal(cache.get('k'), undefined);
    assert.equal(cache.set('k', { client_id: 'x', obtained_at: 1, access_token: 'A' }), true);
    assert.equal(cache.get('k')?.access_token, 'A');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /not valid JSON/);
  });

  test('a refresh keeps what the IdP did not rotate and replaces what it did; other grants replace the entry', () => {
    const first = entryFromTokenResponse(
      { access_token: 'AT1', token_type: 'Bearer', refresh_token: 'RT1', id_token: 'ID1', expires_in: 10 },
      { clientId: 'kong', grantType: 'authorization_code', now: 100 },
    );
    const notRotated = entryFromTokenResponse(
      { access_token: 'AT2', token_type: 'Bearer', expires_in: 10 },
      { clientId: 'kong', grantType: 'refresh_token', previous: first, now: 200 },
    );
    assert.equal(notRotated.refresh_token, 'RT1');
    assert.equal(notRotated.id_token, 'ID1');
    assert.equal(notRotated.access_token, 'AT2');
    assert.equal(notRotated.expires_at, 210);
    const rotated = entryFromTokenResponse(
      { access_token: 'AT3', token_type: 'Bearer', refresh_token: 'RT2' },
      { clientId: 'kong', grantType: 'refresh_token', previous: notRotated, now: 300 },
    );
    assert.equal(rotated.refresh_token, 'RT2');
    assert.equal(rotated.expires_at, undefined, 'no expires_in: unknown expiry');
    const cc = entryFromTokenResponse(
      { access_token: 'AT4', token_type: 'Bearer' },
      { clientId: 'kong', grantType: 'client_credentials', previous: rotated, now: 400 },
    );
    assert.equal(cc.refresh_token, undefined);
    assert.equal(cc.id_token, undefined);
  });

  test('a rotated refresh token replaces the stored one in the file (update reads just before writing)', () => {
    const file = join(freshDir(), 'tokens.json');
    const cache = new TokenCache({ file });
    cache.set('k', { client_id: 'kong', access_token: 'AT1', refresh_token: 'RT1', obtained_at: 1 });
    cache.update('k', (current) =>
      entryFromTokenResponse(
        { access_token: 'AT2', token_type: 'Bearer', refresh_token: 'RT2' },
        { clientId: 'kong', grantType: 'refresh_token', previous: current },
      ),
    );
    const onDisk = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(onDisk.entries.k.refresh_token, 'RT2');
    assert.equal(onDisk.entries.k.access_token, 'AT2');
  });

  test('expiry', () => {
    assert.equal(isExpired({ client_id: 'x', obtained_at: 0, expires_at: 100 }, 99), false);
    assert.equal(isExpired({ client_id: 'x', obtained_at: 0, expires_at: 100 }, 100), true);
    assert.equal(
      isExpired({ client_id: 'x', obtained_at: 0 }, 1e12),
      false,
      'unknown expiry never expires here',
    );
  });
});
