import { Command, Option } from 'commander';
import { registerCommands } from './commands/index.ts';
import { EXIT } from './exit-codes.ts';
import { commanderOutput, writeFd } from './stdio.ts';
import { commandPath, usageEnvelope, wantsJson } from './usage-json.ts';

declare const __VERSION__: string | undefined;

const program = new Command('mtls-oauth')
  .description('Test OAuth 2.0 / OpenID Connect flows with mutual-TLS client authentication (RFC 8705).')
  .version(typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev', '-V, --version')
  .option('--json', 'print exactly one JSON document on stdout (for scripts and CI)')
  .option('-v, --verbose', 'show each request, response and TLS connection on stderr (secrets redacted)')
  .option('--show-secrets', 'print tokens and other secrets in full')
  .option('--no-color', 'plain output (also: NO_COLOR=1)')
  .addOption(new Option('--debug', 'show stack traces for unexpected errors').hideHelp())
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput(commanderOutput())
  .exitOverride();

registerCommands(program, process.argv.slice(2));

program.addHelpText(
  'after',
  `
Exit codes:
  0 success   1 a check failed   2 usage or bad input   3 network or TLS failure
  4 the IdP answered with an OAuth error   5 timed out   130 interrupted

Examples:
  $ mtls-oauth certs init                        # a test CA and a CN=kong client certificate in ./certs
  $ mtls-oauth discover https://idp.example.com  # what the IdP supports for mTLS
  $ mtls-oauth token --issuer https://idp.example.com --client-id kong \\
      --cert certs/client.crt --key certs/client.key
`,
);

// No top-level await: the CLI bundle is CommonJS (dist/cli/main.cjs), for V8's code cache.
program.parseAsync(process.argv).catch((e: unknown) => {
  // commander throws on --help/--version (exit 0) and on usage errors (already printed).
  const err = e as { code?: string; exitCode?: number };
  if (
    err.code === 'commander.helpDisplayed' ||
    err.code === 'commander.version' ||
    err.code === 'commander.help'
  ) {
    process.exitCode = EXIT.ok;
  } else if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
    const argv = process.argv.slice(2);
    if (wantsJson(argv)) {
      const env = usageEnvelope(commandPath(program, argv), (e as Error).message);
      writeFd(1, `${JSON.stringify(env, null, 2)}\n`);
    }
    process.exitCode = EXIT.usage;
  } else {
    throw e;
  }
});
