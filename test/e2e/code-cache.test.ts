// The built CLI's V8 code cache (src/cli/code-cache.ts): written on a command's first run, read on
// the next, rejected and rewritten when it does not fit, never in the way. Each test runs a private
// copy of bin/ and dist/cli/, so that its cache starts empty and other tests never see it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cacheKeyFor } from '../../src/cli/code-cache.ts';
import { cleanEnv, runCli } from '../helpers/cli.ts';
import { makeTestPki } from '../helpers/pki.ts';
import { closedPort, startHttpsServer } from '../helpers/tls-servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'mtls-oauth-code-cache-'));
after(() => rmSync(work, { recursive: true, force: true }));

let copies = 0;
/** A private installation: bin/ and dist/cli/ copied; returns its paths. */
function install() {
  const dir = join(work, `install-${copies++}`);
  cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist', 'cli'), join(dir, 'dist', 'cli'), {
    recursive: true,
    filter: (src) => !src.includes('.code-cache'),
  });
  const home = join(dir, 'home');
  return {
    bin: join(dir, 'bin', 'mtls-oauth'),
    bundle: join(dir, 'dist', 'cli', 'main.cjs'),
    cacheDir: join(dir, 'dist', 'cli', '.code-cache'),
    userCacheDir: join(home, 'xdg-cache', 'mtls-oauth', 'code-cache'),
    env: (extra: NodeJS.ProcessEnv = {}) =>
      cleanEnv({
        HOME: home,
        XDG_CACHE_HOME: join(home, 'xdg-cache'),
        MTLS_OAUTH_CODE_CACHE: 'verbose',
        ...extra,
      }),
  };
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  const state = /^code cache: (\w+)/m.exec(r.stderr)?.[1];
  return { ...r, state };
}

const files = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('cacheKeyFor', () => {
  const commands = ['token', 'smoke', 'certs', 'help'];
  const key = (argv: string[]) => cacheKeyFor(argv, commands);
  it('one cache per command, its help apart', () => {
    assert.equal(key([]), 'root');
    assert.equal(key(['--help']), 'root-help');
    assert.equal(key(['--version']), 'root-help');
    assert.equal(key(['token', '--grant', 'client_credentials']), 'token');
    assert.equal(key(['--json', 'smoke']), 'smoke');
    assert.equal(key(['token', '-h']), 'token-help');
    assert.equal(key(['certs', 'init']), 'certs');
    assert.equal(key(['help']), 'help');
  });
  it('a word that is not a command never becomes part of a file name: one cache for all of them', () => {
    assert.equal(key(['../../etc/passwd']), 'other');
    assert.equal(key(['Token']), 'other');
    assert.equal(key(['tokn']), 'other');
    assert.equal(key(['frobnicate', '--help']), 'other-help');
    assert.equal(key(['a'.repeat(40)]), 'other');
  });
});

