// Settings for every command that talks to an IdP, resolved from (in order of precedence)
// command-line flags, MTLS_OAUTH_* environment variables, and a profile in a JSON config file.
//
// A config file decides where tokens and secrets are sent, so it is trusted as ssh trusts its
// config: it must belong to the user (or root) and not be writable by group or others, and a file
// holding a secret must be readable by its owner only; otherwise it is refused (exit 2). Trust in
// the IdP's certificate (`insecure`) never comes from a file. A file found in the current directory
// (a checkout may carry one) is announced on stderr with the keys it set: settingsNotices().

import { closeSync, existsSync, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MtlsOAuthError, usageError } from './errors.ts';

type Kind = 'string' | 'boolean' | 'number' | 'path';

interface SettingSpec {
  kind: Kind;
  env: string;
  flag: string;
  secret?: boolean;
  /** Only from a flag or the environment, never from a config file (trust decisions). */
  notInFile?: boolean;
  describe: string;
}

export const SETTINGS = {
  issuer: { kind: 'string', env: 'MTLS_OAUTH_ISSUER', flag: '--issuer', describe: 'issuer URL' },
  clientId: { kind: 'string', env: 'MTLS_OAUTH_CLIENT_ID', flag: '--client-id', describe: 'client_id' },
  cert: { kind: 'path', env: 'MTLS_OAUTH_CERT', flag: '--cert', describe: 'client certificate (PEM)' },
  key: { kind: 'path', env: 'MTLS_OAUTH_KEY', flag: '--key', describe: 'client private key (PEM)' },
  p12: {
    kind: 'path',
    env: 'MTLS_OAUTH_P12',
    flag: '--p12',
    describe: 'client certificate and key (PKCS#12)',
  },
  ca: { kind: 'path', env: 'MTLS_OAUTH_CA', flag: '--ca', describe: "CA certificates for the IdP's server" },
  caMode: {
    kind: 'string',
    env: 'MTLS_OAUTH_CA_MODE',
    flag: '--ca-mode',
    describe: '"add" to the system roots or "replace" them',
  },
  auth: { kind: 'string', env: 'MTLS_OAUTH_AUTH', flag: '--auth', describe: 'client authentication method' },
  insecure: {
    kind: 'boolean',
    env: 'MTLS_OAUTH_INSECURE',
    flag: '--insecure',
    notInFile: true,
    describe: "skip verification of the IdP's server certificate",
  },
  timeout: { kind: 'number', env: 'MTLS_OAUTH_TIMEOUT', flag: '--timeout', describe: 'seconds per request' },
  scope: { kind: 'string', env: 'MTLS_OAUTH_SCOPE', flag: '--scope', describe: 'scope to request' },
  api: {
    kind: 'string',
    env: 'MTLS_OAUTH_API',
    flag: '--api',
    describe: 'URL of a protected API (resource server) that enforces the certificate binding',
  },
  tokenEndpoint: {
    kind: 'string',
    env: 'MTLS_OAUTH_TOKEN_ENDPOINT',
    flag: '--token-endpoint',
    describe: 'token endpoint (without discovery)',
  },
  introspectionEndpoint: {
    kind: 'string',
    env: 'MTLS_OAUTH_INTROSPECTION_ENDPOINT',
    flag: '--introspection-endpoint',
    describe: 'introspection endpoint (without discovery)',
  },
  revocationEndpoint: {
    kind: 'string',
    env: 'MTLS_OAUTH_REVOCATION_ENDPOINT',
    flag: '--revocation-endpoint',
    describe: 'revocation endpoint (without discovery)',
  },
  authorizationEndpoint: {
    kind: 'string',
    env: 'MTLS_OAUTH_AUTHORIZATION_ENDPOINT',
    flag: '--authorization-endpoint',
    describe: 'authorization endpoint (without discovery)',
  },
  connectTo: {
    kind: 'string',
    env: 'MTLS_OAUTH_CONNECT_TO',
    flag: '--connect-to',
    describe:
      "connect to HOST2:PORT2 for requests to HOST:PORT (curl's meaning; SNI and certificate checks stay on HOST)",
  },
  signingKey: {
    kind: 'path',
    env: 'MTLS_OAUTH_SIGNING_KEY',
    flag: '--signing-key',
    describe: 'private key for private_key_jwt and signed request objects (PEM or JWK)',
  },
  dpop: {
    kind: 'boolean',
    env: 'MTLS_OAUTH_DPOP',
    flag: '--dpop',
    describe: 'DPoP (RFC 9449): a proof of a key with every token request; tokens bound to that key',
  },
  dpopKey: {
    kind: 'path',
    env: 'MTLS_OAUTH_DPOP_KEY',
    flag: '--dpop-key',
    describe: 'the DPoP private key (PEM or JWK; default: a new ES256 key per run); implies --dpop',
  },
  assertionAudience: {
    kind: 'string',
    env: 'MTLS_OAUTH_ASSERTION_AUDIENCE',
    flag: '--assertion-audience',
    describe:
      'private_key_jwt, client_secret_jwt: the aud of the assertion: "endpoint" (the URL called; default), "issuer", or a URL',
  },
  keyPassphrase: {
    kind: 'string',
    env: 'MTLS_OAUTH_KEY_PASSPHRASE',
    flag: '--key-passphrase',
    secret: true,
    describe: 'passphrase of the private key',
  },
  p12Password: {
    kind: 'string',
    env: 'MTLS_OAUTH_P12_PASSWORD',
    flag: '--p12-password',
    secret: true,
    describe: 'password of the PKCS#12 file',
  },
  clientSecret: {
    kind: 'string',
    env: 'MTLS_OAUTH_CLIENT_SECRET',
    flag: '--client-secret',
    secret: true,
    describe: 'client secret (client_secret_basic / _post)',
  },
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<K extends Kind> = K extends 'boolean' ? boolean : K extends 'number' ? number : string;
export type Settings = { -readonly [N in SettingName]?: ValueOf<(typeof SETTINGS)[N]['kind']> };
export type Source = 'flag' | 'env' | 'profile' | 'default';

export interface ResolvedSettings {
  settings: Settings;
  /** Where each value came from, e.g. `env MTLS_OAUTH_ISSUER` or `profile "ci" in ./mtls-oauth.json`. */
  sources: Partial<Record<SettingName, string>>;
  /** The config file read, if any. */
  configFile?: string;
  /** The config file was found in the current directory (not named by --config or MTLS_OAUTH_CONFIG). */
  configFromCwd?: boolean;
  profile?: string;
  warnings: string[];
  /** Lines for stderr that are not warnings: where settings came from when a checkout could have changed them. */
  notices: string[];
}

export interface ResolveInput {
  flags: Partial<Record<SettingName, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** --config: an explicit file must exist. */
  configPath?: string;
  /** --profile (or MTLS_OAUTH_PROFILE). */
  profile?: string;
  cwd?: string;
}

export function defaultConfigFiles(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const base =
    env.XDG_CONFIG_HOME ||
    (process.platform === 'win32' && env.APPDATA ? env.APPDATA : join(env.HOME || homedir(), '.config'));
  return [resolve(cwd, 'mtls-oauth.json'), join(base, 'mtls-oauth', 'config.json')];
}

function coerce(name: SettingName, raw: unknown, origin: string, baseDir?: string): unknown {
  const spec: SettingSpec = SETTINGS[name];
  const bad = (want: string) =>
    usageError('CONFIG_TYPE', `${origin}: "${name}" must be ${want}, got ${JSON.stringify(raw)}`, {
      hint: `fix the value of "${name}" (${spec.describe})`,
    });
  switch (spec.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && /^(1|true|yes|on)$/i.test(raw)) return true;
      if (typeof raw === 'string' && /^(0|false|no|off|)$/i.test(raw)) return false;
      throw bad('true or false');
    case 'number': {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n <= 0) throw bad('a positive number');
      return n;
    }
    case 'path':
      if (typeof raw !== 'string' || raw === '') throw bad('a file path');
      return baseDir ? resolve(baseDir, raw) : raw;
    default:
      if (typeof raw !== 'string' || raw === '') throw bad('a non-empty string');
      return raw;
  }
}

