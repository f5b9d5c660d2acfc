// `npm run demo`: what mtls-oauth does, in under a minute, on this machine alone.
//
//   1. `mtls-oauth certs init` makes a test CA and a CN=kong client certificate (a temp directory);
//   2. `mtls-oauth idp` starts the embedded IdP on 127.0.0.1 (oidc-provider, the one the tests use:
//      RFC 8705 mTLS, mtls_endpoint_aliases on a second port), registers client "kong" with that
//      certificate's subject DN and trusts that CA (its server certificate comes from it too);
//   3. `mtls-oauth smoke` proves the setup end to end;
//   4. `mtls-oauth login --no-browser`, with a headless browser playing the person who logs in.
//
// The commands run as a user runs them (the built CLI in child processes, their output as is), from
// the temp directory so that paths read like yours would. Then everything is shut down: the IdP
// stopped with Ctrl-C's signal (it exits 130), children killed if still running, the temp directory
// removed. Nothing is left behind.
// Needs a build first (`npm run demo` does it).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { authorizeAt } from '../test/helpers/idp.ts';
import { type RunningIdpCommand, startIdpCommand } from '../test/helpers/idp-command.ts';
import { completeLogin, watchForAuthorizationUrl } from '../test/helpers/user-agent.ts';

const BIN = fileURLToPath(new URL('../bin/mtls-oauth', import.meta.url));
/** A child that runs longer than this is killed and the demo fails (a hang guard, not a goal). */
const CHILD_LIMIT_MS = 60_000;

const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s);
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[22m` : s);
const say = (line = '') => process.stdout.write(`${line}\n`);

const children = new Set<ChildProcess>();
let idp: RunningIdpCommand | undefined;
let work: string | undefined;
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  await idp?.stop('SIGINT');
  if (work) rmSync(work, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup().finally(() => {
      process.exitCode = 130;
      process.exit();
    });
  });
}

/** The command as a person would type it, wrapped for reading. */
function showCommand(args: string[], env: Record<string, string> = {}): void {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  // A flag and its value stay on one line.
  const units: string[] = [...Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`), 'mtls-oauth'];
  for (let i = 0; i < args.length; i++) {
    const takesValue = args[i].startsWith('--') && i + 1 < args.length && !args[i + 1].startsWith('-');
    units.push(takesValue ? `${quote(args[i])} ${quote(args[++i])}` : quote(args[i]));
  }
  const lines: string[] = [];
  let line = '$';
  for (const w of units) {
    const next = `${line} ${w}`;
    if (next.length > 100 && line !== '$') {
      lines.push(`${line} \\`);
      line = `    ${w}`;
    } else line = next;
  }
  lines.push(line);
  say(bold(lines.join('\n')));
}

/** The environment of the demo's CLI runs: none of the user's MTLS_OAUTH_*, settings or tokens. */
function cliEnv(cwd: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MTLS_OAUTH_')) env[k] = v;
  // The demo's tokens and settings stay in the temp directory, never in the user's.
  env.MTLS_OAUTH_CACHE_DIR = join(cwd, 'cache');
  env.XDG_CONFIG_HOME = join(cwd, 'config');
  return env;
}

interface Run {
  code: number | null;
  stderr: string;
}

/**
 * Runs the built CLI in `cwd`, its stdout straight to ours; its stderr to ours as it arrives (and
 * kept, for `onStderr`).
 */
function cli(args: string[], cwd: string, onStderr?: (chunk: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: cliEnv(cwd),
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      process.stderr.write(d);
      onStderr?.(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (signal) reject(new Error(`mtls-oauth ${args[0]} was killed (${signal})`));
      else resolve({ code, stderr });
    });
  });
}

function expectExit(r: Run, code: number, what: string): void {
  if (r.code !== code) throw new Error(`${what} exited with ${r.code}, expected ${code}`);
}

