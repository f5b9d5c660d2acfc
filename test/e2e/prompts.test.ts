// The CLI at a real terminal: `script` (util-linux) runs it on a pseudo-terminal and the test types
// into it, as a person would. Passwords are asked on stderr, read without echo, confirmed when a
// file is created with them; a mismatch or Ctrl-C leaves nothing behind. A spinner never hangs,
// whatever width the terminal reports.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, cleanEnv } from '../helpers/cli.ts';
import { makeTestPki } from '../helpers/pki.ts';
import { type Running, startHttpsServer } from '../helpers/tls-servers.ts';

const hasScript = spawnSync('script', ['--version']).status === 0;
const skip = hasScript ? false : 'needs script(1) from util-linux for a pseudo-terminal';

/** Not a speed assertion: a run that hangs is killed after this and the test fails. */
const HANG_GUARD_MS = 30_000;

interface Answer {
  /** Typed once the terminal shows this (since the previous answer). */
  after: RegExp;
  send: string;
}

interface TerminalRun {
  code: number | null;
  /** Everything the terminal showed (stdout and stderr of the CLI, as a person sees them). */
  screen: string;
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs the built CLI on a pseudo-terminal (`columns` wide, or reporting no width) and types `answers`. */
function runInTerminal(
  args: string[],
  answers: Answer[],
  { env = cleanEnv(), columns }: { env?: NodeJS.ProcessEnv; columns?: number } = {},
): Promise<TerminalRun> {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const shell = columns ? `stty cols ${columns} rows 40; exec ${command}` : `exec ${command}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', shell, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let seen = 0;
    const pending = [...answers];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      screen += d;
      const next = pending[0];
      if (next?.after.test(screen.slice(seen))) {
        pending.shift();
        seen = screen.length;
        child.stdin.write(next.send);
      }
    });
    child.stderr.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, screen });
    });
  });
}

const work = mkdtempSync(join(tmpdir(), 'mtls-oauth-prompts-'));
after(() => rmSync(work, { recursive: true, force: true }));
let dirs = 0;
const outDir = () => join(work, `out-${++dirs}`);
const PASSWORD = 'correct horse battery';

describe('certs init --p12 at a terminal', { skip }, () => {
  test('the password is asked twice, never echoed, and protects the PKCS#12 file (openssl agrees)', async () => {
    const out = outDir();
    const r = await runInTerminal(
      ['certs', 'init', '--out', out, '--p12'],
      [
        { after: /Password for .*client\.p12: $/, send: `${PASSWORD}\r` },
        { after: /\(again\): $/, send: `${PASSWORD}\r` },
      ],
    );
    assert.equal(r.code, 0, r.screen);
    assert.ok(!r.screen.includes(PASSWORD), 'the password is not echoed');
    assert.match(r.screen, /Created a test CA and a client certificate/);
    const check = spawnSync(
      'openssl',
      ['pkcs12', '-in', join(out, 'client.p12'), '-passin', 'env:PW', '-noout'],
      {
        env: { ...process.env, PW: PASSWORD },
        encoding: 'utf8',
      },
    );
    assert.equal(check.status, 0, check.stderr);
  });

  test('two different entries: exit 2, and nothing is written', async () => {
    const out = outDir();
    const r = await runInTerminal(
      ['certs', 'init', '--out', out, '--p12'],
      [
        { after: /Password for .*client\.p12: $/, send: `${PASSWORD}\r` },
        { after: /\(again\): $/, send: 'something else\r' },
      ],
    );
    assert.equal(r.code, 2, r.screen);
    assert.match(r.screen, /error: the two entries differ; nothing was written/);
    assert.doesNotMatch(r.screen, /at .*\.(c?js|ts):\d+/, 'no stack trace');
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no files');
  });

  test('Ctrl-C at the prompt: exit 130, and nothing is written', async () => {
    const out = outDir();
    const r = await runInTerminal(
      ['certs', 'init', '--out', out, '--p12'],
      [{ after: /Password for .*client\.p12: $/, send: 'half typed\u0003' }],
    );
    assert.equal(r.code, 130, r.screen);
    assert.ok(!r.screen.includes('half typed'), 'nothing echoed');
    assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no files');
  });

  test('a terminal 100 columns wide: the spinner runs and stops, the files are there', async () => {
    const out = outDir();
    const r = await runInTerminal(['certs', 'init', '--out', out, '--key-type', 'rsa-2048'], [], {
      env: cleanEnv({ NO_COLOR: undefined, CI: undefined }),
      columns: 100,
    });
    assert.equal(r.code, 0, r.screen);
    assert.match(r.screen, /Generating two rsa-2048 keys/);
    assert.ok(existsSync(join(out, 'client.key')));
  });
});

describe('token --grant password at a terminal', { skip }, () => {
  let server: Running;
  let ca: string;
  const bodies: string[] = [];

  before(async () => {
    const pki = await makeTestPki();
    ca = join(work, 'server-ca.crt');
    writeFileSync(ca, pki.ca.cert);
    server = await startHttpsServer({
      cert: pki.server.cert,
      key: pki.server.key,
      handler: (req, res) => {
        let body = '';
        req.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        req.on('end', () => {
          bodies.push(body);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: 'a'.repeat(32), token_type: 'Bearer', expires_in: 60 }));
        });
      },
    });
  });
  after(() => server?.close());

  test('the password is asked on the terminal, not echoed, and sent as the grant asks', async () => {
    const args = [
      'token',
      '--grant',
      'password',
      '--username',
      'alice',
      '--client-id',
      'kong',
      '--token-endpoint',
      `${server.url}/token`,
      '--ca',
      ca,
      '--no-cache',
      '--no-introspect',
    ];
    const r = await runInTerminal(args, [{ after: /Password for alice: $/, send: `${PASSWORD}\r` }], {
      env: cleanEnv({ MTLS_OAUTH_CLIENT_SECRET: 's3cret', MTLS_OAUTH_CACHE_DIR: join(work, 'cache') }),
    });
    assert.equal(r.code, 0, r.screen);
    assert.ok(!r.screen.includes(PASSWORD), 'the password is not echoed');
    const form = new URLSearchParams(bodies.at(-1));
    assert.equal(form.get('grant_type'), 'password');
    assert.equal(form.get('username'), 'alice');
    assert.equal(form.get('password'), PASSWORD);
  });
});
