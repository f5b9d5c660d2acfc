// Flags shared by every command that talks to an IdP, and their resolution into Settings
// (flag > MTLS_OAUTH_* environment > config profile); -p key=value parameters.

import { type Command, Option } from 'commander';
import { type ResolvedSettings, resolveSettings, SETTINGS, type SettingName } from '../core/config.ts';
import { usageError } from '../core/errors.ts';
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
  api: 'URL',
  signingKey: 'FILE',
  dpopKey: 'FILE',
  assertionAudience: 'endpoint|issuer|URL',
  keyPassphrase: 'PASSPHRASE',
  p12Password: 'PASSWORD',
  clientSecret: 'SECRET',
  connectTo: 'HOST:PORT:HOST2:PORT2',
};

/**
 * The settings of a client of the IdP and of what it calls (its id and authentication, DPoP, the
 * endpoints it uses, the API): commands that only look at the IdP (tls, discover) offer none of them.
 */
export const CLIENT_SETTINGS: SettingName[] = [
  'clientId',
  'auth',
  'clientSecret',
  'signingKey',
  'assertionAudience',
  'scope',
  'dpop',
  'dpopKey',
  'api',
  'tokenEndpoint',
  'introspectionEndpoint',
  'revocationEndpoint',
  'authorizationEndpoint',
];

/** The settings of the client certificate and key: discover fetches public documents without one. */
export const IDENTITY_SETTINGS: SettingName[] = ['cert', 'key', 'p12', 'keyPassphrase', 'p12Password'];

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
      [
        'tokenEndpoint',
        'introspectionEndpoint',
        'revocationEndpoint',
        'authorizationEndpoint',
        'api',
      ].includes(name)
    ) {
      opt.hideHelp();
    }
    cmd.addOption(opt);
  }
  cmd.option('--config <FILE>', 'config file with profiles [MTLS_OAUTH_CONFIG] (default ./mtls-oauth.json)');
  cmd.option('--profile <NAME>', 'profile in the config file [MTLS_OAUTH_PROFILE]');
  return cmd;
}

/**
 * Resolves the command's settings and prints the warnings (secrets given as flags) and notices (a
 * config file from the current directory). `omit` leaves out flags the command uses for something
 * else; `flags` adds values of its own (e.g. values a command computes itself).
 */
export function settingsFor(
  cmd: Command,
  ui: Ui,
  o: { omit?: SettingName[]; flags?: Partial<Record<SettingName, unknown>> } = {},
): ResolvedSettings {
  const opts = cmd.opts() as Record<string, unknown> & { config?: string; profile?: string };
  const flags: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (o.omit?.includes(name)) continue;
    // commander sets source 'cli' only for values typed on the command line.
    if (opts[name] !== undefined && cmd.getOptionValueSource(name) === 'cli') flags[name] = opts[name];
  }
  const resolved = resolveSettings({
    flags: { ...flags, ...o.flags },
    configPath: opts.config,
    profile: opts.profile,
  });
  for (const w of resolved.warnings) ui.warn(w);
  for (const n of resolved.notices) ui.err(`note: ${n}`);
  return resolved;
}

/** Parses repeated `-p key=value` into an object (usage error on a malformed or repeated key). */
export function parseParams(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) {
      throw usageError('BAD_PARAM', `-p ${p}: expected key=value`, {
        hint: 'e.g. -p audience=https://api.example',
      });
    }
    const k = p.slice(0, eq);
    if (k in out)
      throw usageError('BAD_PARAM', `-p ${k}=... is given twice`, { hint: 'give each parameter once' });
    out[k] = p.slice(eq + 1);
  }
  return out;
}

/** Shows options addIdpOptions hides by default (the endpoint flags a command uses). */
export function showOptions(cmd: Command, longs: string[]): void {
  for (const o of cmd.options) if (o.long && longs.includes(o.long)) o.hidden = false;
}
