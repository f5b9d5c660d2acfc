// `mtls-oauth idp` through the built CLI: after `certs init` in a fresh home, the embedded IdP
// starts, prints one ready line (--json) or the instructions, serves what it printed — `smoke` with
// the printed MTLS_OAUTH_* variables, self_signed_tls_client_auth, a `login` with the scripted user
// agent — and stops on SIGINT/SIGTERM with exit 130, leaving nothing behind. Bad input: exit 2, one
// message and a hint, no stack trace.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertCleanFailure, assertNoStack, jsonOf } from '../helpers/cli.ts';
import { authorizeAt } from '../helpers/idp.ts';
import { type RunningIdpCommand, startIdpCommand } from '../helpers/idp-command.ts';
import { type CliHome, cliHome } from '../helpers/idp-fixture.ts';
import { completeLogin, startLogin } from '../helpers/user-agent.ts';

/** Hang guards, not speed assertions. */
const CHILD_LIMIT_MS = 60_000;

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Every path under `dir`, sorted. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('mtls-oauth idp', () => {
  let home: CliHome;
  const running: RunningIdpCommand[] = [];
  const start = (args: string[], env?: NodeJS.ProcessEnv) => {
    const r = startIdpCommand(['idp', ...args], {
      cwd: home.home,
      env: home.env(env),
      timeoutMs: CHILD_LIMIT_MS,
    });
    running.push(r);
    return r;
  };

  before(async () => {
    home = cliHome('mtls-oauth-idp-cmd-');
    const init = await home.run(['certs', 'init']);
    assert.equal(init.code, 0, init.stderr);
  });
  after(async () => {
    for (const r of running) await r.stop('SIGKILL');
    home.remove();
  });

  it('--json: one ready line; smoke, self_signed_tls_client_auth and login work as printed; SIGINT: exit 130, nothing left', async () => {
    const before = tree(home.home);
    const idp = start(['--json']);
    const ready = await idp.ready;

    assert.equal(ready.status, 'ready');
    assert.match(ready.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(ready.mtlsEndpointAliases.token_endpoint, `${ready.mtlsUrl}/token`);
    assert.deepEqual(ready.clients, {
      tlsClientAuth: { clientId: 'kong', subjectDn: 'CN=kong' },
      selfSigned: { clientId: 'kong-self-signed' },
    });
    assert.deepEqual(ready.env, {
      MTLS_OAUTH_ISSUER: ready.issuer,
      MTLS_OAUTH_CLIENT_ID: 'kong',
      MTLS_OAUTH_CERT: join(home.home, 'certs', 'client.crt'),
      MTLS_OAUTH_KEY: join(home.home, 'certs', 'client.key'),
      MTLS_OAUTH_CA: join(home.home, 'certs', 'ca.crt'),
    });
    assert.equal(ready.user.login, 'alice');

    // smoke with nothing but the printed environment.
    const smoke = await home.run(['smoke'], { env: ready.env });
    assert.equal(smoke.code, 0, `${smoke.stdout}\n${smoke.stderr}`);
    assert.match(smoke.stdout, /^7 steps: 7 passed, in \d+ ms$/m);
    assert.match(smoke.stdout, /token +✓ pass .*\(mtls alias\)/);

    // smoke with the printed flags instead.
    const flags = await home.run(['smoke', '--steps', 'token,binding', ...ready.args]);
    assert.equal(flags.code, 0, flags.stderr);

    // The second client: the same certificate, self_signed_tls_client_auth.
    const self = await home.run(
      [
        'token',
        '--client-id',
        ready.clients.selfSigned.clientId,
        '--auth',
        'self_signed_tls_client_auth',
        '--json',
      ],
      { env: ready.env },
    );
    assert.equal(self.code, 0, self.stderr);
    const binding = jsonOf(self).checks.find((c) => c.name === 'binding');
    assert.equal(binding?.status, 'pass', JSON.stringify(binding));

    // login: the authorization-code flow, the scripted user agent as the person at the browser.
    const login = startLogin(['login', '--no-browser'], home.env(ready.env), CHILD_LIMIT_MS);
    const url = await login.url;
    const ca = readFileSync(ready.env.MTLS_OAUTH_CA, 'utf8');
    const { response } = await completeLogin(
      { authorize: (u, o) => authorizeAt({ issuer: ready.issuer, ca }, u, o) },
      url,
      { login: ready.user.login },
    );
    assert.equal(response.status, 200);
    const done = await login.done;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^✓ logged in at https:\/\/127\.0\.0\.1:\d+ as alice$/m);

    const r = await idp.stop('SIGINT');
    assert.equal(r.code, 130, r.stderr);
    assert.equal(r.signal, null);
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, `one line on stdout:\n${r.stdout}`);
    assertNoStack(r);
    assert.equal(await listening(ready.port), false, 'the issuer port is closed');
    assert.equal(await listening(ready.mtlsPort), false, 'the mTLS port is closed');
    // The IdP wrote nothing (the token cache is the clients' own, from smoke/token/login).
    const added = tree(home.home).filter((p) => !before.includes(p) && !p.startsWith('cache'));
    assert.deepEqual(added, []);
  });

  it('human output: the issuer, the export line, the flags, the test user and next steps; SIGTERM: exit 130', async () => {
    const idp = start(['--port', '0']);
    // The human form ends with the Ctrl-C line: wait for it on stdout.
    for (let i = 0; i < 600 && !/Ctrl-C stops it/.test(idp.stdout()); i++) {
      if (idp.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const out = idp.stdout();
    const issuer = /running at (https:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
    assert.ok(issuer, out);
    const certs = join(home.home, 'certs');
    assert.match(
      out,
      new RegExp(
        `^  export MTLS_OAUTH_ISSUER=${issuer} MTLS_OAUTH_CLIENT_ID=kong MTLS_OAUTH_CERT=${certs}/client.crt MTLS_OAUTH_KEY=${certs}/client.key MTLS_OAUTH_CA=${certs}/ca.crt$`,
        'm',
      ),
    );
    assert.match(
      out,
      new RegExp(
        `^  mtls-oauth smoke --issuer ${issuer} --client-id kong --cert ${certs}/client.crt --key ${certs}/client.key --ca ${certs}/ca.crt$`,
        'm',
      ),
    );
    assert.match(out, /^ {2}client +kong: tls_client_auth, subject DN "CN=kong"$/m);
    assert.match(out, /^ {2}client +kong-self-signed: self_signed_tls_client_auth/m);
    assert.match(out, /^ {2}test user +alice \/ alice/m);
    assert.match(out, /^ {2}mtls-oauth login /m);
    assert.match(out, /issued by certs\/ca\.crt \(in memory\)/);

    // Requests are shown on stderr as they come.
    const disc = await home.run(['discover', issuer!, '--ca', join(certs, 'ca.crt')]);
    assert.equal(disc.code, 0, disc.stderr);
    const r = await idp.stop('SIGTERM');
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /plain GET \/\.well-known\/openid-configuration/);
    assert.match(r.stderr, /^terminated: the IdP is stopped$/m);
  });

  it('--server-cert/--server-key: serves that certificate (here one `certs issue --server` made); --client-id', async () => {
    const issue = await home.run([
      'certs',
      'issue',
      '--ca-cert',
      'certs/ca.crt',
      '--ca-key',
      'certs/ca.key',
      '--server',
      '--cn',
      'localhost',
      '--san',
      'dns:localhost,ip:127.0.0.1',
      '--out',
      'server',
      '--name',
      'idp',
    ]);
    assert.equal(issue.code, 0, issue.stderr);
    const idp = start([
      '--json',
      '--server-cert',
      'server/idp.crt',
      '--server-key',
      'server/idp.key',
      '--client-id',
      'gateway',
    ]);
    const ready = await idp.ready;
    assert.deepEqual(ready.clients, {
      tlsClientAuth: { clientId: 'gateway', subjectDn: 'CN=kong' },
      selfSigned: { clientId: 'gateway-self-signed' },
    });
    assert.equal(ready.serverCertificate.file, 'server/idp.crt');
    assert.equal(
      ready.env.MTLS_OAUTH_CA,
      join(home.home, 'certs', 'ca.crt'),
      'issued by the CA: trust the CA',
    );
    const smoke = await home.run(['smoke', '--steps', 'tls,token'], { env: ready.env });
    assert.equal(smoke.code, 0, `${smoke.stdout}\n${smoke.stderr}`);
    assert.equal((await idp.stop('SIGINT')).code, 130);
  });

  it('an encrypted CA key: the passphrase from --ca-key-passphrase-env, else exit 2 (no terminal to ask on)', async () => {
    const enc = spawnSync(
      'openssl',
      ['pkcs8', '-topk8', '-in', 'certs/ca.key', '-out', 'ca-encrypted.key', '-passout', 'env:CA_PASS'],
      { cwd: home.home, env: { ...process.env, CA_PASS: 'correct horse' }, encoding: 'utf8' },
    );
    assert.equal(enc.status, 0, enc.stderr);
    const idp = start(['--json', '--ca-key', 'ca-encrypted.key', '--ca-key-passphrase-env', 'CA_PASS'], {
      CA_PASS: 'correct horse',
    });
    assert.equal((await idp.ready).clients.tlsClientAuth.clientId, 'kong');
    assert.equal((await idp.stop('SIGINT')).code, 130);

    const r = await home.run(['idp', '--ca-key', 'ca-encrypted.key']);
    assertCleanFailure(
      r,
      2,
      /^error: the passphrase for ca-encrypted\.key is needed, and there is no terminal to ask it on$/m,
    );
    assert.match(
      r.stderr,
      /^hint: name an environment variable that holds it: --ca-key-passphrase-env VAR$/m,
    );
  });

  describe('bad input: exit 2, a message and a hint, nothing started', () => {
    it('no certificates: tells the user to run certs init', async () => {
      const empty = cliHome('mtls-oauth-idp-empty-');
      try {
        const r = await empty.run(['idp']);
        assertCleanFailure(r, 2, /^error: no client certificate at \.\/certs\/client\.crt$/m);
        assert.match(r.stderr, /^hint: run `mtls-oauth certs init` first .*or give --cert FILE$/m);
        const j = jsonOf(await empty.run(['idp', '--json']));
        assert.equal(j.ok, false);
        assert.equal(j.error?.code, 'INPUT_UNREADABLE');
      } finally {
        empty.remove();
      }
    });

    it('a port in use', async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as { port: number }).port;
      try {
        const r = await home.run(['idp', '--port', String(port)]);
        assertCleanFailure(
          r,
          2,
          new RegExp(`^error: port ${port} on 127\\.0\\.0\\.1 is already in use$`, 'm'),
        );
        assert.match(r.stderr, /^hint: choose another --port/m);
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    it('unreadable or wrong files, a bad port, half a server certificate', async () => {
      writeFileSync(join(home.home, 'not-a-cert.crt'), 'hello\n');
      const cases: Array<[string[], RegExp]> = [
        [['--cert', 'certs'], /^error: cannot read client certificate certs: it is a directory$/m],
        [['--cert', 'not-a-cert.crt'], /^error: not-a-cert\.crt is not a valid X\.509 certificate$/m],
        [['--ca-cert', 'missing/ca.crt'], /^error: no CA certificate at missing\/ca\.crt$/m],
        [['--port', 'http'], /^error: --port "http" is not a port number \(0 to 65535\)$/m],
        [['--port', '70000'], /^error: --port "70000" is not a port number/m],
        [
          ['--server-cert', 'certs/client.crt'],
          /^error: give both --server-cert and --server-key, or neither$/m,
        ],
        [
          ['--server-cert', 'certs/ca.crt', '--server-key', 'certs/client.key'],
          /^error: certs\/client\.key is not the private key of certs\/ca\.crt$/m,
        ],
      ];
      for (const [args, message] of cases) {
        const r = await home.run(['idp', ...args]);
        assertCleanFailure(r, 2, message);
        assert.match(r.stderr, /^hint: /m, args.join(' '));
        assert.equal(r.stdout, '', 'nothing on stdout');
      }
    });
  });

  it('--help ends with examples', async () => {
    const r = await home.run(['idp', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: mtls-oauth idp \[options\]/);
    assert.match(r.stdout, /Examples:\n {2}\$ mtls-oauth certs init && mtls-oauth idp/);
  });
});
