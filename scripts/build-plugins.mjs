// esbuild plugins for scripts/build.mjs: what the bundles leave out or load differently, and why.
import { readFileSync, writeFileSync } from 'node:fs';
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
// Libraries that only some commands use, each built into a file of its own beside the CLI bundle
// (src/cli/chunks.ts says why): the specifiers the sources import it by, and the entry it is built
// from. A run that imports one loads its file then; the bundle itself never carries them.
export const CHUNKS = {
  jose: { imports: ['jose'], entry: "export * from 'jose';" },
  yaml: { imports: ['yaml'], entry: "module.exports = require('yaml');" },
  qrcode: { imports: ['qrcode'], entry: "module.exports = require('qrcode');" },
  // ui.ts takes ora's default export from import('ora'), which gives an ES module importing
  // CommonJS (the stand-in) its module.exports as default: so that is ora's function itself.
  ora: { imports: ['ora'], entry: "module.exports = require('ora').default;" },
  // The parts of node-forge the pki modules use (forge-lite.ts, p12/decrypt.ts), which register
  // themselves on one shared forge object: one chunk, whose exports are that object.
  forge: {
    imports: ['node-forge/lib/forge.js', 'node-forge/lib/asn1.js', 'node-forge/lib/rc2.js'],
    entry:
      "require('node-forge/lib/asn1.js'); require('node-forge/lib/rc2.js'); module.exports = require('node-forge/lib/forge.js');",
  },
};
const CHUNK_OF = new Map(Object.entries(CHUNKS).flatMap(([name, c]) => c.imports.map((i) => [i, name])));
/**
 * The CLI bundle's imports of a chunked library, from its own sources: loaded from the chunk.
 * `chunkExports`: for each chunk built from an ES module, its export names (scripts/build.mjs).
 */
export const chunkedLibraries = (chunkExports) => ({
  name: 'chunked-libraries',
  setup(b) {
    b.onResolve({ filter: /^(jose|yaml|qrcode|ora|node-forge\/.*)$/ }, (args) =>
      CHUNK_OF.has(args.path) && !/node_modules/.test(args.importer)
        ? { path: args.path, namespace: 'chunk' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'chunk' }, (args) => {
      const name = CHUNK_OF.get(args.path);
      const load = `require('./src/cli/chunks.ts').loadChunk(${JSON.stringify(name)})`;
      // An ES module's exports are read at each use (esbuild keeps `ns.name`), so a module that
      // only imports a chunk (render-token.ts imports jose to decode a JWT it may never meet) does
      // not load it: the stand-in has a getter per export, which loads the chunk at the first.
      const names = chunkExports?.[name];
      const contents = names
        ? `let m; const load = () => (m ??= ${load});
module.exports = Object.defineProperties({}, { __esModule: { value: true }, ${names
            .map((n) => `${JSON.stringify(n)}: { enumerable: true, get: () => load()[${JSON.stringify(n)}] }`)
            .join(', ')} });`
        : `module.exports = ${load};`;
      return { contents, loader: 'js', resolveDir: process.cwd() };
    });
    // An import of another part of a chunked library would bundle a second copy of it.
    b.onResolve({ filter: /^node-forge(\/|$)/ }, (args) => {
      if (!/node_modules/.test(args.importer) && !CHUNK_OF.has(args.path))
        return {
          errors: [{ text: `${args.path}: add it to the forge chunk (scripts/build-plugins.mjs CHUNKS)` }],
        };
      return undefined;
    });
  },
});

// The command table's entries (src/cli/commands/index.ts), one per line.
const COMMAND_TABLE = 'src/cli/commands/index.ts';
const TABLE_ENTRY =
  /^ {2}([a-z]+): \(\) => import\('\.\/[a-z/-]+\.ts'\)\.then\(\(m\) => m\.register[A-Za-z]+\),$/;
/** The names in the command table, in its order. */
export function commandNames() {
  const names = readFileSync(COMMAND_TABLE, 'utf8')
    .split('\n')
    .map((l) => TABLE_ENTRY.exec(l)?.[1])
    .filter(Boolean);
  if (names.length < 10)
    throw new Error(`${COMMAND_TABLE}: the command table has changed shape (build-plugins.mjs)`);
  return names;
}

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
