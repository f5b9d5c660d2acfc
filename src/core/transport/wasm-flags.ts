// V8's flags for undici's HTTP parser (llhttp, WebAssembly), set by undici-lite.ts when undici
// loads and, before anything is compiled, by the CLI's boot.ts: V8 stamps a code cache with a hash
// of its flags and rejects it under any others, so every run of one command starts with the same.
//
// --liftoff-only: V8 would tier llhttp up in the background and hold the process open about 200 ms
//   after the work is done; Liftoff alone is fast enough for a few requests.
// --no-wasm-lazy-compilation: compile every function of the module when the module is compiled
//   (V8 spreads that over its background threads while the main thread waits), instead of each
//   function on the main thread at its first call: about 3 ms instead of 11 for llhttp here.
export const UNDICI_V8_FLAGS = '--liftoff-only --no-wasm-lazy-compilation';
