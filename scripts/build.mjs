// Bundles the CLI into dist/ with esbuild. One bundle starts faster than hundreds of
// node_modules files (see ../shared/sketches/README.md); code splitting keeps the heavy
// modules (undici, node-forge, jose) in chunks that load only when a command needs them.
import { readFileSync, renameSync, rmSync } from 'node:fs';
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

// Two undici modules the transport never reaches, replaced by stand-ins that fail loudly if it ever
// did. client-h2.js requires node:http2 at load time (about 7 ms of every request's start), but
// the transport offers only http/1.1 in ALPN (connector.ts). web/fetch/body.js (with fetch's util,
// webidl and the multipart parser: ~100 kB to parse) serves FormData bodies; ours are strings.
const UNREACHED_UNDICI = {
  'client-h2.js':
    "module.exports = function connectH2() { throw Object.assign(new Error('the server chose HTTP/2, which mtls-oauth does not offer'), { code: 'UND_ERR_INFO' }); };",
  'body.js':
    "module.exports = { extractBody() { throw new Error('mtls-oauth sends no FormData bodies'); } };",
};
const trimUndici = {
  name: 'trim-undici',
  setup(b) {
    b.onResolve({ filter: /(^|[\\/])(client-h2|body)\.js$/ }, (args) => {
      const name = args.path.split(/[\\/]/).pop();
      const fromUndici = /node_modules[\\/]undici[\\/]lib[\\/]dispatcher[\\/]/.test(args.importer);
      return fromUndici && name in UNREACHED_UNDICI
        ? { path: name, namespace: 'unreached-undici' }
        : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'unreached-undici' }, (args) => ({
      contents: UNREACHED_UNDICI[args.path],
      loader: 'js',
    }));
  },
};

// Build beside dist/ and swap it in, so a test running the CLI never sees a half-written dist/.
const tmp = `dist.tmp-${process.pid}`;
await build({
  entryPoints: { main: 'src/cli/main.ts', index: 'src/core/index.ts' },
  outdir: tmp,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  chunkNames: 'chunks/[name]-[hash]',
  // `open` ships its own xdg-open script next to its module; it must stay in node_modules.
  external: ['open'],
  // node-forge is CommonJS and requires Node built-ins; give the ESM bundle a real `require`.
  // Lazily: most chunks never call it, and createRequire costs about a millisecond each.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; let __rq; const require = (id) => (__rq ??= __cr(import.meta.url))(id);",
  },
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
  plugins: [lazyChildProcess, trimUndici],
});
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {}
renameSync(tmp, 'dist');
rmSync(old, { recursive: true, force: true });
