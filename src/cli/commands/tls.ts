// `mtls-oauth tls URL`: probe one endpoint over the configured client identity and tell the whole
// TLS story, with a verdict. No OAuth: any HTTP status is fine, this is about the handshake.

import { type Command, Option } from 'commander';
import type { Verdict } from '../../core/diagnosis/verdict.ts';
import { addIdpOptions, CLIENT_SETTINGS, settingsFor } from '../common.ts';
import { exitCodeForKind } from '../exit-codes.ts';
import { type Context, execute, type Outcome, printChecks } from '../run.ts';
import type { Ui } from '../ui.ts';

interface TlsOptions {
  all?: boolean;
  method?: 'GET' | 'HEAD';
}

async function run(url: string | undefined, opts: TlsOptions, cmd: Command, ctx: Context): Promise<Outcome> {
  const { ui } = ctx;
  const { usageError } = await import('../../core/errors.ts');
  const { settings } = settingsFor(cmd, ui);
  if (opts.all && !settings.issuer) {
    throw usageError('MISSING_ISSUER', '--all probes the endpoints of an issuer: give --issuer URL', {
      hint: 'mtls-oauth tls --all --issuer https://idp.example.com --cert certs/client.crt --key certs/client.key',
    });
  }
  if (opts.all && url) {
    throw usageError('BAD_ARGUMENTS', 'give either a URL or --all --issuer URL, not both', {
      hint: 'mtls-oauth tls URL probes one endpoint; --all probes every endpoint the issuer publishes',
    });
  }
  const target = url ?? settings.issuer;
  if (!target) {
    throw usageError('MISSING_URL', 'give the URL to probe (or --issuer)', {
      hint: 'mtls-oauth tls https://idp.example.com/oauth2/token --cert certs/client.crt --key certs/client.key',
    });
  }
  const [{ loadClientIdentity }, { HttpClient }, { httpClientFor }, diagnosis, verdicts, render] =
    await Promise.all([
      import('../../core/transport/identity.ts'),
      import('../../core/transport/http-client.ts'),
      import('../../core/session.ts'),
      import('../../core/diagnosis/probe.ts'),
      import('../../core/diagnosis/verdict.ts'),
      import('../render-tls.ts'),
    ]);
  const identity = await loadClientIdentity(settings);
  const client = httpClientFor(HttpClient, settings, identity, {
    log: ui.verbose ? (line) => ui.debug(line) : undefined,
    showSecrets: ui.showSecrets,
    warn: (m) => ui.warn(m),
  });
  const method = opts.method ?? 'GET';
  const identityInfo = identity
    ? {
        subject: identity.subjectDn,
        issuer: identity.issuerDn,
        x5tS256: identity.x5tS256,
        source: identity.source,
      }
    : null;
  const identityLine = () => {
    if (identity)
      ui.out(
        `  client identity: ${identity.subjectDn} ${ui.c.dim(`(issuer ${identity.issuerDn}; ${identity.source})`)}`,
      );
    else ui.out(`  client identity: ${ui.c.dim('none configured')}`);
  };

  if (opts.all) {
    const { discover } = await import('../../core/discovery/index.ts');
    const probes: Array<
      {
        origin: string;
        endpoints: string[];
        verdict: Verdict;
      } & import('../../core/diagnosis/probe.ts').ProbeResult
    > = [];
    try {
      const report = await discover(client, target, { jwks: false });
      const metadata = (report.metadata ?? report.document ?? {}) as Record<string, unknown>;
      const groups = diagnosis.groupByOrigin(endpointsOf(metadata));
      const isAlias = (n: string) => n.startsWith('mtls_endpoint_aliases.');
      const anyAlias = groups.some((g) => g.names.some(isAlias));
      for (const g of groups) {
        const p = await diagnosis.probeEndpoint(client, g.url, { method });
        // With aliases, the plain host need not ask for a certificate: calls with one go to the aliases.
        const verdict = verdicts.verdictOf({
          ...p,
          certificateCallsElsewhere: anyAlias && !g.names.some(isAlias),
        });
        probes.push({ ...p, origin: g.origin, endpoints: g.names, verdict });
      }
    } finally {
      await client.close();
    }
    const failed = probes.filter((p) => p.error);
    const worst = failed.find((p) => p.error!.kind === 'network') ?? failed[0];
    return {
      result: {
        issuer: target,
        method,
        identity: identityInfo,
        probes: probes.map((p) => ({
          origin: p.origin,
          url: p.url,
          endpoints: p.endpoints,
          status: p.status ?? null,
          verdict: verdicts.verdictFacts(p.verdict),
          checks: p.verdict.checks,
          ...(p.error ? { error: { code: p.error.code, message: p.error.message, hint: p.error.hint } } : {}),
          connection: p.record ?? null,
        })),
      },
      checks: probes.map((p) => ({
        name: p.origin,
        status: p.verdict.status,
        detail: p.verdict.code
          ? `${p.verdict.code}: ${p.verdict.message}`
          : `${p.record?.protocol ?? 'plain http'}, HTTP ${p.status}`,
      })),
      tls: client.connections,
      ...(worst
        ? {
            exitCode: exitCodeForKind(worst.error!.kind),
            error: {
              code: worst.error!.code,
              message: `${failed.length} of ${probes.length} origins failed; first: ${worst.error!.message}`,
              hint: worst.error!.hint,
            },
          }
        : {}),
      human: () => {
        ui.out(`${ui.c.bold('Probe')} every endpoint of ${target} (${probes.length} origins)`);
        identityLine();
        for (const p of probes) {
          ui.out();
          ui.out(`${ui.c.bold(p.origin)}  ${ui.c.dim(p.endpoints.join(', '))}`);
          if (p.record) for (const line of render.renderConnection(p.record, ui.c)) ui.out(`  ${line}`);
          printVerdict(ui, p.verdict, true);
        }
      },
    };
  }

  let p: import('../../core/diagnosis/probe.ts').ProbeResult;
  try {
    p = await diagnosis.probeEndpoint(client, target, { method });
  } finally {
    await client.close();
  }
  const verdict = verdicts.verdictOf(p);
  const checks = verdict.checks;
  const result = {
    url: target,
    method,
    status: p.status ?? null,
    identity: identityInfo,
    verdict: verdicts.verdictFacts(verdict),
    connection: p.record ?? null,
  };
  const human = () => {
    ui.out(`${ui.c.bold('Probe')} ${method} ${target}`);
    identityLine();
    ui.out();
    if (p.record) for (const line of render.renderConnection(p.record, ui.c)) ui.out(line);
    ui.out();
    ui.out(ui.c.bold('Verdict'));
    printVerdict(ui, verdict, false);
  };
  if (p.error) {
    // The story first (stdout), then the error and its hint (stderr, exit 3/5) from execute().
    if (!ui.json) human();
    const e = p.error;
    throw Object.assign(e, {
      details: {
        ...e.details,
        checks,
        verdict: verdicts.verdictFacts(verdict),
        tls: client.connections.length === 1 ? client.connections[0] : client.connections,
      },
    });
  }
  return { result, checks, tls: client.connections, human };
}

