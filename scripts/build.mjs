// Bundles the CLI (dist/cli/) and the library (dist/index.js) with esbuild. One bundle starts faster
// than hundreds of node_modules files (docs/design.md "One bundle"); heavy modules (undici,
// jose, ora) initialise only when a command needs them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import {
  CHUNKS,
  chunkedLibraries,
  commandNames,
  IMPORT_ESM_FILE,
  importEsmFile,
  lazyBuiltins,
  lazyChildProcess,
  trimUndici,
  wasmFiles,
  writeWasmFiles,
} from './build-plugins.mjs';

const require = createRequire(import.meta.url);
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;

// Build beside dist/ and swap it in, so a test running the CLI never sees a half-written dist/; a
// failed build leaves dist/ as it was and nothing beside it.
const tmp = `dist.tmp-${process.pid}`;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // `open` ships its own xdg-open script next to its module; it must stay in node_modules.
  external: ['open'],
  // The commands' names and commander's `help`: the CLI's code caches are named after them.
  define: { __VERSION__: JSON.stringify(version), __COMMANDS__: JSON.stringify([...commandNames(), 'help']) },
  logLevel: 'warning',
  plugins: [lazyChildProcess, lazyBuiltins, trimUndici],
};

// The CLI: one CommonJS bundle, which bin/mtls-oauth runs through V8's code cache
// (src/cli/code-cache.ts; ES modules cannot use it on Node 20), and the loader that does it.
// Heavy modules stay lazy inside the bundle: esbuild initialises a module at its first import().
const cli = {
  ...common,
  outdir: `${tmp}/cli`,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // Comments and layout cost reading and hashing at every start; names stay (stack traces, --debug),
  // and the source map points back into src/.
  minifyWhitespace: true,
  plugins: [...common.plugins, wasmFiles, importEsmFile],
};
// The CLI bundle carries its own CommonJS wrapper: as a script (code-cache.ts compiles it with
// vm.Script) it evaluates to the module function, so V8 compiles the file's string as it was read
// rather than a copy of the whole bundle with a wrapper around it (about 4 ms a run). Run by Node as a CommonJS
// module (`node dist/cli/main.cjs`), it calls that function with Node's own arguments.
// esbuild shifts the source map by the banner.
const selfWrapped = {
  banner: {
    js: '((main)=>typeof module==="object"?main.call(exports,exports,require,module,__filename,__dirname):main)(function(exports,require,module,__filename,__dirname){',
  },
  footer: { js: '})' },
};
async function buildAll() {
  // V8 checks a code cache against its source's length only: the loader names the caches after a
  // hash of the bundle's (or chunk's) content, so that no other build of it ever runs with this
  // one's bytecode.
  const hashOf = (name) =>
    createHash('sha256')
      .update(readFileSync(`${tmp}/cli/${name}`))
      .digest('hex')
      .slice(0, 16);
  // The libraries only some commands use, each a self-wrapped file of its own (src/cli/chunks.ts);
  // then the bundle, which knows their hashes.
  const chunkHashes = {};
  const chunkExports = {};
  for (const [name, { entry }] of Object.entries(CHUNKS)) {
    const file = `${tmp}/cli/chunk-${name}.cjs`;
    await build({
      ...cli,
      ...selfWrapped,
      stdin: { contents: entry, resolveDir: process.cwd(), sourcefile: `chunk-${name}.js`, loader: 'js' },
      outdir: undefined,
      outfile: file,
    });
    chunkHashes[name] = hashOf(`chunk-${name}.cjs`);
    // An ES module's export names, for the bundle's stand-in (build-plugins.mjs chunkedLibraries).
    const exports = require(`${process.cwd()}/${file}`);
    if (exports.__esModule) chunkExports[name] = Object.keys(exports);
  }
  await build({
    ...cli,
    ...selfWrapped,
    entryPoints: { main: 'src/cli/main.ts' },
    plugins: [...cli.plugins, chunkedLibraries(chunkExports)],
    define: { ...cli.define, __CHUNK_HASHES__: JSON.stringify(chunkHashes) },
  });
  // Every help page and the version, for runs that print only those (src/cli/help-page.ts):
  // rendered by the command tree itself, built for the purpose and dropped after.
  const render = `${tmp}/render-help-pages.cjs`;
  await build({
    ...cli,
    entryPoints: ['src/cli/render-help-pages.ts'],
    outdir: undefined,
    outfile: render,
    sourcemap: false,
  });
  const pages = await require(`${process.cwd()}/${render}`).renderHelpPages();
  if (!pages.pages.token || !pages.version)
    throw new Error('help pages: the command tree rendered no token page');
  writeFileSync(`${tmp}/cli/help-pages.json`, JSON.stringify(pages));
  rmSync(render);
  await build({
    ...cli,
    entryPoints: { boot: 'src/cli/boot.ts' },
    define: { ...common.define, __BUNDLE_HASH__: JSON.stringify(hashOf('main.cjs')) },
  });
  writeWasmFiles(`${tmp}/cli`);
  writeFileSync(`${tmp}/cli/import-esm.cjs`, IMPORT_ESM_FILE);
  // The code cache loader reads the bundle as latin1 (faster than UTF-8): it must be ASCII, as
  // esbuild writes by default (non-ASCII characters in strings escaped, comments dropped).
  const scripts = ['main.cjs', ...Object.keys(CHUNKS).map((n) => `chunk-${n}.cjs`)];
  for (const name of [...scripts, 'boot.cjs']) {
    const at = readFileSync(`${tmp}/cli/${name}`).findIndex((byte) => byte > 0x7f);
    if (at >= 0)
      throw new Error(`dist/cli/${name} is not ASCII (byte ${at}): the code cache loader reads it as latin1`);
  }
  // A script compiled from a code cache has no module loader: an import() left in the bundle (one
  // that esbuild could not turn into a bundled module) would fail at run time. Use import-esm.ts.
  for (const name of scripts) {
    const dynamicImport = /\bimport\(\s*["'`]([^"'`]*)/.exec(readFileSync(`${tmp}/cli/${name}`, 'latin1'));
    if (dynamicImport)
      throw new Error(
        `dist/cli/${name} still has import("${dynamicImport[1]}"): load it with src/cli/import-esm.ts`,
      );
  }

  // The library (`import 'mtls-oauth'`): ES modules, split so that heavy modules load on use.
  await build({
    ...common,
    entryPoints: { index: 'src/core/index.ts' },
    outdir: tmp,
    splitting: true,
    format: 'esm',
    chunkNames: 'chunks/[name]-[hash]',
    // node-forge is CommonJS and requires Node built-ins; give the ESM bundle a real `require`.
    // Lazily: most chunks never call it, and createRequire costs about a millisecond each.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; let __rq; const require = (id) => (__rq ??= __cr(import.meta.url))(id);",
    },
  });
  // Its type declarations (tsconfig.types.json), from the TypeScript this checkout type-checks with.
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.types.json', '--outDir', `${tmp}/types`],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error('the type declarations did not build (tsc -p tsconfig.types.json)');
}

try {
  await buildAll();
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  throw e;
}
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {}
renameSync(tmp, 'dist');
rmSync(old, { recursive: true, force: true });
