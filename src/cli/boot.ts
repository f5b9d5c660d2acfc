// What bin/mtls-oauth runs: the CLI bundle (main.cjs, beside this file in dist/cli/) through the
// code cache loader. Built to dist/cli/boot.cjs.

import { join } from 'node:path';
import v8 from 'node:v8';
import { cacheKeyFor, requireWithCodeCache } from './code-cache.ts';

// undici-lite.ts sets this flag when undici loads (see there why). V8 stamps a code cache with a
// hash of its flags and rejects it under any others, so every run sets it first, before compiling.
v8.setFlagsFromString('--liftoff-only');

requireWithCodeCache(join(__dirname, 'main.cjs'), { key: cacheKeyFor(process.argv.slice(2)) });
