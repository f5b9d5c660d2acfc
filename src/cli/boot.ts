// What bin/mtls-oauth runs: the CLI bundle (main.cjs, beside this file in dist/cli/) through the
// code cache loader. Built to dist/cli/boot.cjs.

import { join } from 'node:path';
import { UNDICI_V8_FLAGS } from '../core/transport/wasm-flags.ts';
import { type CodeCacheOptions, cacheKeyFor, requireWithCodeCache } from './code-cache.ts';
import { printHelpPage } from './help-page.ts';

/** Every command's name (and commander's `help`), from the build: the code cache's names. */
declare const __COMMANDS__: string[];

/** Runs that never make an HTTP request (help, version, certificates, settings): no undici. */
const withoutHttp = (key: string) => key.endsWith('-help') || ['root', 'certs', 'config'].includes(key);

const key = cacheKeyFor(process.argv.slice(2), __COMMANDS__);
// undici-lite.ts sets V8 flags when undici loads (wasm-flags.ts). V8 stamps a code cache with a hash
// of its flags and rejects it under any others, so a run that may load undici sets them first,
// before compiling; one that never does saves loading node:v8. Either way, all runs of one cache
// key start with the same flags.
if (!withoutHttp(key)) require('node:v8').setFlagsFromString(UNDICI_V8_FLAGS);

declare const __BUNDLE_HASH__: string;
// Help or the version alone: a page the build rendered (help-page.ts); everything else, the CLI.
if (!printHelpPage(process.argv.slice(2), __dirname)) {
  // The run is over once the event loop is empty: every answer written, every socket closed. Node
  // would still free its heap object by object (about 4 ms of a request-making run here), with
  // nothing left to lose: the process ends at once. Other exit listeners of ours run first
  // (code-cache.ts prepends its own).
  process.on('exit', (code) => process.exit(code));
  requireWithCodeCache(join(__dirname, 'main.cjs'), {
    Module: module.constructor as CodeCacheOptions['Module'],
    key,
    bundleHash: __BUNDLE_HASH__,
  });
}