describe('the code cache of the built CLI', () => {
  it('first run writes it (private files), the next reads it; the output is the same', () => {
    const i = install();
    // --help alone prints a page the build rendered (src/cli/help-page.ts): no bundle, no cache.
    const page = run(i.bin, ['--help'], i.env());
    assert.equal(page.status, 0, page.stderr);
    assert.equal(page.state, undefined);
    assert.deepEqual(files(i.cacheDir), []);
    const first = run(i.bin, ['help'], i.env());
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.state, 'miss');
    const written = files(i.cacheDir);
    assert.equal(written.length, 1, written.join(' '));
    // `help` (commander's help command) runs the CLI; --help alone prints a page and loads no
    // bundle (src/cli/help-page.ts), so it needs no cache.
    assert.match(written[0], /^main\.help\.v\d+\.\d+\.\d+-\w+-[0-9a-f]{16}\.v8$/);
    assert.equal(statSync(join(i.cacheDir, written[0])).mode & 0o777, 0o600);
    assert.equal(statSync(i.cacheDir).mode & 0o777, 0o700);

    const second = run(i.bin, ['help'], i.env());
    assert.equal(second.state, 'hit');
    assert.equal(second.stdout, first.stdout);
    // Another command has its own cache.
    const help = run(i.bin, ['token', '--help', '--no-color'], i.env());
    assert.equal(help.status, 0, help.stderr);
    assert.equal(help.state, 'miss');
    assert.match(help.stdout, /^Usage: mtls-oauth token/);
    assert.equal(files(i.cacheDir).length, 2);
  });

  // A run that loads undici sets V8 flags for its WebAssembly (src/core/transport/wasm-flags.ts);
  // V8 rejects a cache made under other flags, so boot must set the same ones before compiling,
  // or every such run would compile from scratch. And a run that stops early (here: a refused
  // connection, exit 3) compiled only part of the command: it leaves no cache, so that it does not
  // set the speed of every later run; the first run that goes through writes it.
  it('a run that fails early leaves no cache; one that goes through does, and the next reads it', async () => {
    const pki = await makeTestPki();
    const server = await startHttpsServer({ cert: pki.server.cert, key: pki.server.key });
    const i = install();
    const ca = join(dirname(i.bundle), '..', '..', 'ca.crt');
    writeFileSync(ca, pki.ca.cert);
    const stateOf = (r: { stderr: string }) => /^code cache: (\w+)/m.exec(r.stderr)?.[1];
    try {
      const refused = await runCli(['tls', `https://127.0.0.1:${await closedPort()}/`, '--ca', ca], {
        script: i.bin,
        env: i.env(),
      });
      assert.equal(refused.code, 3, refused.stderr);
      assert.equal(stateOf(refused), 'miss');
      assert.deepEqual(files(i.cacheDir), [], 'no cache from a run that stopped early');
      const probe = ['tls', `${server.url}/`, '--ca', ca];
      const first = await runCli(probe, { script: i.bin, env: i.env() });
      assert.ok(first.code === 0 || first.code === 1, first.stderr);
      assert.equal(stateOf(first), 'miss');
      assert.equal(files(i.cacheDir).length, 1);
      const second = await runCli(probe, { script: i.bin, env: i.env() });
      assert.equal(second.code, first.code, second.stderr);
      assert.equal(stateOf(second), 'hit');
      assert.equal(second.stdout.replace(/[\d.]+ ms/g, ''), first.stdout.replace(/[\d.]+ ms/g, ''));
    } finally {
      await server.close();
    }
  });

  // Libraries only some commands use are files of their own (src/cli/chunks.ts): a run that needs
  // one loads it through the same code cache, under its command's name; other runs never read it.
  it('a chunked library loads at first use, with a code cache of its own; other runs never load it', () => {
    const i = install();
    const out = join(dirname(i.bundle), '..', '..', 'made-certs');
    const states = (r: { stderr: string }) =>
      [...r.stderr.matchAll(/^code cache: (\w+) ?(\S*)/gm)].map((m) => `${m[1]} ${basename(m[2] ?? '')}`);
    const first = run(i.bin, ['certs', 'init', '--out', out], i.env());
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(
      states(first).map((s) => s.split(' ')[0]),
      ['miss', 'miss'],
      'the bundle and the node-forge chunk, both compiled',
    );
    const written = files(i.cacheDir);
    assert.equal(written.length, 2, written.join(' '));
    assert.match(written[0], /^chunk-forge\.certs\.v\d+\.\d+\.\d+-\w+-[0-9a-f]{16}\.v8$/);
    const again = run(i.bin, ['certs', 'inspect', join(out, 'client.crt')], i.env());
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /CN=kong/);
    assert.deepEqual(states(again), [`hit ${written[1]}`, `hit ${written[0]}`]);
    // `help` loads every command's module (render-token.ts imports jose) but no chunk.
    const help = run(i.bin, ['help'], i.env());
    assert.equal(help.status, 0, help.stderr);
    assert.equal(states(help).length, 1, help.stderr);
    assert.equal(files(i.cacheDir).filter((f) => f.startsWith('chunk-')).length, 1);
  });

  it('a damaged cache is rejected, the command still works, and the cache is written again', () => {
    const i = install();
    run(i.bin, ['help'], i.env());
    const [name] = files(i.cacheDir);
    writeFileSync(join(i.cacheDir, name), Buffer.alloc(4096, 7));
    const r = run(i.bin, ['help'], i.env());
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.state, 'rejected');
    assert.match(r.stdout, /^Usage: mtls-oauth /);
    assert.equal(run(i.bin, ['help'], i.env()).state, 'hit');
  });

  it("another build never meets this one's bytecode, and its old caches are dropped", () => {
    const i = install();
    run(i.bin, ['help'], i.env());
    const [before] = files(i.cacheDir);
    // What a rebuild changes for the loader: the bundle hash the build writes into boot.cjs.
    const boot = join(dirname(i.bundle), 'boot.cjs');
    const text = readFileSync(boot, 'latin1');
    const hash = /"([0-9a-f]{16})"/.exec(text)?.[1];
    assert.ok(hash && before.includes(hash), `${before} carries the build's hash`);
    writeFileSync(boot, text.replace(`"${hash}"`, '"0123456789abcdef"'));
    const r = run(i.bin, ['help'], i.env());
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.state, 'miss');
    const after = files(i.cacheDir);
    assert.equal(after.length, 1, after.join(' '));
    assert.match(after[0], /-0123456789abcdef\.v8$/);
  });

  it('MTLS_OAUTH_CODE_CACHE=off reads and writes nothing', () => {
    const i = install();
    const r = run(i.bin, ['help'], i.env({ MTLS_OAUTH_CODE_CACHE: 'off' }));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.deepEqual(files(i.cacheDir), []);
    assert.deepEqual(files(i.userCacheDir), []);
  });

  it('beside the bundle when it can, else in the user cache directory; nowhere when neither works', () => {
    const i = install();
    // A file where the cache directory would be: that place cannot take a cache.
    writeFileSync(i.cacheDir, 'not a directory');
    assert.equal(run(i.bin, ['help'], i.env()).state, 'miss');
    assert.equal(files(i.userCacheDir).length, 1);
    assert.equal(run(i.bin, ['help'], i.env()).state, 'hit');

    const j = install();
    writeFileSync(j.cacheDir, 'not a directory');
    const blocked = join(work, `blocked-${copies}`);
    writeFileSync(blocked, 'not a directory either');
    const r = run(j.bin, ['help'], j.env({ XDG_CACHE_HOME: blocked }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: mtls-oauth /);
    assert.equal(run(j.bin, ['help'], j.env({ XDG_CACHE_HOME: blocked })).state, 'miss');
  });
});
