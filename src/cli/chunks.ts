// Libraries that only some commands use (jose, yaml, qrcode, ora, node-forge: about 490 kB) are
// built into files of their own beside the CLI bundle (dist/cli/chunk-<name>.cjs,
// scripts/build.mjs), and the bundle's imports of them come here (build plugin chunkedLibraries).
// Every run reads the whole bundle before it does anything, at about 7 ms per MB on a small
// machine; a `smoke` run needs none of these. A chunk is loaded at its first import, through the
// same code cache as the bundle, under the same command's name.

import { join } from 'node:path';
import { type CodeCacheOptions, cacheKeyFor, requireWithCodeCache } from './code-cache.ts';

/** Every command's name (and commander's `help`), from the build: the code cache's names. */
declare const __COMMANDS__: string[];

/** Each chunk's content hash, from the build (a cache never outlives the chunk it was made of). */
declare const __CHUNK_HASHES__: Record<string, string>;

const loaded = new Map<string, unknown>();

/** `module.exports` of the chunk `name` (one of the build's CHUNKS), loaded once. */
export function loadChunk(name: string): unknown {
  if (!loaded.has(name)) {
    const file = join(__dirname, `chunk-${name}.cjs`);
    const key = cacheKeyFor(process.argv.slice(2), __COMMANDS__);
    loaded.set(
      name,
      requireWithCodeCache(file, {
        // The CLI bundle's own module object (code-cache.ts made it).
        Module: module.constructor as CodeCacheOptions['Module'],
        key,
        bundleHash: __CHUNK_HASHES__[name] ?? 'unknown',
      }).exports,
    );
  }
  return loaded.get(name);
}
