// Flags shared by every command that talks to an IdP, and their resolution into Settings
// (flag > MTLS_OAUTH_* environment > config profile).

import { type Command, Option } from 'commander';
import { type ResolvedSettings, resolveSettings, SETTINGS, type SettingName } from '../core/config.ts';
import type { Ui } from './ui.ts';

const VALUE_NAMES: Partial<Record<SettingName, string>> = {
  issuer: 'URL',
  clientId: 'ID',
  cert: 'FILE',
  key: 'FILE',
  p12: 'FILE',
  ca: 'FILE',
  caMode: 'add|replace',
  auth: 'METHOD',
  timeout: 'SECONDS',
  scope: 'SCOPE',
  signingKey: 'FILE',
  assertionAudience: 'endpoint|issuer|URL',
  keyPassphrase: 'PASSPHRASE',
  p12Password: 'PASSWORD',
  clientSecret: 'SECRET',
};

/** Adds the IdP connection flags (each also read from its environment variable). */
export function addIdpOptions(cmd: Command, omit: SettingName[] = []): Command {
  for (const [name, spec] of Object.entries(SETTINGS) as Array<
    [SettingName, (typeof SETTINGS)[SettingName]]
  >) {
    if (omit.includes(name)) continue;
    const flag = spec.kind === 'boolean' ? spec.flag : `${spec.flag} <${VALUE_NAMES[name] ?? 'VALUE'}>`;
    const opt = new Option(flag, `${spec.describe} [${spec.env}]`);
    // Secrets on the command line are visible in the process list: keep them out of the help.
    if ('secret' in spec && spec.secret) opt.hideHelp();
    if (
      ['tokenEndpoint', 'introspectionEndpoint', 'revocationEndpoint', 'authorizationEndpoint'].includes(name)
    ) {
      opt.hideHelp();
    }
    cmd.addOption(opt);
  }
  cmd.option('--config <FILE>', 'config file with profiles [MTLS_OAUTH_CONFIG] (default ./mtls-oauth.json)');
  cmd.option('--profile <NAME>', 'profile in the config file [MTLS_OAUTH_PROFILE]');
  return cmd;
}

/** Resolves the command's settings and prints the warnings (secrets given as flags). */
export function settingsFor(cmd: Command, ui: Ui): ResolvedSettings {
  const opts = cmd.opts() as Record<string, unknown> & { config?: string; profile?: string };
  const flags: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    // commander sets source 'cli' only for values typed on the command line.
    if (opts[name] !== undefined && cmd.getOptionValueSource(name) === 'cli') flags[name] = opts[name];
  }
  const resolved = resolveSettings({ flags, configPath: opts.config, profile: opts.profile });
  for (const w of resolved.warnings) ui.warn(w);
  return resolved;
}
