// `mtls-oauth discover ISSUER`: fetch and validate the IdP's metadata, and show what it means for a
// client that authenticates with a certificate (which methods, bound tokens, which URL is used for
// each call: the mtls_endpoint_aliases entry or the plain endpoint).

import type { Command } from 'commander';
import type { DiscoveryReport, EndpointRow, JwkSummary, MtlsAnalysis } from '../../core/discovery/index.ts';
import { addIdpOptions, CLIENT_SETTINGS, IDENTITY_SETTINGS, settingsFor } from '../common.ts';
import { EXIT } from '../exit-codes.ts';
import { type Context, execute, type Outcome, printChecks } from '../run.ts';
import { type Colors, table } from '../ui.ts';

const LOCATION: Record<DiscoveryReport['location'], string> = {
  oidc: 'OpenID Connect location',
  rfc8414: 'RFC 8414 location',
  'rfc8414-appended': 'non-standard location',
};

const OPERATION_LABEL: Record<EndpointRow['operation'], string> = {
  token: 'token',
  introspection: 'introspection',
  revocation: 'revocation',
  userinfo: 'userinfo',
  pushed_authorization_request: 'PAR',
  device_authorization: 'device',
};

function methodsLine(s: MtlsAnalysis['clientAuth']['token'], c: Colors): string {
  const mark = (ok: boolean | null, name: string) =>
    ok === null ? c.dim(`${name} ?`) : ok ? c.green(`${name} ✓`) : c.red(`${name} ✗`);
  const mtls = `${mark(s.tls_client_auth, 'tls_client_auth')}  ${mark(s.self_signed_tls_client_auth, 'self_signed_tls_client_auth')}`;
  if (s.methods === null) {
    return s.assumed
      ? `${mtls}  ${c.dim(`(not advertised: means ${s.assumed} only)`)}`
      : c.dim('not advertised (the IdP decides per client; many apply the token endpoint methods)');
  }
  return `${mtls}  ${c.dim(`(all: ${s.methods.join(', ') || 'none'})`)}`;
}

function endpointLines(a: MtlsAnalysis, c: Colors, authorization?: string): string[] {
  const out: string[] = [];
  const width = Math.max(
    authorization?.length ?? 0,
    ...a.endpoints.map((r) => Math.max(r.plain?.length ?? 0, r.alias?.length ?? 0)),
  );
  for (const r of a.endpoints) {
    const label = OPERATION_LABEL[r.operation];
    out.push(`  ${c.bold(label)}`);
    if (r.plain) {
      const note =
        r.withCert?.via === 'plain'
          ? r.alias
            ? ''
            : `used for: ${label}${a.hasAliases ? c.yellow(' (plain endpoint: no alias)') : ' (with and without a certificate)'}`
          : c.dim('used without a certificate');
      out.push(`    plain       ${r.plain.padEnd(width)}  ${note}`.trimEnd());
    }
    if (r.alias)
      out.push(`    mTLS alias  ${r.alias.padEnd(width)}  ${c.green(`used for: ${label} (mTLS alias)`)}`);
  }
  for (const o of a.otherAliases) out.push(`  ${c.dim(`alias ${o.member}  ${o.url}  (${o.note})`)}`);
  if (authorization) {
    out.push(`  ${c.bold('authorization')}`);
    out.push(
      `    plain       ${authorization.padEnd(width)}  ${c.dim('the browser goes here (no client certificate)')}`,
    );
  }
  return out;
}

function keyLine(k: JwkSummary): string {
  const type = k.kty === 'RSA' && k.bits ? `RSA ${k.bits}` : k.crv ? `${k.kty} ${k.crv}` : (k.kty ?? '?');
  return [`kid ${k.kid ?? '(none)'}`, type, k.alg ?? '', k.use ?? '', k.x5c ? 'x5c' : '']
    .filter(Boolean)
    .join('  ');
}

