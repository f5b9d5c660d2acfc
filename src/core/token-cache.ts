// The token cache: tokens obtained by `token` (and later `login`), kept so that `introspect`,
// `revoke` and `token --grant refresh_token` work without pasting a token.
//
// One JSON file, mode 0600, in the user's config directory:
//   $MTLS_OAUTH_CACHE_DIR/tokens.json, else $XDG_CONFIG_HOME/mtls-oauth/tokens.json,
//   else ~/.config/mtls-oauth/tokens.json (%APPDATA%\mtls-oauth\tokens.json on Windows).
// Entries are keyed by what makes a token belong somewhere: the issuer (if any), the token endpoint
// and the client_id; each entry records the origins it may be sent to (token-origin.ts).
// Every write takes a lock file (tokens.json.lock, exclusive create), re-reads the file, changes one
// entry and replaces the file atomically (files.ts): parallel runs lose no entry, and a rotated
// refresh token is either stored whole or not at all. A file that other users can read, that
// belongs to another user or that is a symbolic link is refused (neither read nor written) with a
// warning: the tokens in it may already have leaked, and the tool must not spread them further.

import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { errnoCode } from './errors.ts';
import { unwritable, writeFileAtomic } from './files.ts';

export const CACHE_FILE_NAME = 'tokens.json';
const VERSION = 1;

/** What the cache keeps for one issuer + client. Times are seconds since the epoch. */
export interface CachedTokens {
  client_id: string;
  issuer?: string;
  token_endpoint?: string;
  access_token?: string;
  token_type?: string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  /** when the access token expires (obtained_at + expires_in), if the IdP said */
  expires_at?: number;
  obtained_at: number;
  /** the grant that produced the access token */
  grant_type?: string;
  /** x5t#S256 of the client certificate the tokens were obtained with, if any */
  x5t_s256?: string;
  /** The origins (scheme://host:port) of the issuer's endpoints: the only places the tokens are sent. */
  origins?: string[];
  /** The thumbprint of the DPoP key the tokens were requested with (RFC 9449: cnf.jkt). */
  dpop_jkt?: string;
  /** That key (a private JWK) when it was made for the run, for `call` to prove possession with. */
  dpop_key?: Record<string, string>;
}

interface CacheDocument {
  version: number;
  entries: Record<string, CachedTokens>;
}

/** The cache file for an environment (MTLS_OAUTH_CACHE_DIR, XDG_CONFIG_HOME, APPDATA, HOME). */
export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MTLS_OAUTH_CACHE_DIR) return join(env.MTLS_OAUTH_CACHE_DIR, CACHE_FILE_NAME);
  const base =
    env.XDG_CONFIG_HOME ||
    (process.platform === 'win32' && env.APPDATA ? env.APPDATA : join(env.HOME || homedir(), '.config'));
  return join(base, 'mtls-oauth', CACHE_FILE_NAME);
}

/**
 * The entry key: the issuer (absent for IdPs without discovery), the token endpoint the tokens come
 * from and the client_id. A token endpoint set by a config file therefore never finds, nor
 * replaces, the entry of the real one.
 */
export function cacheKey(o: { issuer?: string; tokenEndpoint: string; clientId: string }): string {
  return JSON.stringify([o.issuer ?? null, o.tokenEndpoint, o.clientId]);
}