/** The checks, then (for a warning) what is wrong and what to do; a failure's hint comes with the error. */
function printVerdict(ui: Ui, v: Verdict, all: boolean) {
  printChecks(ui, v.checks);
  if (v.status === 'warn') {
    ui.out(`    ${ui.c.yellow(`warning ${v.code}:`)} ${v.message}`);
    if (v.hint) ui.out(`    ${ui.c.dim(`hint: ${v.hint}`)}`);
  } else if (v.status === 'fail' && all && v.hint) {
    ui.out(`    ${ui.c.dim(`hint: ${v.hint}`)}`);
  }
}

/** The URLs a discovery document names: every *_endpoint, jwks_uri and mtls alias. */
function endpointsOf(metadata: Record<string, unknown>) {
  const out: Array<{ name: string; url: unknown }> = [];
  for (const [k, v] of Object.entries(metadata))
    if (/_endpoint$|^jwks_uri$/.test(k)) out.push({ name: k, url: v });
  const aliases = metadata.mtls_endpoint_aliases;
  if (aliases && typeof aliases === 'object' && !Array.isArray(aliases)) {
    for (const [k, v] of Object.entries(aliases)) out.push({ name: `mtls_endpoint_aliases.${k}`, url: v });
  }
  return out;
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
  addIdpOptions(cmd, CLIENT_SETTINGS);
  cmd.action(async (url: string | undefined, opts: TlsOptions, c: Command) => {
    await execute('tls', c, (ctx) => run(url, opts, c, ctx));
  });
  cmd.addHelpText(
    'after',
    `
What it shows: TLS version, cipher, ALPN, the server's chain as sent (RFC 4514 names, validity,
SANs, SHA-256), whether the chain verified, whether the server asked for a client certificate and
which CA names it accepts, whether ours was sent (subject, x5t#S256) and accepted, and the alert
the server sent when it refused. It ends with one verdict (the same as smoke's tls step and the
-v log of every command): pass; warn with a code (TLS_CLIENT_CA_NOT_LISTED: the handshake completed
although your certificate's issuer is not among the acceptable CAs, so the IdP will likely answer
invalid_client; TLS_CLIENT_CERT_NOT_REQUESTED; TLS_NO_CLIENT_CERT; ...); or fail. Exit 0 for pass
and warn (--json: .result.verdict); 3 on a TLS or network failure; 5 on a timeout.

Examples:
  $ mtls-oauth tls https://idp.example.com/oauth2/token --cert certs/client.crt --key certs/client.key
  $ mtls-oauth tls https://127.0.0.1:8443/ --ca certs/ca.crt --p12 certs/client.p12   # password in MTLS_OAUTH_P12_PASSWORD
  $ mtls-oauth tls https://mtls.idp.example.com/token --json | jq .tls
  $ mtls-oauth tls --all --issuer https://idp.example.com --cert certs/client.crt --key certs/client.key
  $ mtls-oauth tls https://idp.example.com/ --connect-to idp.example.com:443:10.0.0.7:443   # a node before DNS
`,
  );
}
