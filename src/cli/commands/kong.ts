// `mtls-oauth kong`: the Kong configuration (decK file or Admin API requests) for the setup this run
// proves with smoke first: a Certificate entity for the client certificate, a CA Certificate for the
// IdP's server CA, and the openid-connect plugin with the client authentication that worked. The
// configuration is built in src/core/kong/; this file holds the flags, the smoke run and the output.

import { type Command, Option } from 'commander';
import type { Check } from '../../core/check.ts';
import { addIdpOptions, settingsFor } from '../common.ts';
import { EXIT } from '../exit-codes.ts';
import { type Context, execute, type Outcome } from '../run.ts';

interface KongFlags {
  format: 'deck' | 'admin-api';
  verify: boolean;
  includeKey?: boolean;
  output?: string;
  force?: boolean;
  service?: string;
}

async function run(flags: KongFlags, cmd: Command, ctx: Context): Promise<Outcome> {
  const { ui } = ctx;
  const [{ usageError }, kong, render, { loadClientIdentity }, files] = await Promise.all([
    import('../../core/errors.ts'),
    import('../../core/kong/config.ts'),
    import('../../core/kong/render.ts'),
    import('../../core/transport/identity.ts'),
    import('../../core/files.ts'),
  ]);
  const { settings, sources } = settingsFor(cmd, ui);

  // Everything the user can get wrong is refused before the first request.
  if (flags.includeKey && !flags.output) {
    throw usageError(
      'KONG_KEY_TO_STDOUT',
      '--include-key puts the private key in the output: it needs -o FILE',
      {
        hint: 'add -o kong.yaml (written with mode 0600), or drop --include-key: decK then reads the key from DECK_CLIENT_KEY',
      },
    );
  }
  if (!settings.issuer) {
    throw usageError('KONG_NO_ISSUER', "Kong's openid-connect plugin needs the IdP's issuer", {
      hint: 'pass --issuer URL (or MTLS_OAUTH_ISSUER)',
    });
  }
  const identity = await loadClientIdentity(settings);
  if (!identity) {
    throw usageError('NO_CLIENT_CERT', 'kong configures a client certificate, and none is given', {
      hint: 'pass --cert FILE --key FILE (or --p12 FILE), e.g. from `mtls-oauth certs init`',
    });
  }
  const { parseAuthMethod } = await import('../../core/client-auth.ts');
  const authMethod = kong.mtlsMethod(settings.auth ? parseAuthMethod(settings.auth) : 'tls_client_auth');
  if (flags.output) files.checkOutputs([flags.output], { force: !!flags.force });
  const caCertificates = settings.ca
    ? (await import('../../core/pki/pem.ts')).readCertificates(
        files.readInputFile(settings.ca, 'the CA certificate file'),
        settings.ca,
        { what: 'CA certificate' },
      )
    : [];
  const key = flags.includeKey
    ? await (await import('../../core/kong/key.ts')).unencryptedKeyPem(identity)
    : undefined;
  const base = {
    issuer: settings.issuer,
    chain: identity.chain,
    x5tS256: identity.x5tS256,
    caCertificates,
    ...(settings.ca ? { caSource: settings.ca } : {}),
    ...(flags.service ? { service: flags.service } : {}),
    ...(settings.insecure ? { insecure: true } : {}),
  };

  let facts: import('../../core/kong/config.ts').KongFacts;
  let checks: Check[] = [];
  let tls: unknown;
  if (flags.verify) {
    const smoke = await import('../../core/smoke/index.ts');
    const spinner = await ui.spinner('kong: smoke test');
    let report: import('../../core/smoke/index.ts').SmokeReport;
    try {
      report = await smoke.runSmoke({
        settings,
        sources,
        warn: (m) => ui.warn(m),
        log: ui.verbose ? (line) => ui.debug(line) : undefined,
        onStep: (s) => spinner.text(`kong: smoke test: ${s}`),
      });
    } finally {
      spinner.stop();
    }
    checks = report.steps.map((s) => ({ name: s.name, status: s.status, detail: s.detail }));
    tls = report.connections;
    const failed = report.steps.find((s) => s.status === 'fail');
    if (report.unreachable || failed) {
      // No configuration from a setup that did not work: the steps say why.
      const steps = report.steps.map(({ name, status, detail, hint }) => ({
        name,
        status,
        detail,
        ...(hint ? { hint } : {}),
      }));
      const u = report.unreachable;
      return {
        result: { verified: false, steps },
        checks,
        tls,
        exitCode: u ? EXIT.network : EXIT.checkFailed,
        error: u
          ? {
              code: u.code,
              message: `refusing to print a Kong configuration: the IdP could not be reached (${u.step}): ${u.message}`,
              ...(u.hint ? { hint: u.hint } : {}),
            }
          : {
              code: 'KONG_UNVERIFIED',
              message: `refusing to print a Kong configuration: smoke step ${failed!.name} failed: ${failed!.detail}`,
              hint: `${failed!.hint ? `${failed!.hint}; ` : ''}fix it and run again (\`mtls-oauth smoke\` shows every step), or --no-verify to print it unproven`,
            },
        human: () => {
          for (const s of report.steps) ui.err(`  ${s.status.padEnd(4)}  ${s.name}: ${s.detail}`);
        },
      };
    }
    facts = kong.factsFromSmoke(report, base);
  } else {
    ui.warn(
      '--no-verify: the configuration is not proven against the IdP; run `mtls-oauth smoke` with the same settings',
    );
    facts = kong.unverifiedFacts({ ...base, clientId: settings.clientId ?? '', authMethod });
  }
  if (!facts.clientId) {
    throw usageError('KONG_NO_CLIENT_ID', "Kong's openid-connect plugin needs the client_id", {
      hint: 'pass --client-id ID (or MTLS_OAUTH_CLIENT_ID)',
    });
  }

  const config = kong.kongConfig(facts);
  const text =
    flags.format === 'deck'
      ? render.renderDeck(config, { key })
      : render.renderAdminApi(config, { key, ...(settings.key ? { keyFile: settings.key } : {}) });
  const mode = key ? 0o600 : 0o644;
  if (flags.output) files.writeFileAtomic(flags.output, text, { force: !!flags.force, mode });

  const reasons = Object.fromEntries(Object.entries(config.plugin.config).map(([k, f]) => [k, f.why]));
  const result = {
    format: flags.format,
    verified: !!facts.verifiedBy,
    ...(facts.verifiedBy ? { verifiedBy: facts.verifiedBy } : {}),
    ...(flags.output ? { output: flags.output, mode: `0${mode.toString(8)}` } : {}),
    keyIncluded: !!key,
    // The decK structure without the key: it is in the output file only (--include-key).
    config: render.deckObject(config),
    reasons,
  };
  return {
    result,
    checks,
    ...(tls ? { tls } : {}),
    exitCode: EXIT.ok,
    human: () => {
      if (facts.verifiedBy) ui.err(ui.e.green(`verified: ${facts.verifiedBy}`));
      if (flags.output) {
        ui.out(
          `Kong configuration (${flags.format}) written to ${flags.output}${key ? ' (mode 0600: it holds the private key)' : ''}`,
        );
      } else ui.writeStdout(text);
    },
  };
}