/** The fields of a token response the cache keeps. */
export interface TokenResponseLike {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

/**
 * The entry after a successful token response. It replaces the previous entry, except after a
 * refresh (grant_type refresh_token): a refresh token the IdP did not rotate (none in the response)
 * is kept from `previous`, a rotated one replaces it, and an id_token absent from the response is
 * kept (it still names the session).
 */
export function entryFromTokenResponse(
  r: TokenResponseLike,
  o: {
    clientId: string;
    issuer?: string;
    tokenEndpoint?: string;
    grantType?: string;
    x5tS256?: string;
    /** Where the tokens may be sent (token-origin.ts issuerOrigins). */
    origins?: string[];
    /** The DPoP key of the request (dpop.ts): its thumbprint, and the key itself when generated. */
    dpop?: { jkt: string; generatedKey?: Record<string, string> };
    previous?: CachedTokens;
    now?: number;
  },
): CachedTokens {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const keepPrevious = o.grantType === 'refresh_token' ? o.previous : undefined;
  const entry: CachedTokens = {
    client_id: o.clientId,
    ...(o.issuer ? { issuer: o.issuer } : {}),
    ...(o.tokenEndpoint ? { token_endpoint: o.tokenEndpoint } : {}),
    access_token: r.access_token,
    ...(r.token_type ? { token_type: r.token_type } : {}),
    obtained_at: now,
    ...(typeof r.expires_in === 'number' ? { expires_at: now + Math.floor(r.expires_in) } : {}),
    ...(r.scope !== undefined ? { scope: r.scope } : {}),
    ...(o.grantType ? { grant_type: o.grantType } : {}),
    ...(o.x5tS256 ? { x5t_s256: o.x5tS256 } : {}),
    ...(o.origins?.length ? { origins: o.origins } : {}),
    ...(o.dpop ? { dpop_jkt: o.dpop.jkt } : {}),
    ...(o.dpop?.generatedKey ? { dpop_key: o.dpop.generatedKey } : {}),
  };
  const refresh = r.refresh_token ?? keepPrevious?.refresh_token;
  if (refresh) entry.refresh_token = refresh;
  const idToken = r.id_token ?? keepPrevious?.id_token;
  if (idToken) entry.id_token = idToken;
  return entry;
}

export type CacheState =
  | { usable: true }
  | { usable: false; reason: string; hint: string; code: 'CACHE_INSECURE' | 'CACHE_UNREADABLE' };

export interface TokenCacheOptions {
  /** The file (default: defaultCacheFile()). */
  file?: string;
  /** Receives the warning when the file is refused or unreadable (once). */
  warn?: (message: string) => void;
}

/**
 * The token cache file. Reading a missing file gives an empty cache; a refused file gives an empty
 * cache and a warning, and is never written. Nothing here throws for a cache problem: a cache is
 * a convenience, and a command that does not need it goes on.
 */
export class TokenCache {
  readonly file: string;
  private readonly warnSink?: (message: string) => void;
  private warned = false;
  private refused?: Extract<CacheState, { usable: false }>;

  constructor(opts: TokenCacheOptions = {}) {
    this.file = opts.file ?? defaultCacheFile();
    this.warnSink = opts.warn;
  }

  private warn(state: Extract<CacheState, { usable: false }>) {
    this.refused = state;
    if (!this.warned) {
      this.warned = true;
      this.warnSink?.(`${state.reason}; ${state.hint}`);
    }
  }

  /** Whether the file may be used: absent, or a regular file of ours that only we can read and write. */
  state(): CacheState {
    if (this.refused) return this.refused;
    let st: import('node:fs').Stats;
    try {
      st = lstatSync(this.file);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { usable: true };
      return {
        usable: false,
        code: 'CACHE_UNREADABLE',
        reason: `token cache ${this.file} cannot be read (${errnoCode(e) ?? (e as Error).message}): not used`,
        hint: 'fix its directory, or pass --no-cache',
      };
    }
    if (st.isSymbolicLink() || !st.isFile()) {
      return {
        usable: false,
        code: 'CACHE_INSECURE',
        reason: `token cache ${this.file} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: not used`,
        hint: 'remove it (tokens are never read or written through links), or pass --no-cache',
      };
    }
    if (process.platform !== 'win32') {
      const uid = process.getuid?.();
      if (uid !== undefined && st.uid !== uid) {
        return {
          usable: false,
          code: 'CACHE_INSECURE',
          reason: `token cache ${this.file} belongs to another user (uid ${st.uid}): not used`,
          hint: 'remove it, or pass --no-cache',
        };
      }
      const mode = st.mode & 0o777;
      if (mode & 0o077) {
        return {
          usable: false,
          code: 'CACHE_INSECURE',
          reason: `token cache ${this.file} has mode ${mode.toString(8).padStart(4, '0')}, readable by others than you: not used`,
          hint: `treat the tokens in it as exposed; run \`chmod 600 ${this.file}\` or delete it`,
        };
      }
    }
    return { usable: true };
  }

