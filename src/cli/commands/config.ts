import type { Command } from 'commander';
import { addIdpOptions } from '../common.ts';
import { execute } from '../run.ts';
import { table } from '../ui.ts';

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('show the settings commands will use, and where each came from')
    .addHelpText(
      'after',
      `
Examples:
  $ mtls-oauth config show
  $ mtls-oauth config show --profile staging --json
`,
    );
  const show = config
    .command('show')
    .description('print the resolved settings (flag > environment > profile), secrets redacted')
    .action(async (_opts, cmd: Command) => {
      await execute('config show', cmd, async ({ ui }) => {
        const { SETTINGS } = await import('../../core/config.ts');
        const { conceal } = await import('../../core/redact.ts');
        const { settingsFor } = await import('../common.ts');
        const { defaultCacheFile } = await import('../../core/token-cache.ts');
        const r = settingsFor(cmd, ui);
        const tokenCache = {
          file: defaultCacheFile(),
          source: process.env.MTLS_OAUTH_CACHE_DIR ? 'env MTLS_OAUTH_CACHE_DIR' : 'default',
        };
        const entries = Object.entries(r.settings).map(([name, value]) => {
          const spec = SETTINGS[name as keyof typeof SETTINGS] as { secret?: boolean };
          const shown = spec.secret && !ui.showSecrets && typeof value === 'string' ? conceal(value) : value;
          return { name, value: shown, source: r.sources[name as keyof typeof r.sources] };
        });
        return {
          result: {
            configFile: r.configFile ?? null,
            profile: r.profile ?? null,
            tokenCache,
            settings: Object.fromEntries(entries.map((e) => [e.name, { value: e.value, source: e.source }])),
          },
          human: () => {
            ui.out(
              `config file: ${r.configFile ?? '(none found)'}${r.profile ? `, profile "${r.profile}"` : ''}`,
            );
            ui.out(`token cache: ${tokenCache.file}  ${ui.c.dim(`(${tokenCache.source})`)}`);
            if (entries.length === 0) {
              ui.out('no settings: pass flags, set MTLS_OAUTH_* variables, or write ./mtls-oauth.json');
              return;
            }
            for (const line of table(
              entries.map((e) => [e.name, `${String(e.value)}  ${ui.c.dim(`(${e.source})`)}`]),
            )) {
              ui.out(line);
            }
          },
        };
      });
    });
  addIdpOptions(show);
  show.addHelpText(
    'after',
    `
Config file (./mtls-oauth.json, then $XDG_CONFIG_HOME/mtls-oauth/config.json, or --config FILE):
  { "defaultProfile": "staging",
    "profiles": { "staging": { "issuer": "https://idp.example.com", "clientId": "kong",
                               "cert": "certs/client.crt", "key": "certs/client.key" } } }
Paths in a profile are relative to the file. Secrets belong in the environment
(MTLS_OAUTH_CLIENT_SECRET, MTLS_OAUTH_KEY_PASSPHRASE, MTLS_OAUTH_P12_PASSWORD). A config file must
be yours (or root's) and not writable by group or others; one holding a secret must be mode 0600;
"insecure" is never read from a file. Settings from ./mtls-oauth.json are announced on stderr.

Examples:
  $ mtls-oauth config show
  $ mtls-oauth config show --profile staging --json
  $ MTLS_OAUTH_ISSUER=https://idp.example.com mtls-oauth config show
`,
  );
}
