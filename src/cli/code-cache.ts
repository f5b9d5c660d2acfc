// Runs a CommonJS bundle with V8's code cache, as Node 22's module.enableCompileCache() does (Node 20
// has no such thing). Without it, every start of the CLI parses and compiles its bundle again: about
// a third of what a one-request run spends before its first byte goes out.
//
// A cache holds the bytecode of the functions that ran, so there is one per command (the functions
// `token` needs are not those `--help` needs): the first run of a command that goes through writes
// it when the process exits, later runs of that command load it. V8 rejects a cache made by another
// V8 version or other flags (the file is then written again), but checks the source only by its
// length: the file name carries a hash of the bundle (made by the build), so another build never
// meets it.
//
// Where: `.code-cache/` beside the bundle, when that is writable (a checkout, npx), else the user's
// cache directory. Never a shared folder such as /tmp: bytecode is code, and another user must not
// be able to plant it. MTLS_OAUTH_CODE_CACHE=off runs without (nothing read, nothing written).
// Every cache failure is silent: the CLI runs the same, only slower.

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type Module from 'node:module';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { EXIT } from './exit-codes.ts';

/**
 * The cache's name for this run: the command (its help apart), from the arguments; `other` for a
 * word that is none of `commands` (a typo must not leave a cache file of its own).
 */
export function cacheKeyFor(argv: string[], commands: readonly string[]): string {
  const command = argv.find((a) => !a.startsWith('-'));
  const name = command === undefined ? 'root' : commands.includes(command) ? command : 'other';
  const help = argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V');
  return help ? `${name}-help` : name;
}

/** The user's cache directory for this tool (XDG on Linux, the platform's own elsewhere). */
function userCacheRoot(env: NodeJS.ProcessEnv): string {
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'mtls-oauth', 'Cache');
  if (process.platform === 'darwin') return join(env.HOME || homedir(), 'Library', 'Caches', 'mtls-oauth');
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'mtls-oauth');
}

/** Writes `data` into the first of `dirs` that takes it (created private); atomically. */
function writeFirst(dirs: string[], name: string, data: Buffer): string | undefined {
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, name);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, data, { mode: 0o600 });
      renameSync(tmp, file);
      return file;
    } catch {}
  }
  return undefined;
}

export interface CodeCacheOptions {
  /**
   * Node's CommonJS Module class, as the caller's own `module.constructor`: `import 'node:module'`
   * would load Node's public module loader API (its ES module loader with it), about 1 ms a run.
   */
  Module: typeof Module;
  /** Cache name for this run (cacheKeyFor). */
  key: string;
  /** A hash of the bundle's content, from the build. */
  bundleHash: string;
  env?: NodeJS.ProcessEnv;
}

/** What happened, for tests and `MTLS_OAUTH_CODE_CACHE=verbose`. */
export interface CodeCacheOutcome {
  /** The cache file read, when one was. */
  file?: string;
  state: 'off' | 'hit' | 'rejected' | 'miss';
}

/** The module loaded (its `module.exports`) and how. */
export interface CodeCacheLoad extends CodeCacheOutcome {
  exports: unknown;
}

/**
 * Loads `bundle` (a CommonJS file that wraps itself, as the build writes it) as a module, compiled
 * with its code cache when there is one; schedules writing the cache at process exit when there was
 * none or V8 rejected it, if the run went through.
 */
export function requireWithCodeCache(bundle: string, opts: CodeCacheOptions): CodeCacheLoad {
  const env = opts.env ?? process.env;
  // The build makes the bundle pure ASCII (scripts/build.mjs checks), which latin1 reads faster.
  const source = readFileSync(bundle, 'latin1');
  const setting = (env.MTLS_OAUTH_CODE_CACHE ?? '').toLowerCase();
  let outcome: CodeCacheOutcome = { state: 'off' };
  let dirs: string[] = [];
  let name = '';
  let cached: Buffer | undefined;
  if (setting !== 'off' && setting !== '0') {
    const stamp = `${process.version}-${process.arch}-${opts.bundleHash}`;
    name = `${basename(bundle).replace(/\.c?js$/, '')}.${opts.key}.${stamp}.v8`;
    dirs = [join(dirname(bundle), '.code-cache'), join(userCacheRoot(env), 'code-cache')];
    outcome = { state: 'miss' };
    for (const dir of dirs) {
      try {
        cached = readFileSync(join(dir, name));
        outcome.file = join(dir, name);
        // A cache that V8 rejects is rewritten where it was found.
        dirs = [dir, ...dirs.filter((d) => d !== dir)];
        break;
      } catch {}
    }
  }

  // The bundle wraps itself (scripts/build.mjs selfWrapped): as a script, it evaluates to its module
  // function, and V8 compiles the string just read, not a copy with a wrapper around it.
  const script = new Script(source, {
    filename: bundle,
    ...(cached ? { cachedData: cached } : {}),
    // No import() in here: a script from a code cache has no module loader (import-esm.ts).
  });
  if (cached) outcome.state = script.cachedDataRejected ? 'rejected' : 'hit';
  if (dirs.length && outcome.state !== 'hit') {
    // Prepended: boot.ts ends the process in its own exit listener.
    process.prependOnceListener('exit', (code) => {
      // A run that stopped early (bad input, no network, an IdP's refusal, a timeout) compiled only
      // part of what its command needs, and the cache it left would have every later run compile
      // the rest: a first run that fails must not set the speed of all the others. Only a run that
      // went through writes one (exit 0, or 1: it ran, a check failed); the next run tries again.
      if (code !== EXIT.ok && code !== EXIT.checkFailed) return;
      try {
        const file = writeFirst(dirs, name, script.createCachedData());
        if (file) dropOtherBuilds(file);
      } catch {}
    });
  }
  if (setting === 'verbose') process.stderr.write(`code cache: ${outcome.state} ${outcome.file ?? ''}\n`);

  const { Module } = opts;
  const mod = new Module(bundle);
  mod.filename = bundle;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    dirname(bundle),
  );
  const main: unknown = script.runInThisContext();
  if (typeof main !== 'function') throw new Error(`${bundle} is not a self-wrapped bundle (npm run build)`);
  main.call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, dirname(bundle));
  mod.loaded = true;
  return { ...outcome, exports: mod.exports };
}

/** Removes the caches of other builds (another stamp) of the same bundle and key beside `file`. */
function dropOtherBuilds(file: string) {
  const [name, key] = basename(file).split('.');
  for (const other of readdirSync(dirname(file))) {
    const [n, k] = other.split('.');
    if (n === name && k === key && other !== basename(file) && other.endsWith('.v8'))
      rmSync(join(dirname(file), other), { force: true });
  }
}