function render(report: DiscoveryReport, ui: Context['ui']): void {
  const c = ui.c;
  const doc = report.document as Record<string, unknown>;
  ui.out(`${c.bold('Discovery')} ${report.issuer}`);
  ui.out(
    table([
      ['document', `${report.documentUrl}  ${c.dim(`(${LOCATION[report.location]})`)}`],
      [
        'tried',
        report.attempts.length > 1
          ? report.attempts
              .filter((x) => x.outcome !== 'found')
              .map((x) => `${x.url} → ${x.outcome === 'http-status' ? x.detail : x.outcome}`)
              .join('\n')
          : undefined,
      ],
      ['issuer', typeof doc?.issuer === 'string' ? doc.issuer : c.red('(none)')],
    ]).join('\n'),
  );
  const a = report.analysis;
  if (a) {
    ui.out();
    ui.out(c.bold('Client authentication at'));
    for (const line of table([
      ['token', methodsLine(a.clientAuth.token, c)],
      [
        'introspection',
        a.endpoints.some((r) => r.operation === 'introspection')
          ? methodsLine(a.clientAuth.introspection, c)
          : c.dim('(no endpoint)'),
      ],
      [
        'revocation',
        a.endpoints.some((r) => r.operation === 'revocation')
          ? methodsLine(a.clientAuth.revocation, c)
          : c.dim('(no endpoint)'),
      ],
    ]))
      ui.out(line);
    ui.out();
    ui.out(
      `${c.bold('Certificate-bound access tokens')}  ${a.certificateBoundAccessTokens ? c.green('yes') : c.yellow('not advertised')} ${c.dim('(tls_client_certificate_bound_access_tokens)')}`,
    );
    ui.out();
    ui.out(
      `${c.bold('Endpoints')} ${c.dim(a.hasAliases ? '(mtls_endpoint_aliases advertised)' : '(no mtls_endpoint_aliases)')}`,
    );
    const authz = typeof doc.authorization_endpoint === 'string' ? doc.authorization_endpoint : undefined;
    for (const line of endpointLines(a, c, authz)) ui.out(line);
    ui.out();
    const pkce =
      a.pkce.methods === null ? c.yellow('not advertised') : a.pkce.methods.join(', ') || c.yellow('none');
    for (const line of table(
      [
        [
          c.bold('Grant types'),
          `${a.grantTypes.values.join(', ')}${a.grantTypes.advertised ? '' : c.dim(' (not advertised: the RFC 8414 default)')}`,
        ],
        [c.bold('PKCE methods'), a.pkce.s256 ? pkce : `${pkce} ${c.yellow('(no S256)')}`],
        [
          c.bold('iss parameter'),
          a.issParameter
            ? 'supported (RFC 9207: the callback must carry iss)'
            : c.dim('not advertised (authorization_response_iss_parameter_supported)'),
        ],
        [c.bold('JWKS'), a.jwksUri ?? c.yellow('(no jwks_uri)')],
      ],
      '',
    ))
      ui.out(line);
    if (report.jwks) {
      if (report.jwks.error) ui.out(`  ${c.yellow(report.jwks.error.message)}`);
      for (const k of report.jwks.keys) ui.out(`  ${keyLine(k)}`);
    }
  }
  ui.out();
  ui.out(c.bold('Checks'));
  printChecks(ui, report.checks);
}

