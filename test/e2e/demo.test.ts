// `npm run demo` runs to completion: exit 0, the output a person should see (certs init, `mtls-oauth
// idp`, smoke, login), its temp directory removed (the IdP stopped with SIGINT, exit 130), and no
// process left behind (the demo runs in a process group of its own; when it has exited, nothing
// may remain in that group).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { assertNoStack, cleanEnv } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A hang guard, not a speed assertion: the demo is killed after this and the test fails. */
const HANG_GUARD_MS = 120_000;

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

test('npm run demo: certs, an IdP, smoke and login; then nothing left behind', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], {
    cwd: ROOT,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: everything it starts is in it
  });
  const pgid = child.pid!;
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  const guard = setTimeout(() => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {}
  }, HANG_GUARD_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  clearTimeout(guard);

  try {
    assert.equal(signal, null, `killed by ${signal}:\n${stdout}\n${stderr}`);
    assert.equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
    assertNoStack({ code, signal, stdout, stderr });
    assert.match(stdout, /^\$ mtls-oauth certs init --out certs$/m);
    assert.match(stdout, /^Created a test CA and a client certificate for CN=kong in certs\/$/m);
    assert.match(stdout, /^\$ mtls-oauth idp --json$/m);
    assert.match(stdout, /tls_client_auth_subject_dn "CN=kong"/);
    assert.match(stdout, /^\$ mtls-oauth smoke --issuer https:\/\/127\.0\.0\.1:\d+ /m);
    for (const step of [
      'discovery',
      'tls',
      'token',
      'binding',
      'introspect',
      'revoke',
      'introspect-after-revoke',
    ]) {
      assert.match(stdout, new RegExp(`^  ${step} +✓ pass `, 'm'), step);
    }
    assert.match(stdout, /^7 steps: 7 passed, in \d+ ms$/m);
    assert.match(stdout, /^\$ mtls-oauth login --no-browser /m);
    assert.match(stdout, /^✓ logged in at https:\/\/127\.0\.0\.1:\d+ as alice$/m);
    assert.match(stdout, /binding +bound to our certificate/);
    assert.match(stdout, /^Done in [\d.]+ s\. The IdP is stopped and the temp directory removed\.$/m);
    assert.match(stderr, /^Open this URL in a browser to log in:$/m);

    const work = /^working in (\S+) \(removed at the end\)$/m.exec(stdout)?.[1];
    assert.ok(work, 'the demo names its temp directory');
    assert.equal(existsSync(work), false, `${work} was removed`);
  } finally {
    // Nothing of the demo's may outlive it. A helper process (tsx's esbuild service) may need a
    // moment to see its pipe close: wait for it, within a bound, then kill whatever is left.
    let alive = groupAlive(pgid);
    for (let i = 0; alive && i < 50; i++) {
      await sleep(100);
      alive = groupAlive(pgid);
    }
    if (alive) process.kill(-pgid, 'SIGKILL');
    assert.equal(alive, false, 'no process of the demo is left');
  }
});
