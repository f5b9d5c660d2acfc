// undici compiles its HTTP parser (llhttp, 54 kB of WebAssembly) when its first connection is
// made, on the main thread: about 9 ms on the project's machine, as long as the work of a request.
// In the bundles, it is compiled when undici loads instead, on V8's background threads
// (wasm-flags.ts), while the command loads its certificate and makes its first connection: the
// bundled undici registers its bytes here and asks here for the module (scripts/build-plugins.mjs
// precompiledLlhttp). When it is not ready yet, or undici chose the other variant, undici
// compiles it as it always did. Unbundled (the tests run the sources), nothing registers and
// undici does all of it.

type Bytes = Buffer<ArrayBuffer>;

const compiled = new WeakMap<Bytes, WebAssembly.Module>();

/**
 * Called by the bundled undici's client-h1.js when it loads, with how to read each variant's bytes:
 * starts compiling the one undici will load (with SIMD, unless its own switch or platform rule
 * turns that off; a wrong guess costs only the background work).
 */
export function registerLlhttp(simd: () => Bytes, plain: () => Bytes): void {
  const useSimd = process.env.UNDICI_NO_WASM_SIMD !== '1' && process.arch !== 'ppc64';
  try {
    const bytes = useSimd ? simd() : plain();
    WebAssembly.compile(bytes).then(
      (module) => compiled.set(bytes, module),
      () => {}, // undici's own compile reports whatever is wrong
    );
  } catch {}
}

/** What the bundled undici's `new WebAssembly.Module(bytes)` calls instead. */
export function llhttpModule(bytes: Bytes): WebAssembly.Module {
  return compiled.get(bytes) ?? new WebAssembly.Module(bytes);
}
