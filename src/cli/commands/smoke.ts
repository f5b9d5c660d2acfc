// `mtls-oauth smoke`: prove an IdP's mutual-TLS setup end to end in one run (discovery, a TLS probe,
// a token, its binding, introspection, revocation, introspection again) and report each step as a
// table, one JSON document (--json) and/or JUnit XML (--junit FILE) for CI. The steps live in
// src/core/smoke.ts; this file holds the flags and the rendering.

import type { Command } from 'commander';
import type { Check } from '../../core/check.ts';
import type { SmokeReport, StepResult, StepStatus } from '../../core/smoke/index.ts';
import { addIdpOptions, settingsFor } from '../common.ts';
import { EXIT } from '../exit-codes.ts';
import { type Context, execute, type Outcome } from '../run.ts';
import type { Colors, Ui } from '../ui.ts';
import { fitLine, wrapWords } from '../wrap.ts';

interface SmokeFlags {
  steps?: string;
  expectFail: string[];
  junit?: string;
  grant: string;
  refreshTokenEnv?: string;
  username?: string;
  resource?: string;
  audience?: string;
  param: string[];
  cache: boolean;
  securityProfile?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

// The step list for --help, kept here so that `--help` loads nothing from the core.
const STEP_HELP: Array<[string, string]> = [
  ['discovery', 'the discovery document: valid, and its mTLS analysis (needs --issuer)'],
  ['tls', 'a TLS probe of each endpoint origin used: client certificate requested, sent, accepted'],
  ['token', 'a token: --grant client_credentials (default), refresh_token or password'],
  [
    'binding',
    'the access token is bound to our certificate (cnf.x5t#S256), with --dpop to our key (cnf.jkt)',
  ],
  ['fapi2', 'with --security-profile fapi2: the metadata and the token meet FAPI 2.0 (each clause named)'],
  ['api', 'with --api URL: the API accepts the bound token with our certificate (2xx)'],
  ['api-without-cert', 'with --api: the API refuses the same token without a certificate (401/403)'],
  ['api-other-cert', 'with --api: ... and with a throw-away certificate from a CA of its own (401/403)'],
  [
    'api-without-proof',
    'with --api and --dpop: the API refuses the DPoP-bound token without a proof (401/403)',
  ],
  ['api-other-key', 'with --api and --dpop: ... and with a proof by another key (401/403)'],
  ['introspect', 'introspection: active, bound to our certificate'],
  ['revoke', 'revocation of the access token'],
  ['introspect-after-revoke', 'introspection again: inactive'],
];

function icon(c: Colors, s: StepStatus): string {
  return { pass: c.green('✓ pass'), fail: c.red('✗ fail'), warn: c.yellow('! warn'), skip: c.dim('- skip') }[
    s
  ];
}

function ms(t: number, status: StepStatus): string {
  if (status === 'skip' && t === 0) return '';
  return t < 10 ? `${t.toFixed(1)} ms` : `${Math.round(t)} ms`;
}

/** The counts line: "7 steps: 6 passed, 1 warning, in 48 ms". */
export function summaryLine(r: SmokeReport): string {
  const n = (s: StepStatus) => r.steps.filter((x) => x.status === s).length;
  const parts = [
    `${n('pass')} passed`,
    n('warn') ? `${n('warn')} with warnings` : '',
    n('fail') ? `${n('fail')} failed` : '',
    n('skip') ? `${n('skip')} skipped` : '',
  ].filter(Boolean);
  return `${r.steps.length} steps: ${parts.join(', ')}, in ${Math.round(r.timeMs)} ms`;
}

function renderHuman(ui: Ui, r: SmokeReport, junit?: string): void {
  const c = ui.c;
  const width = ui.width;
  // Every line fits the terminal (or COLUMNS), wrapped at spaces (wrap.ts).
  const out = (line = '') => {
    for (const l of width ? fitLine(line, width) : [line]) ui.out(l);
  };
  const target = r.issuer ?? r.endpoints.token?.url ?? '?';
  const client = r.clientId ? ` as client ${c.bold(r.clientId)} (${r.authMethod})` : '';
  out(`${c.bold('Smoke test')} of ${target}${client}`);
  if (r.identity) {
    out(`  certificate: ${r.identity.subject} ${c.dim(`(issuer ${r.identity.issuer})`)}`);
    out(`  x5t#S256:    ${r.identity.x5tS256}`);
  } else {
    out(`  certificate: ${c.dim('none configured')}`);
  }
  out();
  const rows = r.steps.map((s) => [s.name, s.status, ms(s.timeMs, s.status), s.detail] as const);
  const wName = Math.max(4, ...rows.map((x) => x[0].length));
  const wTime = Math.max(4, ...rows.map((x) => x[2].length));
  // A terminal too narrow for a readable DETAIL column gets a list: the step, then its detail under it.
  const prefix = 2 + wName + 2 + 6 + 2 + wTime + 2;
  const list = width !== undefined && width - prefix < 24;
  const indent = ' '.repeat(list ? 6 : prefix);
  const fit = (text: string) =>
    width ? wrapWords(text, Math.max(20, width - indent.length), width) : [text];
  if (!list)
    out(c.dim(`  ${'STEP'.padEnd(wName)}  ${'STATUS'.padEnd(6)}  ${'TIME'.padStart(wTime)}  DETAIL`));
  for (const [i, [name, status, time]] of rows.entries()) {
    const s = r.steps[i];
    const head = list
      ? `  ${name}  ${icon(c, status)}  ${time}`
      : `  ${name.padEnd(wName)}  ${icon(c, status)}  ${time.padStart(wTime)}`;
    const [first, ...rest] = fit(s.detail);
    if (list) {
      out(head.trimEnd());
      for (const l of [first, ...rest]) out(`${indent}${l}`);
    } else {
      out(`${head}  ${first}`);
      for (const l of rest) out(`${indent}${l}`);
    }
    for (const line of subLines(s)) for (const l of fit(line)) out(`${indent}${c.dim(l)}`);
  }
  out();
  const line = summaryLine(r);
  out(r.ok ? c.green(line) : c.red(line));
  if (junit) out(c.dim(`JUnit report: ${junit}`));
}

/** Under a step: what warned (finer checks), and the hint of a failure. */
function subLines(s: StepResult): string[] {
  const out: string[] = [];
  if (s.status === 'warn' || s.status === 'fail') {
    for (const ch of s.checks ?? []) {
      // A check the step's own line already says is not repeated.
      if (ch.detail && s.detail.includes(ch.detail)) continue;
      if (ch.status === 'warn' || (ch.status === 'fail' && s.checks!.length > 1)) {
        out.push(`${ch.status === 'warn' ? '!' : '✗'} ${ch.name}${ch.detail ? `: ${ch.detail}` : ''}`);
      }
    }
  }
  if (s.hint && s.status !== 'pass') out.push(`hint: ${s.hint}`);
  return out;
}

async function run(flags: SmokeFlags, cmd: Command, ctx: Context): Promise<Outcome> {
  const { ui } = ctx;
  const smoke = await import('../../core/smoke/index.ts');
  const { usageError } = await import('../../core/errors.ts');
  const { parseParams } = await import('../common.ts');

  const { settings, sources } = settingsFor(cmd, ui);
  const steps = flags.steps !== undefined ? smoke.parseSteps(flags.steps) : undefined;
  const expectFail = smoke.parseExpectFail(flags.expectFail);
  const grant = flags.grant as import('../../core/smoke/index.ts').SmokeGrant;
  if (!smoke.SMOKE_GRANTS.includes(grant)) {
    throw usageError('UNKNOWN_GRANT', `smoke cannot use --grant ${flags.grant}`, {
      hint: `use one of: ${smoke.SMOKE_GRANTS.join(', ')} (authorization_code needs a person: \`mtls-oauth login\`)`,
    });
  }
  if (flags.refreshTokenEnv && grant !== 'refresh_token') {
    throw usageError('GRANT_OPTION', '--refresh-token-env belongs to --grant refresh_token', {
      hint: 'add --grant refresh_token, or drop --refresh-token-env',
    });
  }
  if (flags.username && grant !== 'password') {
    throw usageError('GRANT_OPTION', '--username belongs to --grant password', {
      hint: 'add --grant password (the password comes from MTLS_OAUTH_PASSWORD), or drop --username',
    });
  }
  if (flags.junit) {
    const { checkOutputs } = await import('../../core/files.ts');
    checkOutputs([flags.junit], { force: true });
  }
  const extra = parseParams(flags.param);
  const securityProfile = flags.securityProfile
    ? (await import('../../core/fapi2.ts')).parseSecurityProfile(flags.securityProfile)
    : undefined;

  let cache: import('../../core/token-cache.ts').TokenCache | undefined;
  if (flags.cache) {
    const { TokenCache } = await import('../../core/token-cache.ts');
    cache = new TokenCache({ warn: (m) => ui.warn(m) });
  }
  const refreshToken =
    grant === 'refresh_token'
      ? smoke.refreshTokenFor({
          envVar: flags.refreshTokenEnv,
          cache,
          settings,
          warn: (m) => ui.warn(m),
        })
      : undefined;
  const password = grant === 'password' ? process.env.MTLS_OAUTH_PASSWORD : undefined;
  if (grant === 'password' && !password) {
    throw usageError('NO_PASSWORD', 'the password grant needs MTLS_OAUTH_PASSWORD (smoke never prompts)', {
      hint: 'export MTLS_OAUTH_PASSWORD from your CI secret store; never pass a password as a flag',
    });
  }

  const spinner = await ui.spinner('smoke test');
  let report: SmokeReport;
  try {
    report = await smoke.runSmoke({
      settings,
      sources,
      steps,
      expectFail,
      grant,
      ...(securityProfile ? { securityProfile } : {}),
      refreshToken,
      username: flags.username,
      password,
      resource: flags.resource,
      audience: flags.audience,
      extra,
      cache,
      showSecrets: ui.showSecrets,
      log: ui.verbose ? (line) => ui.debug(line) : undefined,
      warn: (m) => ui.warn(m),
      onStep: (s) => spinner.text(`smoke test: ${s}`),
    });
  } finally {
    spinner.stop();
  }

  if (flags.junit) {
    const [{ junitXml }, { writeFileAtomic }] = await Promise.all([
      import('../junit.ts'),
      import('../../core/files.ts'),
    ]);
    const suite = `mtls-oauth smoke ${report.issuer ?? report.endpoints.token?.url ?? ''}`.trim();
    const xml = junitXml(
      suite,
      report.steps.map((s) => ({
        name: s.name,
        status: s.status,
        timeMs: s.timeMs,
        detail: s.detail,
        hint: s.hint,
      })),
    );
    writeFileAtomic(flags.junit, xml, { force: true, mode: 0o644 });
  }

  const checks: Check[] = report.steps.map((s) => ({ name: s.name, status: s.status, detail: s.detail }));
  const { connections, ...rest } = report;
  const result = { ...rest, ...(flags.junit ? { junit: flags.junit } : {}) };
  const outcome: Outcome = {
    result,
    checks,
    tls: connections,
    human: () => renderHuman(ui, report, flags.junit),
  };
  if (report.unreachable) {
    const u = report.unreachable;
    outcome.exitCode = EXIT.network;
    outcome.error = {
      code: u.code,
      message: `the IdP could not be reached (${u.step}): ${u.message}`,
      ...(u.hint ? { hint: u.hint } : {}),
    };
  } else if (!report.ok) {
    const failed = report.steps.filter((s) => s.status === 'fail');
    const first = failed[0];
    outcome.exitCode = EXIT.checkFailed;
    outcome.error = {
      code: 'SMOKE_FAILED',
      message:
        failed.length === 1
          ? `step ${first.name} failed: ${first.detail}`
          : `${failed.length} steps failed (${failed.map((s) => s.name).join(', ')}); first, ${first.name}: ${first.detail}`,
      ...(first.hint ? { hint: first.hint } : {}),
    };
  } else {
    outcome.exitCode = EXIT.ok;
  }
  return outcome;
}

export function registerSmoke(program: Command): void {
  const w = Math.max(...STEP_HELP.map(([n]) => n.length));
  const cmd = program
    .command('smoke')
    .description(
      "prove an IdP's mTLS setup end to end: discovery, TLS, token, binding, introspection, revocation",
    )
    .option('--steps <LIST>', 'comma-separated steps to run (default: all; see below)')
    .option(
      '--expect-fail <STEP[=ERROR]>',
      'the step must fail (with that OAuth error or error code) for the run to pass (repeatable)',
      collect,
      [],
    )
    .option('--junit <FILE>', 'also write a JUnit XML report (one testcase per step)')
    .option('--grant <TYPE>', 'client_credentials | refresh_token | password', 'client_credentials')
    .option(
      '--refresh-token-env <VAR>',
      'refresh_token: the environment variable holding the refresh token (default: the token cache)',
    )
    .option('--username <NAME>', 'password: the user (the password comes from MTLS_OAUTH_PASSWORD)')
    .option('--resource <URI>', 'resource indicator (RFC 8707) for the token request')
    .option('--audience <AUD>', 'audience parameter (Auth0, Okta, ...) for the token request')
    .option('-p, --param <key=value>', 'extra token request parameter (repeatable)', collect, [])
    .option('--no-cache', 'neither read nor write the token cache')
    .option(
      '--security-profile <NAME>',
      'also check the IdP and the token against a security profile: fapi2 (the FAPI 2.0 Security Profile)',
    )
    .action(async (_opts, c: Command) => {
      await execute('smoke', c, (ctx) => run(c.opts() as SmokeFlags, c, ctx));
    });
  addIdpOptions(cmd);
  for (const o of cmd.options) if (o.long === '--api') o.hidden = false;
  cmd.addHelpText(
    'after',
    `
Steps (in this order; --steps picks some, and the steps they need run too):
${STEP_HELP.map(([n, d]) => `  ${n.padEnd(w)}  ${d}`).join('\n')}

Each step passes, fails, warns or is skipped ("needs token" when an earlier step it depends on
failed), with its time and, on failure, the IdP's error and a hint. --expect-fail inverts a step
for negative tests: "--expect-fail token=invalid_client" passes only when the IdP refuses the token
request with invalid_client, or with a bare HTTP 401/403 (CLIENT_REFUSED: some IdPs refuse a bad
client without an OAuth body). ERROR is an OAuth error or an error code such as TLS_CLIENT_CERT_REJECTED.
Tokens are revoked by the run and never printed (in --json they are fingerprints, sha256:…(N chars),
unless --show-secrets; a --junit report never holds them).
With --api URL (MTLS_OAUTH_API, profile "api") the bound token also goes to that protected API
(RFC 8705 §3): it must be accepted with our certificate and refused without it or with another one;
a refusal that does not come fails the step (API_BINDING_NOT_ENFORCED): the API does not enforce
the binding, and a stolen token works there. The API is another origin than the IdP by design.
One process, one connection per host: the TLS probe's connection carries the requests that follow.

Exit codes: 0 every step passed (warnings and skips included), 1 a step failed (an OAuth error at
a step included), 2 usage, 3 the IdP could not be reached at all (nothing answered).

Examples:
  $ mtls-oauth smoke --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
  $ mtls-oauth smoke --profile staging --junit reports/mtls-smoke.xml
  $ mtls-oauth smoke --profile staging --api https://kong.example.com/orders   # the gateway enforces the binding
  $ mtls-oauth smoke --profile staging --api https://kong.example.com/orders --dpop   # DPoP-bound tokens at the gateway
  $ mtls-oauth smoke --profile openbanking --security-profile fapi2 --junit fapi2.xml
  $ mtls-oauth smoke --issuer https://idp.example.com --client-id kong --cert other.crt --key other.key \\
      --expect-fail token=invalid_client                 # the IdP must refuse an unregistered certificate
  $ mtls-oauth smoke --steps discovery,tls --issuer https://idp.example.com --p12 certs/client.p12
  $ mtls-oauth smoke --grant refresh_token --refresh-token-env KONG_REFRESH_TOKEN --profile ci
  $ MTLS_OAUTH_ISSUER=https://idp.example.com MTLS_OAUTH_CLIENT_ID=kong MTLS_OAUTH_P12=client.p12 \\
      MTLS_OAUTH_P12_PASSWORD=... mtls-oauth smoke --json | jq '.checks[] | select(.status=="fail")'
`,
  );
}
