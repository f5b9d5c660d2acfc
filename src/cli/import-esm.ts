// Loads an ES-module-only package (`open`) through Node's own module loader. The CLI bundle is
// CommonJS compiled with vm.Script for its code cache (code-cache.ts), and import() inside such a
// script has no loader on Node 20. So the CLI build puts this function in a file of its own beside
// the bundle (dist/cli/import-esm.cjs), which Node compiles itself (scripts/build.mjs).
export function importEsm<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}