interface ConfigFile {
  defaultProfile?: string;
  profiles: Record<string, Record<string, unknown>>;
  /** Unknown keys, per profile: an error for the profile in use, a warning for the others. */
  problems: Record<string, MtlsOAuthError>;
}

/** The setting a mistyped key probably meant: same letters in another case, or one or two edits away. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return exact;
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

const mode4 = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * Refuses a file another user could have written (POSIX): owned by someone else than the user or
 * root, or writable by group or others. Checked on the open file, so that the file read is the one
 * checked.
 */
function checkConfigOwner(file: string, st: Stats): void {
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw usageError(
      'CONFIG_INSECURE',
      `config file ${file} belongs to another user (uid ${st.uid}): refused, since it decides where tokens and secrets go`,
      {
        hint: `use a config file of your own (--config FILE, or ~/.config/mtls-oauth/config.json), or remove ${file}`,
      },
    );
  }
  if (st.mode & 0o022) {
    throw usageError(
      'CONFIG_INSECURE',
      `config file ${file} has mode ${mode4(st.mode)}, writable by ${st.mode & 0o020 ? 'group' : 'others'}: refused, since anyone who can change it decides where tokens and secrets go`,
      { hint: `check its content, then \`chmod go-w ${file}\`` },
    );
  }
}

