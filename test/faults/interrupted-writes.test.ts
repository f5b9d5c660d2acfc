// Nothing is lost: a write interrupted at any point (SIGINT, SIGTERM) leaves either the old files or
// the new ones, never half a set and no temporary files; an unwritable directory (a full disk, as
// far as the tool can tell) leaves the old files exactly as they were.
//
// Random points: child processes killed after a random delay, in a bounded loop. Two kinds of child:
// a loop that does nothing but write (test/faults/write-loop.ts: nearly every kill lands inside a
// write), and the real `certs init --force` over an existing set (kills land anywhere in its run).

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, type CliResult, cleanEnv, runCli } from '../helpers/cli.ts';
import { startIdp, type TestIdp, writePkiFiles } from '../helpers/idp.ts';
import { binForNobody, isRoot, NOBODY, removeNobodyCopy } from '../helpers/unprivileged.ts';

const ITERATIONS = 20;
const LOOP = fileURLToPath(new URL('./write-loop.ts', import.meta.url));
const SET = ['ca.crt', 'ca.key', 'client.crt', 'client.key', 'client.jwks.json'];
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

const root = mkdtempSync(join(tmpdir(), 'mtls-oauth-interrupt-'));
chmodSync(root, 0o755); // the unprivileged runs below must reach into it
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `d${n++}`);
  mkdirSync(d, { mode: 0o755 });
  return d;
};

/** Temporary or backup files left next to the targets (files.ts names them .NAME.HEX.tmp / .bak). */
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.'));

