// `mtls-oauth idp`: the embedded mTLS IdP (src/idp/) as a command, to try the other commands by
// hand or to point a gateway at. It registers the client certificate `certs init` made, prints the
// issuer and exactly how to use it, then serves until Ctrl-C (exit 130). Nothing is written: keys,
// the server certificate and every token live in memory and are gone when it stops.

import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { IdpFromCertificates } from '../../idp/from-certificates.ts';
import type { ApiRequest } from '../../idp/resource-server.ts';
import type { IdpRequest } from '../../idp/server.ts';
import { EXIT } from '../exit-codes.ts';
import type { Context, Envelope, Outcome } from '../run.ts';
import { execute } from '../run.ts';
import type { Ui } from '../ui.ts';

interface IdpFlags {
  port?: string;
  mtlsPort?: string;
  cert: string;
  key?: string;
  caCert?: string;
  caKey?: string;
  caKeyPassphraseEnv?: string;
  serverCert?: string;
  serverKey?: string;
  clientId?: string;
  api?: boolean;
  apiPort?: string;
}

/** A word for a POSIX shell: as is when it is safe, else in single quotes. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function parsePort(value: string | undefined, flag: string): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const n = /^\s*\d{1,5}\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 65_535)) {
    const { usageError } = await import('../../core/errors.ts');
    throw usageError('BAD_PORT', `${flag} "${value}" is not a port number (0 to 65535)`, {
      hint: `e.g. ${flag} 8443; leave it out for a free port`,
    });
  }
  return n;
}

/** What a client needs to use the IdP: environment, flags, the test user. */
function usage(s: IdpFromCertificates) {
  const abs = (p: string) => resolve(p);
  const env = {
    MTLS_OAUTH_ISSUER: s.idp.issuer,
    MTLS_OAUTH_CLIENT_ID: s.clients.tlsClientAuth.clientId,
    MTLS_OAUTH_CERT: abs(s.files.cert),
    MTLS_OAUTH_KEY: abs(s.files.key),
    MTLS_OAUTH_CA: abs(s.files.ca),
    ...(s.api ? { MTLS_OAUTH_API: `${s.api.url}/hello` } : {}),
  };
  const args = [
    '--issuer',
    env.MTLS_OAUTH_ISSUER,
    '--client-id',
    env.MTLS_OAUTH_CLIENT_ID,
    '--cert',
    env.MTLS_OAUTH_CERT,
    '--key',
    env.MTLS_OAUTH_KEY,
    '--ca',
    env.MTLS_OAUTH_CA,
  ];
  return { env, args };
}

