// `mtls-oauth tls URL`: probe one endpoint over the configured client identity and tell the whole
// TLS story, with a verdict. No OAuth: any HTTP status is fine, this is about the handshake.

import { type Command, Option } from 'commander';
import type { ConnectionRecord } from '../../core/transport/diagnostics.ts';
import type { HttpClient } from '../../core/transport/http-client.ts';
import { addIdpOptions, settingsFor } from '../common.ts';
import type { ProbeOutcome } from '../render-tls.ts';
import { type Check, type Context, execute, type Outcome, printChecks } from '../run.ts';

interface TlsOptions {
  all?: boolean;
  method?: 'GET' | 'HEAD';
}

/** Probes one URL; never throws for a network/TLS failure (it is part of the outcome). */
async function probe(client: HttpClient, url: string, method: 'GET' | 'HEAD', withClientCert: boolean) {
  const { isMtlsOAuthError } = await import('../../core/errors.ts');
  const out: ProbeOutcome = { url, haveIdentity: withClientCert };
  const before = client.connections.length;
  try {
    const r = await client.request({ url, method, expectJson: false, withClientCert, step: 'TLS probe' });
    out.status = r.status;
    out.record = r.connection;
  } catch (e) {
    if (!isMtlsOAuthError(e) || e.kind === 'usage' || e.kind === 'internal') throw e;
    if (e.code === 'RESPONSE_TOO_LARGE') {
      // The server answered: for a TLS probe that is a success.
      out.status = (e.details?.status as number | undefined) ?? 200;
    } else {
      out.error = e;
    }
    out.record = (e.details?.tls as ConnectionRecord | undefined) ?? client.connections[before];
  }
  out.record ??= client.connections[client.connections.length - 1];
  return out;
}

async function run(url: string | undefined, opts: TlsOptions, cmd: Command, ctx: Context): Promise<Outcome> {
  const { ui } = ctx;
  const { usageError } = await import('../../core/errors.ts');
  const { settings } = settingsFor(cmd, ui);
  if (opts.all) {
    throw usageError('ALL_NEEDS_DISCOVERY', '--all needs discovery, which this build does not have yet', {
      hint: 'probe the endpoints one at a time: mtls-oauth tls URL',
    });
  }
  const target = url ?? settings.issuer;
  if (!target) {
    throw usageError('MISSING_URL', 'give the URL to probe (or --issuer)', {
      hint: 'mtls-oauth tls https://idp.example.com/oauth2/token --cert certs/client.crt --key certs/client.key',
    });
  }
  const [{ loadClientIdentity }, { HttpClient }, render] = await Promise.all([
    import('../../core/transport/identity.ts'),
    import('../../core/transport/http-client.ts'),
    import('../render-tls.ts'),
  ]);
  const identity = await loadClientIdentity(settings);
  if (settings.insecure) {
    ui.warn(
      "--insecure: the server's certificate is NOT verified for this run (the connection is still recorded)",
    );
  }
  const client = new HttpClient({
    identity,
    ca: settings.ca,
    caMode: settings.caMode as 'add' | 'replace' | undefined,
    insecure: settings.insecure,
    timeoutMs: settings.timeout ? settings.timeout * 1000 : undefined,
    maxBodyBytes: 256 * 1024,
    showSecrets: ui.showSecrets,
    log: ui.verbose ? (line) => ui.debug(line) : undefined,
  });
  let p: ProbeOutcome;
  try {
    p = await probe(client, target, opts.method ?? 'GET', !!identity);
  } finally {
    await client.close();
  }
  const checks: Check[] = render.probeChecks(p);
  const result = {
    url: target,
    method: opts.method ?? 'GET',
    status: p.status ?? null,
    identity: identity
      ? {
          subject: identity.subjectDn,
          issuer: identity.issuerDn,
          x5tS256: identity.x5tS256,
          source: identity.source,
        }
      : null,
    connection: p.record ?? null,
  };
  const human = () => {
    ui.out(`${ui.c.bold('Probe')} ${opts.method ?? 'GET'} ${target}`);
    if (identity)
      ui.out(
        `  client identity: ${identity.subjectDn} ${ui.c.dim(`(issuer ${identity.issuerDn}; ${identity.source})`)}`,
      );
    else ui.out(`  client identity: ${ui.c.dim('none configured')}`);
    ui.out();
    if (p.record) for (const line of render.renderConnection(p.record, ui.c)) ui.out(line);
    ui.out();
    ui.out(ui.c.bold('Verdict'));
    printChecks(ui, checks);
  };
  if (p.error) {
    // The story first (stdout), then the error and its hint (stderr, exit 3/5) from execute().
    if (!ui.json) human();
    const e = p.error;
    throw Object.assign(e, {
      details: {
        ...e.details,
        checks,
        tls: client.connections.length === 1 ? client.connections[0] : client.connections,
      },
    });
  }
  return { result, checks, tls: client.connections, human };
}

export function registerTls(program: Command): void {
  const cmd = program
    .command('tls')
    .description('probe an endpoint over mutual TLS and explain the handshake: no OAuth, just TLS')
    .argument('[URL]', 'https URL to probe (default: --issuer)')
    .option('--all', 'probe every endpoint and mtls alias of the issuer (needs --issuer)')
    .addOption(
      new Option('--method <METHOD>', 'HTTP method of the probe').choices(['GET', 'HEAD']).default('GET'),
    );
  addIdpOptions(cmd, [
    'clientId',
    'auth',
    'scope',
    'signingKey',
    'clientSecret',
    'tokenEndpoint',
    'introspectionEndpoint',
    'revocationEndpoint',
    'authorizationEndpoint',
  ]);
  cmd.action(async (url: string | undefined, opts: TlsOptions, c: Command) => {
    await execute('tls', c, (ctx) => run(url, opts, c, ctx));
  });
  cmd.addHelpText(
    'after',
    `
What it shows: TLS version, cipher, ALPN, the server's chain as sent (RFC 4514 names, validity,
SANs, SHA-256), whether the chain verified, whether the server asked for a client certificate and
which CA names it accepts, whether ours was sent (subject, x5t#S256) and accepted, and the alert
the server sent when it refused. Exit 0 when the handshake (and the client certificate, if asked
for) is fine; 3 on a TLS or network failure; 5 on a timeout.

Examples:
  $ mtls-oauth tls https://idp.example.com/oauth2/token --cert certs/client.crt --key certs/client.key
  $ mtls-oauth tls https://127.0.0.1:8443/ --ca certs/ca.crt --p12 certs/client.p12   # password in MTLS_OAUTH_P12_PASSWORD
  $ mtls-oauth tls https://mtls.idp.example.com/token --json | jq .tls
  $ mtls-oauth tls --all --issuer https://idp.example.com --cert certs/client.crt --key certs/client.key
`,
  );
}