function waitFor(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(text)) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before "${text}"`)));
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `count` cases, `width` at a time. */
async function inBatches(count: number, width: number, one: (i: number) => Promise<void>) {
  for (let i = 0; i < count; i += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, j) => one(i + j)));
  }
}

describe('a writer killed at random points (write-loop.ts)', () => {
  async function killLoop(mode: 'set' | 'cache', i: number) {
    const dir = fresh();
    const child = spawn(process.execPath, ['--import', 'tsx', LOOP, mode, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await waitFor(child, 'ready');
      await sleep(Math.random() * 40);
      const signal = SIGNALS[i % 2];
      child.kill(signal);
      const end = await exited(child);
      assert.equal(
        end.signal,
        signal,
        `the ${signal} still ends the writer (after the write), got ${JSON.stringify(end)}`,
      );
    } finally {
      clearTimeout(guard);
      child.kill('SIGKILL');
    }
    assert.deepEqual(leftovers(dir), [], 'no temporary files');
    if (mode === 'set') {
      const gens = SET.map((f) => readFileSync(join(dir, f), 'utf8').split('\n')[0]);
      assert.equal(new Set(gens).size, 1, `one generation across the set, got ${gens.join(', ')}`);
      assert.equal(statSync(join(dir, 'client.key')).mode & 0o777, 0o600);
    } else {
      const doc = JSON.parse(readFileSync(join(dir, 'tokens.json'), 'utf8'));
      const kong = doc.entries.kong;
      assert.ok(kong.access_token.startsWith(`at-${kong.obtained_at}-`), 'one whole entry');
      assert.equal(kong.access_token.length, `at-${kong.obtained_at}-`.length + 16 * 1024);
      assert.equal(doc.entries.other?.client_id, 'other', 'the other entry survived every rewrite');
      assert.equal(statSync(join(dir, 'tokens.json')).mode & 0o777, 0o600);
    }
  }

  test(`a set of five files (writeFilesAtomicAsync): ${ITERATIONS} kills, SIGINT and SIGTERM`, async () => {
    await inBatches(ITERATIONS, 5, (i) => killLoop('set', i));
  });

  test(`the token cache (TokenCache.set): ${ITERATIONS} kills, SIGINT and SIGTERM`, async () => {
    await inBatches(ITERATIONS, 5, (i) => killLoop('cache', i));
  });
});

describe('certs init --force killed at random points', () => {
  let template: string;
  let duration = 300;

  before(async () => {
    template = fresh();
    const r = await runCli(['certs', 'init', '--out', template], { cwd: template });
    assert.equal(r.code, 0, r.stderr);
    const t0 = performance.now();
    const again = await runCli(['certs', 'init', '--out', template, '--force'], { cwd: template });
    assert.equal(again.code, 0, again.stderr);
    duration = performance.now() - t0; // where the kills land: anywhere in a whole run
  });

  /** The set in `dir` is whole and consistent: one CA, its client, their keys, the JWKS of that client. */
  function assertWholeSet(dir: string): string {
    assert.deepEqual(leftovers(dir), [], 'no temporary files');
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    const client = new X509Certificate(readFileSync(join(dir, 'client.crt')));
    assert.ok(client.verify(ca.publicKey), 'client.crt is signed by ca.crt');
    assert.ok(
      ca.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'ca.key')))),
      'ca.key belongs to ca.crt',
    );
    assert.ok(
      client.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'client.key')))),
      'client.key belongs to client.crt',
    );
    const jwks = JSON.parse(readFileSync(join(dir, 'client.jwks.json'), 'utf8'));
    assert.equal(jwks.keys[0].x5c[0], client.raw.toString('base64'), 'the JWKS is of this client.crt');
    for (const k of ['ca.key', 'client.key']) assert.equal(statSync(join(dir, k)).mode & 0o777, 0o600);
    return ca.fingerprint256;
  }

  test(`${ITERATIONS} runs, each killed (SIGINT or SIGTERM) after a random delay: old set or new set, never half`, async () => {
    const oldCa = assertWholeSet(template);
    const outcomes = { old: 0, new: 0 };
    await inBatches(ITERATIONS, 5, async (i) => {
      const dir = fresh();
      cpSync(template, dir, { recursive: true });
      const child = spawn(process.execPath, [BIN, 'certs', 'init', '--out', dir, '--force'], {
        cwd: dir,
        env: cleanEnv({ HOME: dir }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.resume();
      child.stderr.resume();
      const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await sleep(Math.random() * duration * 1.2);
      child.kill(SIGNALS[i % 2]);
      const end = await exited(child);
      clearTimeout(guard);
      assert.ok(
        end.code === 0 || end.signal === SIGNALS[i % 2],
        `ended by the signal or finished: ${JSON.stringify(end)}`,
      );
      const ca = assertWholeSet(dir);
      outcomes[ca === oldCa ? 'old' : 'new']++;
    });
    assert.equal(outcomes.old + outcomes.new, ITERATIONS);
  });
});

describe('an unwritable directory (a full disk, as far as the tool can tell)', () => {
  const asRoot = isRoot();
  after(removeNobodyCopy);
  /** Runs the CLI as nobody when the tests run as root (root writes anywhere). */
  const runAs = (args: string[], cwd: string, env: NodeJS.ProcessEnv) =>
    new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [asRoot ? binForNobody() : BIN, ...args], {
        cwd,
        env: cleanEnv(env),
        ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d) => {
        stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d) => {
        stderr += d;
      });
      const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, stdout, stderr });
      });
    });
  /** Hands a tree to nobody (when root), so that only the permissions decide. */
  const giveAway = (path: string) => {
    if (!asRoot) return;
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path]);
  };
  const snapshot = (dir: string) =>
    Object.fromEntries(
      readdirSync(dir).map((f) => [f, [readFileSync(join(dir, f), 'latin1'), statSync(join(dir, f)).mode]]),
    );

  test('certs init --force into a read-only directory: exit 2, the old files untouched, nothing added', async () => {
    const dir = fresh();
    const r0 = await runCli(['certs', 'init', '--out', dir], { cwd: dir });
    assert.equal(r0.code, 0, r0.stderr);
    giveAway(dir);
    chmodSync(dir, 0o555);
    const before = snapshot(dir);
    const r = await runAs(['certs', 'init', '--out', dir, '--force'], dir, { HOME: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: cannot write .*: permission denied$/m);
    assert.match(r.stderr, /^hint: /m);
    assert.deepEqual(snapshot(dir), before);
    chmodSync(dir, 0o755);
  });

  describe('the token cache in a directory that cannot be written', () => {
    let idp: TestIdp;
    before(async () => {
      idp = await startIdp({ aliases: true });
    });
    after(() => idp.close());

    test('token still works (exit 0) and warns; the old cache file stays as it was', async () => {
      const home = fresh();
      const pki = writePkiFiles(idp.pki, join(home, 'pki'));
      const cacheDir = join(home, 'cache');
      const env = { HOME: home, MTLS_OAUTH_CACHE_DIR: cacheDir };
      const args = [
        'token',
        '--issuer',
        idp.issuer,
        '--client-id',
        'kong',
        '--cert',
        pki.clientCert,
        '--key',
        pki.clientKey,
        '--ca',
        pki.ca,
      ];
      giveAway(home);
      const first = await runAs(args, home, env);
      assert.equal(first.code, 0, first.stderr);
      const file = join(cacheDir, 'tokens.json');
      const before = readFileSync(file, 'utf8');
      chmodSync(cacheDir, 0o500);
      const r = await runAs(args, home, env);
      chmodSync(cacheDir, 0o700);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /✓ token for kong/);
      assert.match(
        r.stderr,
        /warning: token cache .*tokens\.json could not be written: cannot write .*: permission denied; the tokens were not cached/,
      );
      assert.equal(readFileSync(file, 'utf8'), before, 'the old cache is intact');
      assert.deepEqual(leftovers(cacheDir), []);
    });
  });
});
