// Bundles the CLI (dist/cli/) and the library (dist/index.js) with esbuild. One bundle starts faster
// than hundreds of node_modules files (see ../shared/sketches/README.md); heavy modules (undici,
// jose, ora) initialise only when a command needs them.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
// commander requires node:child_process at load time for executable subcommands, which this CLI
// never uses; loading it costs ~4 ms of every start. Give commander a stand-in that loads it on use.
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'lazy' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, k) => require('node:child_process')[k] });",
      loader: 'js',
    }));
  },
};

// What undici's modules require, replaced where the transport never needs the real thing (each
// stand-in fails loudly if it ever did). Every one of them is a cost at every start of a request:
// - ./client-h2.js requires node:http2 (about 7 ms); the connector offers only http/1.1 in ALPN.
// - ../web/fetch/body.js (fetch's util, webidl, the multipart parser: ~100 kB to parse) serves
//   FormData bodies; ours are strings.
// - node:assert (about 3 ms): undici only ever calls assert(value) itself.
// - node:http (about 4 ms): undici reads http.maxHeaderSize, which the transport always sets
//   itself (maxHeaderSize), and compares stream constructors with http.IncomingMessage, which the
//   transport never hands it.
const UNDICI_STAND_INS = {
  'client-h2.js':
    "module.exports = function connectH2() { throw Object.assign(new Error('the server chose HTTP/2, which mtls-oauth does not offer'), { code: 'UND_ERR_INFO' }); };",
  'body.js':
    "module.exports = { extractBody() { throw new Error('mtls-oauth sends no FormData bodies'); } };",
  'node:assert':
    "module.exports = function assert(value, message) { if (!value) throw Object.assign(new Error(message || 'undici: assertion failed'), { name: 'AssertionError', code: 'ERR_ASSERTION' }); };",
  'node:http': 'module.exports = { maxHeaderSize: 16384, IncomingMessage: class NotUsedByMtlsOAuth {} };',
};
const trimUndici = {
  name: 'trim-undici',
  setup(b) {
    b.onResolve({ filter: /^node:(assert|http)$|(^|[\\/])(client-h2|body)\.js$/ }, (args) => {
      const name = args.path.startsWith('node:') ? args.path : args.path.split(/[\\/]/).pop();
      const fromUndici = /node_modules[\\/]undici[\\/]lib[\\/]/.test(args.importer);
      if (!fromUndici || !(name in UNDICI_STAND_INS)) return undefined;
      if (name === 'body.js' && !/[\\/]dispatcher[\\/]/.test(args.importer)) return undefined;
      return { path: name, namespace: 'undici-stand-in' };
    });
    b.onLoad({ filter: /.*/, namespace: 'undici-stand-in' }, (args) => ({
      contents: UNDICI_STAND_INS[args.path],
      loader: 'js',
    }));
  },
};

// undici's HTTP parser (llhttp) is WebAssembly that undici ships as base64 in two modules (with and
// without SIMD), 145 kB of the bundle's source and of every code cache that compiled them. The CLI
// bundle reads the bytes from files beside it instead, when the first connection needs them.
const require = createRequire(import.meta.url);
const LLHTTP = ['llhttp-wasm.js', 'llhttp_simd-wasm.js'];
const wasmFiles = {
  name: 'wasm-files',
  setup(b) {
    b.onResolve({ filter: /[\\/]llhttp(_simd)?-wasm\.js$/ }, (args) =>
      /node_modules[\\/]undici[\\/]/.test(args.importer)
        ? { path: args.path.split(/[\\/]/).pop(), namespace: 'wasm-file' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'wasm-file' }, (args) => ({
      contents: `module.exports = require('node:fs').readFileSync(require('node:path').join(__dirname, ${JSON.stringify(args.path.replace(/-wasm\.js$/, '.wasm'))}));`,
      loader: 'js',
    }));
  },
};
// src/cli/import-esm.ts in the CLI bundle: a call into a file beside it that Node compiles itself,
// so that its import() has Node's module loader (see there).
const IMPORT_ESM_FILE =
  "'use strict';\n// See src/cli/import-esm.ts.\nmodule.exports = (specifier) => import(specifier);\n";
const importEsmFile = {
  name: 'import-esm-file',
  setup(b) {
    b.onResolve({ filter: /[\\/]import-esm\.ts$/ }, () => ({ path: 'import-esm', namespace: 'import-esm' }));
    b.onLoad({ filter: /.*/, namespace: 'import-esm' }, () => ({
      contents: "module.exports = { importEsm: (specifier) => require('./import-esm.cjs')(specifier) };",
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/import-esm\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

function writeWasmFiles(dir) {
  for (const name of LLHTTP) {
    const bytes = require(`undici/lib/llhttp/${name}`);
    writeFileSync(`${dir}/${name.replace(/-wasm\.js$/, '.wasm')}`, bytes);
  }
}

// Build beside dist/ and swap it in, so a test running the CLI never sees a half-written dist/.
const tmp = `dist.tmp-${process.pid}`;
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // `open` ships its own xdg-open script next to its module; it must stay in node_modules.
  external: ['open'],
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
  plugins: [lazyChildProcess, trimUndici],
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
await build({ ...cli, entryPoints: { main: 'src/cli/main.ts' } });
// V8 checks a code cache against its source's length only: boot names the caches after a hash of
// the bundle's content, so that no other build of it ever runs with this one's bytecode.
const bundleHash = createHash('sha256')
  .update(readFileSync(`${tmp}/cli/main.cjs`))
  .digest('hex')
  .slice(0, 16);
await build({
  ...cli,
  entryPoints: { boot: 'src/cli/boot.ts' },
  define: { ...common.define, __BUNDLE_HASH__: JSON.stringify(bundleHash) },
});
writeWasmFiles(`${tmp}/cli`);
writeFileSync(`${tmp}/cli/import-esm.cjs`, IMPORT_ESM_FILE);
// The code cache loader reads the bundle as latin1 (faster than UTF-8): it must be ASCII, as
// esbuild writes by default (non-ASCII characters in strings escaped, comments dropped).
for (const name of ['main.cjs', 'boot.cjs']) {
  const at = readFileSync(`${tmp}/cli/${name}`).findIndex((byte) => byte > 0x7f);
  if (at >= 0)
    throw new Error(`dist/cli/${name} is not ASCII (byte ${at}): the code cache loader reads it as latin1`);
}
// A script compiled from a code cache has no module loader: an import() left in the bundle (one
// that esbuild could not turn into a bundled module) would fail at run time. Use import-esm.ts.
const dynamicImport = /\bimport\(\s*["'`]([^"'`]*)/.exec(readFileSync(`${tmp}/cli/main.cjs`, 'latin1'));
if (dynamicImport)
  throw new Error(
    `dist/cli/main.cjs still has import("${dynamicImport[1]}"): load it with src/cli/import-esm.ts`,
  );

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
if (tsc.status !== 0) {
  rmSync(tmp, { recursive: true, force: true });
  throw new Error('the type declarations did not build (tsc -p tsconfig.types.json)');
}
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {}
renameSync(tmp, 'dist');
rmSync(old, { recursive: true, force: true });