async function run(
  issuerArg: string | undefined,
  opts: { securityProfile?: string },
  cmd: Command,
  ctx: Context,
): Promise<Outcome> {
  const { ui } = ctx;
  const fapi2 = opts.securityProfile ? await import('../../core/fapi2.ts') : undefined;
  const profile =
    fapi2 && opts.securityProfile ? fapi2.parseSecurityProfile(opts.securityProfile) : undefined;
  const { usageError } = await import('../../core/errors.ts');
  const { settings } = settingsFor(cmd, ui);
  const issuer = issuerArg ?? settings.issuer;
  if (!issuer) {
    throw usageError(
      'MISSING_ISSUER',
      'give the issuer to discover (argument, --issuer or MTLS_OAUTH_ISSUER)',
      {
        hint: 'mtls-oauth discover https://idp.example.com/realms/demo',
      },
    );
  }
  const [{ discover, invalidDocumentError, parseIssuerInput }, { HttpClient }, { httpClientFor }] =
    await Promise.all([
      import('../../core/discovery/index.ts'),
      import('../../core/transport/http-client.ts'),
      import('../../core/session.ts'),
    ]);
  parseIssuerInput(issuer); // usage errors before any connection
  // Discovery presents no client certificate: the metadata is public.
  const client = httpClientFor(HttpClient, settings, undefined, {
    log: ui.verbose ? (line) => ui.debug(line) : undefined,
    showSecrets: ui.showSecrets,
    warn: (m) => ui.warn(m),
  });
  const spinner = await ui.spinner(`discovering ${issuer}`);
  let report: DiscoveryReport;
  try {
    report = await discover(client, issuer);
  } catch (e) {
    const { isMtlsOAuthError } = await import('../../core/errors.ts');
    if (isMtlsOAuthError(e) && client.connections.length && e.details?.tls === undefined) {
      Object.assign(e, { details: { ...e.details, tls: client.connections } });
    }
    throw e;
  } finally {
    spinner.stop();
    await client.close();
  }
  // The profile's checks follow discovery's own (fapi2.ts).
  const profileChecks =
    fapi2 && profile === 'fapi2' && report.metadata ? fapi2.fapi2Checks(report.metadata) : [];
  report.checks.push(...profileChecks);
  const { checks: _dup, ...analysis } = report.analysis ?? { checks: [] };
  const result = {
    issuer: report.issuer,
    documentUrl: report.documentUrl,
    location: report.location,
    attempts: report.attempts,
    valid: report.valid,
    document: report.document,
    analysis: report.analysis ? analysis : null,
    jwks: report.jwks ?? null,
    security_profile: profile ?? null,
  };
  const outcome: Outcome = {
    result,
    checks: report.checks,
    tls: client.connections,
    human: () => render(report, ui),
  };
  if (!report.valid) {
    const err = invalidDocumentError(report, true);
    outcome.exitCode = EXIT.checkFailed;
    outcome.error = { code: err.code, message: err.message, hint: err.hint };
  } else {
    const unmet = fapi2?.profileFailure(profileChecks);
    if (unmet) {
      outcome.exitCode = EXIT.checkFailed;
      outcome.error = unmet;
    }
  }
  return outcome;
}

export function registerDiscover(program: Command): void {
  const cmd = program
    .command('discover')
    .description("fetch and check the IdP's discovery document, and show what it supports for mTLS")
    .argument('[ISSUER]', 'issuer URL, or the URL of its /.well-known/ document (default: --issuer)');
  addIdpOptions(cmd, [...CLIENT_SETTINGS, ...IDENTITY_SETTINGS]);
  cmd.option(
    '--security-profile <NAME>',
    'also check the metadata against a security profile: fapi2 (the FAPI 2.0 Security Profile)',
  );
  cmd.action(async (issuer: string | undefined, opts: { securityProfile?: string }, c: Command) => {
    await execute('discover', c, (ctx) => run(issuer, opts, c, ctx));
  });
  cmd.addHelpText(
    'after',
    `
Tries ISSUER/.well-known/openid-configuration (OpenID Connect), then
/.well-known/oauth-authorization-server/PATH (RFC 8414), and checks the document: "issuer"
equal to ISSUER character for character (a trailing / counts), required members, https
endpoints (http only on loopback), member types, known client authentication methods. Then
shows tls_client_auth / self_signed_tls_client_auth support, certificate-bound tokens, each
mtls_endpoint_aliases entry next to its plain endpoint and which one this tool calls, grant
types, PKCE methods and the JWKS keys. No client certificate is sent.
Exit 0 when the document is valid (warnings allowed), 1 when it fails validation, 3 when it
cannot be fetched (TLS, HTTP, not JSON, too large).

--security-profile fapi2 adds a check per requirement of the FAPI 2.0 Security Profile that the
metadata shows (PAR offered and required, PKCE S256, sender-constrained tokens, client
authentication, the iss response parameter, response types, signing algorithms), each naming its
clause (docs/fapi2.md); one not met exits 1 (FAPI2_NOT_MET).

Examples:
  $ mtls-oauth discover https://idp.example.com/realms/demo
  $ mtls-oauth discover https://127.0.0.1:8443 --ca certs/ca.crt
  $ mtls-oauth discover https://idp.example.com/.well-known/openid-configuration --json | jq .result.analysis.endpoints
  $ mtls-oauth discover https://idp.example.com --security-profile fapi2
  $ MTLS_OAUTH_ISSUER=https://idp.example.com mtls-oauth discover
`,
  );
}