export function registerKong(program: Command): void {
  const cmd = program
    .command('kong')
    .description(
      'print the Kong openid-connect configuration (decK or Admin API) for the mTLS setup smoke proves',
    )
    .addOption(
      new Option('--format <FORMAT>', 'deck (a decK state file) or admin-api (curl requests)')
        .choices(['deck', 'admin-api'])
        .default('deck'),
    )
    .option('--no-verify', 'print without running smoke first (the configuration is then unproven)')
    .option('--include-key', 'put the private key in the output (needs -o FILE, written with mode 0600)')
    .option('-o, --output <FILE>', 'write the configuration to FILE instead of stdout')
    .option('--force', 'replace FILE if it exists')
    .option('--service <NAME>', 'attach the plugin to this Kong Service (default: a global plugin)')
    .action(async (_opts, c: Command) => {
      await execute('kong', c, (ctx) => run(c.opts() as KongFlags, c, ctx));
    });
  // Kong's configuration is for mTLS client authentication: DPoP is not part of it.
  addIdpOptions(cmd, ['dpop', 'dpopKey']);
  cmd.addHelpText(
    'after',
    `
kong runs the smoke steps first (discovery, tls, token, binding, introspect, revoke,
introspect-after-revoke) and prints nothing if one fails (exit 1, naming the step). From the run it
takes the client authentication that worked (client_auth), whether the IdP binds tokens to the
certificate (proof_of_possession_mtls: strict), and the mTLS endpoint aliases it used. Each field
carries a comment saying why it has its value; docs/kong.md explains them.

The private key is never printed: decK reads it from DECK_CLIENT_KEY, the Admin API script from the
file in CLIENT_KEY_FILE. --include-key puts it in the output, which must then be a file (-o FILE,
mode 0600, never replaced without --force). Entity ids are derived from the certificate's
fingerprint, the issuer and the client: running kong again gives the same ids.

Exit codes: 0 printed, 1 a smoke step failed (nothing printed), 2 usage, 3 the IdP could not be reached.

Examples:
  $ mtls-oauth kong --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key > kong.yaml
  $ DECK_CLIENT_KEY="$(cat certs/client.key)" deck gateway sync kong.yaml
  $ mtls-oauth kong --profile staging --include-key -o kong.yaml       # key inside, mode 0600
  $ mtls-oauth kong --profile staging --format admin-api -o kong-setup.sh && sh kong-setup.sh
  $ mtls-oauth kong --profile staging --service orders --ca certs/idp-ca.crt
  $ mtls-oauth kong --profile staging --json | jq .result.config.plugins[0].config
`,
  );
}