function renderReady(ui: Ui, s: IdpFromCertificates, user: { login: string; password: string }): void {
  const c = ui.c;
  const { env, args } = usage(s);
  const { idp, clients } = s;
  const words = (a: string[]) => a.map(shellWord).join(' ');
  ui.out(`${c.green('✓')} ${c.bold('Embedded IdP')} (oidc-provider) running at ${c.bold(idp.issuer)}`);
  ui.out(`  discovery     ${idp.issuer}/.well-known/openid-configuration`);
  ui.out(
    `  mTLS aliases  ${idp.mtlsUrl} ${c.dim('(mtls_endpoint_aliases: token, introspection, revocation, userinfo, PAR)')}`,
  );
  ui.out(
    `  client        ${c.bold(clients.tlsClientAuth.clientId)}: tls_client_auth, subject DN "${clients.tlsClientAuth.subjectDn}"`,
  );
  ui.out(
    `  client        ${c.bold(clients.selfSigned.clientId)}: self_signed_tls_client_auth, the same certificate`,
  );
  ui.out(
    `  server cert   ${s.serverCertificate.subject}, ${s.serverCertificate.issuedBy ? `issued by ${s.serverCertificate.issuedBy} (in memory)` : `from ${s.serverCertificate.file}`}`,
  );
  if (s.api) {
    ui.out(
      `  API           ${c.bold(s.api.url)} ${c.dim(`(introspects as ${s.api.clientId}; refuses a token without the certificate it is bound to, like Kong's proof_of_possession_mtls: strict)`)}`,
    );
  }
  ui.out(
    `  test user     ${c.bold(user.login)} / ${user.password} ${c.dim('(the login page accepts any name and password)')}`,
  );
  ui.out();
  ui.out('Use it from another terminal:');
  ui.out(
    `  export ${Object.entries(env)
      .map(([k, v]) => `${k}=${shellWord(v)}`)
      .join(' ')}`,
  );
  ui.out(`  mtls-oauth smoke     ${c.dim('# discovery, TLS, a bound token, introspection, revocation')}`);
  ui.out(
    `  mtls-oauth login     ${c.dim(`# the authorization-code flow in your browser (log in as ${user.login})`)}`,
  );
  ui.out(`  mtls-oauth token --client-id ${clients.selfSigned.clientId} --auth self_signed_tls_client_auth`);
  if (s.api) {
    ui.out(
      `  mtls-oauth call     ${c.dim('# the API with the cached token and the certificate it is bound to')}`,
    );
    ui.out(
      `  mtls-oauth call --no-cert --expect-status 401   ${c.dim('# the same token without it: refused')}`,
    );
  }
  ui.out('or with flags:');
  ui.out(`  mtls-oauth smoke ${words(args)}`);
  ui.out();
  ui.out(c.dim('Ctrl-C stops it; nothing is left behind.'));
}

function requestLine(ui: Ui, r: IdpRequest): string {
  const e = ui.e;
  const cert = r.clientCert
    ? r.authorized
      ? 'client cert (trusted CA)'
      : 'client cert (untrusted CA)'
    : 'no client cert';
  return e.dim(`${r.listener === 'mtls' ? 'mtls ' : 'plain'} ${r.method} ${r.path.split('?')[0]}  ${cert}`);
}

function apiRequestLine(ui: Ui, r: ApiRequest): string {
  const cert = r.certificate ? `client cert x5t#S256 ${r.certificate}` : 'no client cert';
  return ui.e.dim(
    `api   ${r.method} ${r.path.split('?')[0]}  ${cert}  -> ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
  );
}

/** `signal` resolves with the signal that asks the IdP to stop (SIGINT or SIGTERM). */
function untilStopped(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  const handlers: Array<[NodeJS.Signals, () => void]> = [];
  const dispose = () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
  const signal = new Promise<NodeJS.Signals>((done) => {
    for (const s of ['SIGINT', 'SIGTERM'] as const) {
      const h = () => {
        dispose();
        done(s);
      };
      handlers.push([s, h]);
      process.on(s, h);
    }
  });
  return { signal, dispose };
}

async function run(flags: IdpFlags, ctx: Context): Promise<Outcome> {
  const { ui } = ctx;
  // Listening for the signals first: a Ctrl-C while the IdP starts stops it too, cleanly.
  const stopped = untilStopped();
  try {
    return await serve(flags, ui, stopped.signal);
  } finally {
    stopped.dispose();
  }
}

async function serve(flags: IdpFlags, ui: Ui, stopped: Promise<NodeJS.Signals>): Promise<Outcome> {
  const port = await parsePort(flags.port, '--port');
  const mtlsPort = await parsePort(flags.mtlsPort, '--mtls-port');
  const apiPort = await parsePort(flags.apiPort, '--api-port');
  if (apiPort !== undefined && !flags.api) {
    const { usageError } = await import('../../core/errors.ts');
    throw usageError('BAD_ARGUMENTS', '--api-port needs --api', {
      hint: 'mtls-oauth idp --api --api-port 9443',
    });
  }
  // Asked only for an encrypted CA key: from --ca-key-passphrase-env, else at a prompt.
  const caKeyPassphrase = async (keyPath: string) => {
    const { readSecret } = await import('./certs/secrets.ts');
    return readSecret({
      envVar: flags.caKeyPassphraseEnv,
      envOption: '--ca-key-passphrase-env',
      what: `passphrase for ${keyPath}`,
    });
  };
  const { startIdpFromCertificates, TEST_USER } = await import('../../idp/from-certificates.ts');
  let stoppedEarly = false;
  stopped.then(() => {
    stoppedEarly = true;
  });
  const setup = await startIdpFromCertificates({
    cert: flags.cert,
    key: flags.key,
    caCert: flags.caCert,
    caKey: flags.caKey,
    caKeyPassphrase,
    serverCert: flags.serverCert,
    serverKey: flags.serverKey,
    clientId: flags.clientId,
    port,
    mtlsPort,
    onRequest: ui.json && !ui.verbose ? undefined : (r) => ui.err(requestLine(ui, r)),
    ...(flags.api
      ? {
          api: {
            port: apiPort,
            onRequest: ui.json && !ui.verbose ? undefined : (r) => ui.err(apiRequestLine(ui, r)),
          },
        }
      : {}),
  });
  try {
    for (const w of setup.warnings) ui.warn(w);
    if (stoppedEarly) {
      // Ctrl-C while it started: never announced, stopped at once.
    } else if (ui.json) {
      const { env, args } = usage(setup);
      const envelope: Envelope = {
        ok: true,
        command: 'idp',
        result: {
          status: 'ready',
          issuer: setup.idp.issuer,
          port: setup.idp.port,
          mtlsUrl: setup.idp.mtlsUrl,
          mtlsPort: setup.idp.mtlsPort,
          mtlsEndpointAliases: setup.idp.aliases,
          clients: setup.clients,
          serverCertificate: setup.serverCertificate,
          ...(setup.api
            ? { api: { url: setup.api.url, port: setup.api.port, clientId: setup.api.clientId } }
            : {}),
          user: TEST_USER,
          env,
          args,
        },
        checks: [],
      };
      // One line, so that a script can read it with `read` or a line reader and go on.
      ui.writeStdout(`${JSON.stringify(envelope)}\n`);
    } else {
      renderReady(ui, setup, TEST_USER);
    }
    const signal = await stopped;
    if (!ui.json) ui.err(`${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: the IdP is stopped`);
  } finally {
    await setup.close();
  }
  return { printed: true, exitCode: EXIT.interrupted };
}

export function registerIdp(program: Command): void {
  program
    .command('idp')
    .description(
      'run the embedded mTLS IdP (oidc-provider) on 127.0.0.1 for the certificates of `certs init`',
    )
    .option('--port <N>', 'port of the issuer (default: a free one)')
    .option('--mtls-port <N>', 'port of the mtls_endpoint_aliases listener (default: a free one)')
    .option('--cert <FILE>', 'the client certificate to register', './certs/client.crt')
    .option('--key <FILE>', 'its key, for the printed instructions (default: beside --cert, client.key)')
    .option(
      '--ca-cert <FILE>',
      'CA trusted for client certificates, issuer of the server certificate (default: ca.crt beside --cert)',
    )
    .option(
      '--ca-key <FILE>',
      "the CA's key, to issue the server certificate (default: ca.key beside --ca-cert)",
    )
    .option(
      '--ca-key-passphrase-env <VAR>',
      "environment variable holding the CA key's passphrase (else asked)",
    )
    .option('--server-cert <FILE>', 'use this server certificate (PEM, for 127.0.0.1) instead of issuing one')
    .option('--server-key <FILE>', 'the key of --server-cert')
    .option('--client-id <ID>', "client_id of the tls_client_auth client (default: the certificate's CN)")
    .option(
      '--api',
      'serve a protected API too, which enforces the certificate binding (try `mtls-oauth call`)',
    )
    .option('--api-port <N>', 'port of the API (default: a free one)')
    .action(async (_opts, c: Command) => {
      await execute('idp', c, (ctx) => run(c.opts() as IdpFlags, ctx));
    })
    .addHelpText(
      'after',
      `
What it runs: oidc-provider over HTTPS on 127.0.0.1 with RFC 8705 mutual TLS. The issuer's listener
serves discovery, the login and consent pages and the JWKS; a second listener, advertised as
mtls_endpoint_aliases, requests client certificates for the token, introspection, revocation,
userinfo and PAR endpoints. Registered clients:
  <CN>              tls_client_auth with the certificate's subject DN (client credentials,
                    authorization code with a loopback redirect, refresh tokens)
  <CN>-self-signed  self_signed_tls_client_auth with the certificate itself (client credentials)
Access tokens are bound to the certificate (cnf.x5t#S256). With --api a third listener serves a
protected API (any path): it introspects each bearer token at the IdP over mTLS (as <CN>-api,
self_signed_tls_client_auth with the server certificate) and answers 401 with WWW-Authenticate:
Bearer error="invalid_token" unless the token's cnf.x5t#S256 is the certificate presented, as Kong's
OpenID Connect plugin does with proof_of_possession_mtls: strict; MTLS_OAUTH_API points at it. The login page accepts any user name and
password (e.g. alice / alice). The server certificate (localhost, 127.0.0.1, ::1) is issued in
memory from the CA, so clients trust it with --ca certs/ca.crt.

It prints the issuer and the exact flags and MTLS_OAUTH_* variables to use, then serves until
Ctrl-C or SIGTERM (exit 130). With --json it prints one line, a JSON document with "status":"ready",
as soon as it serves. Keys and tokens live in memory: nothing is written, nothing is left behind.
Each request is shown on stderr (under --json only with -v).

Exit codes: 130 stopped by Ctrl-C or SIGTERM, 2 bad input (no certificates, a port in use).

Examples:
  $ mtls-oauth certs init && mtls-oauth idp                  # then, in another terminal: mtls-oauth smoke
  $ mtls-oauth idp --api                                    # then: mtls-oauth token && mtls-oauth call
  $ mtls-oauth idp --port 8443 --cert kong-certs/client.crt
  $ mtls-oauth idp --server-cert idp.crt --server-key idp.key
  $ mtls-oauth idp --json > idp.json &                      # scripts: wait for the line, then kill -INT $!
`,
    );
}
