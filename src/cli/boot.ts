// What bin/mtls-oauth runs: the CLI bundle (main.cjs, beside this file in dist/cli/) through the
// code cache loader. Built to dist/cli/boot.cjs.

import { join } from 'node:path';
import { cacheKeyFor, requireWithCodeCache } from './code-cache.ts';

/** Runs that never make an HTTP request (help, version, certificates, settings): no undici. */
const withoutHttp = (key: string) => key.endsWith('-help') || ['root', 'certs', 'config'].includes(key);

/**
 * A run that prints help or the version and does nothing else: `--help`, `-h`, `--version` or
 * `-V` with at most the names of a command and a subcommand. Any other flag (or value) may be
 * an error to report, so it goes to the whole CLI.
 */
function printsOnly(argv: string[]): boolean {
  const flags = argv.filter((a) => a.startsWith('-'));
  const words = argv.filter((a) => !a.startsWith('-'));
  return (
    flags.length === 1 &&
    ['--help', '-h', '--version', '-V'].includes(flags[0]) &&
    words.length <= 2 &&
    words.every((w) => /^[a-z][a-z0-9-]{0,19}$/.test(w))
  );
}

const key = cacheKeyFor(process.argv.slice(2));
// undici-lite.ts sets --liftoff-only when undici loads (see there why). V8 stamps a code cache with
// a hash of its flags and rejects it under any others, so a run that may load undici sets the flag
// first, before compiling; one that never does saves loading node:v8. Either way, all runs of one
// cache key start with the same flags.
if (!withoutHttp(key)) require('node:v8').setFlagsFromString('--liftoff-only');

declare const __BUNDLE_HASH__: string;
declare const __HELP_BUNDLE_HASH__: string;
// Help and version only: the command tree without the engine (help.cjs; scripts/build.mjs).
if (printsOnly(process.argv.slice(2))) {
  requireWithCodeCache(join(__dirname, 'help.cjs'), { key, bundleHash: __HELP_BUNDLE_HASH__ });
} else {
  requireWithCodeCache(join(__dirname, 'main.cjs'), { key, bundleHash: __BUNDLE_HASH__ });
}