  private read(): CacheDocument {
    const empty: CacheDocument = { version: VERSION, entries: {} };
    const s = this.state();
    if (!s.usable) {
      this.warn(s);
      return empty;
    }
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return empty;
      this.warn({
        usable: false,
        code: 'CACHE_UNREADABLE',
        reason: `token cache ${this.file} cannot be read (${errnoCode(e) ?? (e as Error).message}): not used`,
        hint: 'fix its permissions, or pass --no-cache',
      });
      return empty;
    }
    try {
      const doc = JSON.parse(text) as CacheDocument;
      if (!doc || typeof doc !== 'object' || typeof doc.entries !== 'object' || !doc.entries)
        throw new Error();
      return { version: VERSION, entries: doc.entries };
    } catch {
      // A damaged cache is replaced on the next write; say so once.
      if (!this.warned) {
        this.warned = true;
        this.warnSink?.(`token cache ${this.file} is not valid JSON; it will be replaced on the next write`);
      }
      return empty;
    }
  }

  /** The entry for a key, if any. */
  get(key: string): CachedTokens | undefined {
    return this.read().entries[key];
  }

  /** Every entry (for listing). */
  entries(): Record<string, CachedTokens> {
    return this.read().entries;
  }

  /** The entries `match` accepts, most recently obtained first, with their keys. */
  find(match: (entry: CachedTokens) => boolean): Array<[string, CachedTokens]> {
    return Object.entries(this.entries())
      .filter(([, e]) => e && typeof e === 'object' && match(e))
      .sort(([, a], [, b]) => (b.obtained_at ?? 0) - (a.obtained_at ?? 0));
  }

  /** Replaces (or, with undefined, deletes) one entry; see update(). */
  set(key: string, entry: CachedTokens | undefined): boolean {
    return this.update(key, () => entry);
  }

  /**
   * Changes one entry with a function of its current value: under the lock, re-reads the file,
   * changes that entry only and writes the whole file atomically with mode 0600. Returns false
   * (after a warning) when the file is refused or cannot be written.
   */
  update(key: string, change: (current: CachedTokens | undefined) => CachedTokens | undefined): boolean {
    const state = this.state();
    if (!state.usable) {
      this.warn(state);
      return false;
    }
    try {
      return withLock(this.file, () => {
        const doc = this.read();
        if (this.refused) return false;
        const entry = change(doc.entries[key]);
        if (entry) doc.entries[key] = entry;
        else delete doc.entries[key];
        writeFileAtomic(this.file, `${JSON.stringify(doc, null, 2)}\n`, {
          force: true,
          mode: 0o600,
          dirMode: 0o700,
        });
        return true;
      });
    } catch (e) {
      this.warn({
        usable: false,
        code: 'CACHE_UNREADABLE',
        reason: `token cache ${this.file} could not be written: ${(e as Error).message}`,
        hint: 'the tokens were not cached; fix the directory or pass --no-cache',
      });
      return false;
    }
  }
}

/** How long a writer waits for another one, and when a lock is left over from a crash. */
const LOCK_WAIT_MS = 15_000;
const LOCK_STALE_MS = 30_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A lock left by a process that is gone, or held far longer than any write takes. */
function isStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
      } catch (e) {
        if (errnoCode(e) === 'ESRCH') return true;
      }
    }
    return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // gone already, or being written: try again
  }
}

/**
 * Runs `fn` holding `<file>.lock` (created exclusively, holding our pid), so that a read-modify-
 * write of the cache is never interleaved with another process's. Waits up to LOCK_WAIT_MS.
 */
function withLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (e) {
    throw unwritable(file, e);
  }
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw unwritable(file, e);
      if (isStale(lock)) {
        try {
          unlinkSync(lock);
        } catch {}
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`${lock} is held by another run (remove it if no mtls-oauth is running)`);
      }
      sleepSync(5 + Math.floor(Math.random() * 20));
      continue;
    }
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    break;
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {}
  }
}

/** Whether the cached access token has expired (with `skew` seconds of margin). */
export function isExpired(entry: CachedTokens, now = Math.floor(Date.now() / 1000), skew = 0): boolean {
  return entry.expires_at !== undefined && entry.expires_at <= now + skew;
}