async function main(): Promise<void> {
  if (!existsSync(fileURLToPath(new URL('../dist/cli/main.cjs', import.meta.url)))) {
    throw new Error('dist/ is missing: run `npm run build` first (or `npm run demo`, which does)');
  }
  const started = Date.now();
  work = mkdtempSync(join(tmpdir(), 'mtls-oauth-demo-'));
  say(bold('mtls-oauth demo'));
  say(dim(`working in ${work} (removed at the end)`));
  say();

  // 1. Certificates, made by the tool itself.
  say(bold('1. A test CA and a client certificate for "kong"'));
  const init = ['certs', 'init', '--out', 'certs'];
  showCommand(init);
  expectExit(await cli(init, work), 0, 'certs init');
  say();

  // 2. The IdP: `mtls-oauth idp` registers the certificate just made and trusts its CA.
  say(bold('2. An IdP on this machine, for those certificates'));
  const idpCommand = ['idp', '--json'];
  showCommand(idpCommand);
  idp = startIdpCommand(idpCommand, { cwd: work, env: cliEnv(work), timeoutMs: CHILD_LIMIT_MS });
  const ready = await idp.ready;
  const kong = ready.clients.tlsClientAuth;
  say(`   oidc-provider at ${ready.issuer}, mTLS endpoints (mtls_endpoint_aliases) at ${ready.mtlsUrl}`);
  say(
    `   client "${kong.clientId}" registered for tls_client_auth with tls_client_auth_subject_dn "${kong.subjectDn}"`,
  );
  say(`   client "${ready.clients.selfSigned.clientId}" registered for self_signed_tls_client_auth`);
  say('   the IdP trusts certs/ca.crt for client certificates, and its server certificate comes from it');
  say(
    dim('   (without --json it prints the MTLS_OAUTH_* variables and flags to use, and runs until Ctrl-C)'),
  );
  say();

  const idpArgs = [
    '--issuer',
    ready.issuer,
    '--client-id',
    kong.clientId,
    '--cert',
    'certs/client.crt',
    '--key',
    'certs/client.key',
    '--ca',
    'certs/ca.crt',
  ];

  // 3. smoke: the whole mTLS story, as CI runs it.
  say(bold('3. The smoke test a CI pipeline runs'));
  const smoke = ['smoke', ...idpArgs, '--junit', 'smoke.xml'];
  showCommand(smoke);
  expectExit(await cli(smoke, work), 0, 'smoke');
  say();

  // 4. login: the authorization-code flow; the demo's headless browser is the person.
  say(bold('4. Login with the authorization-code flow'));
  const login = ['login', '--no-browser', ...idpArgs];
  showCommand(login);
  const watcher = watchForAuthorizationUrl();
  const running = cli(login, work, (d) => watcher.feed(d));
  running.then(
    (r) => watcher.fail(new Error(`login ended (exit ${r.code}) before printing the authorization URL`)),
    (e) => watcher.fail(e),
  );
  const url = await watcher.url;
  process.stderr.write(dim('   (the demo plays the browser: logs in as alice at the IdP and consents)\n'));
  const ca = readFileSync(join(work, 'certs', 'ca.crt'), 'utf8');
  const browser = { authorize: (u: string, o?: object) => authorizeAt({ issuer: ready.issuer, ca }, u, o) };
  const { response } = await completeLogin(browser, url, { login: ready.user.login });
  if (response.status !== 200) throw new Error(`the callback page answered ${response.status}`);
  expectExit(await running, 0, 'login');
  say();

  // 5. The IdP stops as on Ctrl-C.
  const stopped = await idp.stop('SIGINT');
  if (stopped.code !== 130)
    throw new Error(`mtls-oauth idp exited with ${stopped.code} on SIGINT, expected 130`);

  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  say(bold(`Done in ${seconds} s.`) + ' The IdP is stopped and the temp directory removed.');
  say('Point the same commands at your IdP: docs/real-idps.md');
}

try {
  await main();
} catch (e) {
  process.stderr.write(`demo failed: ${(e as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