/** Refuses a file that holds a secret and that others than its owner may read (POSIX). */
function checkConfigSecrets(file: string, st: Stats, profiles: ConfigFile['profiles']): void {
  if (process.platform === 'win32' || !(st.mode & 0o077)) return;
  for (const [name, p] of Object.entries(profiles)) {
    const key = Object.keys(p).find(
      (k) => Object.hasOwn(SETTINGS, k) && (SETTINGS[k as SettingName] as SettingSpec).secret,
    );
    if (key) {
      throw usageError(
        'CONFIG_SECRET_EXPOSED',
        `config file ${file} holds a secret ("${key}" in profile "${name}") and has mode ${mode4(st.mode)}, readable by others than you: refused`,
        {
          hint: `treat the secret as exposed; move it to ${(SETTINGS[key as SettingName] as SettingSpec).env}, or \`chmod 600 ${file}\``,
        },
      );
    }
  }
}

/** The settings a config file may hold. */
const fileKeys = () =>
  (Object.keys(SETTINGS) as SettingName[]).filter((k) => !(SETTINGS[k] as SettingSpec).notInFile);

export function readConfigFile(file: string): ConfigFile {
  let text: string;
  let st: Stats;
  try {
    const fd = openSync(file, 'r');
    try {
      st = fstatSync(fd);
      checkConfigOwner(file, st);
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof MtlsOAuthError) throw e;
    throw usageError('INPUT_UNREADABLE', `cannot read config file ${file}: ${(e as Error).message}`, {
      hint: 'check the --config path',
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw usageError('CONFIG_JSON', `config file ${file} is not valid JSON: ${(e as Error).message}`, {
      hint: 'the file holds {"profiles": {"NAME": {"issuer": "...", ...}}}',
    });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    throw usageError('CONFIG_SHAPE', `config file ${file} must hold a JSON object`, {
      hint: 'the file holds {"profiles": {"NAME": {"issuer": "...", ...}}}',
    });
  }
  const obj = doc as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (k !== 'profiles' && k !== 'defaultProfile' && k !== '$schema') {
      throw usageError('CONFIG_UNKNOWN_KEY', `config file ${file}: unknown key "${k}"`, {
        hint: 'top-level keys are "profiles" and "defaultProfile"',
      });
    }
  }
  const profiles = obj.profiles ?? {};
  if (!profiles || typeof profiles !== 'object' || Array.isArray(profiles)) {
    throw usageError('CONFIG_TYPE', `config file ${file}: "profiles" must be an object of named profiles`);
  }
  if (obj.defaultProfile !== undefined && typeof obj.defaultProfile !== 'string') {
    throw usageError('CONFIG_TYPE', `config file ${file}: "defaultProfile" must be a string`);
  }
  const problems: Record<string, MtlsOAuthError> = {};
  for (const [name, p] of Object.entries(profiles)) {
    if (!p || typeof p !== 'object' || Array.isArray(p)) {
      throw usageError('CONFIG_TYPE', `config file ${file}: profile "${name}" must be an object`);
    }
    for (const k of Object.keys(p)) {
      if (Object.hasOwn(SETTINGS, k) && (SETTINGS[k as SettingName] as SettingSpec).notInFile) {
        const spec = SETTINGS[k as SettingName];
        throw usageError(
          'CONFIG_KEY_NOT_ALLOWED',
          `config file ${file}: profile "${name}" sets "${k}", which is taken only from ${spec.flag} or ${spec.env}`,
          {
            hint: `remove "${k}" from the file: skipping certificate verification is decided per run, never by a file`,
          },
        );
      }
      if (!Object.hasOwn(SETTINGS, k) && !problems[name]) {
        const guess = closestKey(k, fileKeys());
        problems[name] = usageError(
          'CONFIG_UNKNOWN_KEY',
          `config file ${file}: profile "${name}" has unknown key "${k}"${guess ? ` (did you mean ${guess}?)` : ''}`,
          { hint: guess ? `rename "${k}" to "${guess}"` : `known keys: ${fileKeys().join(', ')}` },
        );
      }
    }
  }
  checkConfigSecrets(file, st, profiles as ConfigFile['profiles']);
  return {
    defaultProfile: obj.defaultProfile as string | undefined,
    profiles: profiles as ConfigFile['profiles'],
    problems,
  };
}

export function resolveSettings(input: ResolveInput): ResolvedSettings {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const out: ResolvedSettings = { settings: {}, sources: {}, warnings: [], notices: [] };
  const wanted = input.profile ?? env.MTLS_OAUTH_PROFILE;

  const explicit = input.configPath ?? env.MTLS_OAUTH_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : defaultConfigFiles(env, cwd).find((f) => existsSync(f));
  let profile: Record<string, unknown> = {};
  if (file) {
    const cfg = readConfigFile(file);
    const name = wanted ?? cfg.defaultProfile ?? (cfg.profiles.default ? 'default' : undefined);
    if (name !== undefined) {
      if (!Object.hasOwn(cfg.profiles, name)) {
        throw usageError('PROFILE_NOT_FOUND', `profile "${name}" is not in ${file}`, {
          hint: `profiles there: ${Object.keys(cfg.profiles).join(', ') || '(none)'}`,
        });
      }
      profile = cfg.profiles[name];
      out.profile = name;
    }
    // A mistake in one profile blocks only that profile; the others are warned about.
    for (const [p, problem] of Object.entries(cfg.problems)) {
      if (p === name) throw problem;
      out.warnings.push(problem.message);
    }
    out.configFile = file;
    out.configFromCwd = !explicit && file === resolve(cwd, 'mtls-oauth.json');
  } else if (wanted) {
    throw usageError('PROFILE_NOT_FOUND', `profile "${wanted}" requested but no config file was found`, {
      hint: `create ./mtls-oauth.json or pass --config FILE`,
    });
  }

  const settings = out.settings as Record<string, unknown>;
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const spec: SettingSpec = SETTINGS[name];
    const flag = input.flags[name];
    if (flag !== undefined) {
      settings[name] = coerce(name, flag, `option ${spec.flag}`);
      out.sources[name] = 'flag';
      if (spec.secret) {
        out.warnings.push(
          `${spec.flag} puts a secret in the process list, visible to every user of this machine; prefer ${spec.env}`,
        );
      }
    } else if (env[spec.env] !== undefined && env[spec.env] !== '') {
      settings[name] = coerce(name, env[spec.env], `environment variable ${spec.env}`, cwd);
      out.sources[name] = `env ${spec.env}`;
    } else if (profile[name] !== undefined) {
      settings[name] = coerce(name, profile[name], `profile "${out.profile}" in ${file}`, dirname(file!));
      out.sources[name] = `profile "${out.profile}" in ${file}`;
    }
  }
  if (out.configFromCwd) {
    const keys = (Object.keys(out.sources) as SettingName[]).filter((k) =>
      out.sources[k]?.startsWith('profile '),
    );
    if (keys.length > 0) {
      out.notices.push(
        `using ${file} from the current directory (profile "${out.profile}"): ${keys.join(', ')}`,
      );
    }
  }
  if (settings.caMode !== undefined && settings.caMode !== 'add' && settings.caMode !== 'replace') {
    throw usageError('CONFIG_TYPE', `"caMode" must be "add" or "replace", got "${settings.caMode}"`);
  }
  const aud = out.settings.assertionAudience;
  if (aud !== undefined && aud !== 'endpoint' && aud !== 'issuer' && !/^https?:\/\/[^\s]+$/.test(aud)) {
    throw usageError(
      'CONFIG_TYPE',
      `"assertionAudience" must be "endpoint", "issuer" or an http(s) URL, got "${aud}"`,
      {
        hint: 'most IdPs take the token endpoint URL (the default); some want their issuer: --assertion-audience issuer',
      },
    );
  }
  return out;
}
