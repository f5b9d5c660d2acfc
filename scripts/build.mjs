// Bundles the CLI into dist/ with esbuild. One bundle starts faster than hundreds of
// node_modules files (see ../shared/sketches/README.md); code splitting keeps the heavy
// modules (undici, node-forge, jose) in chunks that load only when a command needs them.
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
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
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  define: { __VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
const old = `dist.old-${process.pid}`;
try {
  renameSync('dist', old);
} catch {}
renameSync(tmp, 'dist');
rmSync(old, { recursive: true, force: true });
