// esbuild plugins for scripts/build.mjs: what the bundles leave out or load differently, and why.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// commander requires node:child_process at load time for executable subcommands, which this CLI
// never uses; loading it costs ~4 ms of every start. Give commander a stand-in that loads it on use.
export const lazyChildProcess = {
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

// `await import('node:readline')` in the sources (a built-in wanted only by some runs): the CLI
// bundle is a script from a code cache, with no module loader for import() (import-esm.ts), so
// such an import becomes a require() made when the import() runs.
export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
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
export const trimUndici = {
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
const LLHTTP = ['llhttp-wasm.js', 'llhttp_simd-wasm.js'];
export const wasmFiles = {
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
export const IMPORT_ESM_FILE =
  "'use strict';\n// See src/cli/import-esm.ts.\nmodule.exports = (specifier) => import(specifier);\n";
export const importEsmFile = {
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

export function writeWasmFiles(dir) {
  for (const name of LLHTTP) {
    const bytes = require(`undici/lib/llhttp/${name}`);
    writeFileSync(`${dir}/${name.replace(/-wasm\.js$/, '.wasm')}`, bytes);
  }
}
