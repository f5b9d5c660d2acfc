// src/core/transport/llhttp.ts: the bundled undici registers llhttp's bytes, they are compiled in
// the background, and undici's own `new WebAssembly.Module(bytes)` call then gets that module.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { llhttpModule, registerLlhttp } from '../../src/core/transport/llhttp.ts';

const require = createRequire(import.meta.url);
// undici's own copies of the bytes (base64 in a module), as its client-h1.js requires them.
const simd: Buffer<ArrayBuffer> = require('undici/lib/llhttp/llhttp_simd-wasm.js');
const plain: Buffer<ArrayBuffer> = require('undici/lib/llhttp/llhttp-wasm.js');

describe('llhttp compiled in the background', () => {
  it('the registered variant is compiled once, and undici gets that module for those bytes', async () => {
    let read = 0;
    registerLlhttp(
      () => {
        read++;
        return simd;
      },
      () => plain,
    );
    assert.equal(read, process.arch === 'ppc64' ? 0 : 1);
    let first = llhttpModule(simd);
    // Bounded wait for the background compile (it takes milliseconds).
    for (let i = 0; i < 200 && first !== llhttpModule(simd); i++) {
      await sleep(10);
      first = llhttpModule(simd);
    }
    assert.equal(llhttpModule(simd), first, 'the same module for the same bytes, once compiled');
    assert.ok(first instanceof WebAssembly.Module);
    assert.ok(WebAssembly.Module.exports(first).some((e) => e.name === 'llhttp_execute'));
  });

  it('other bytes (the variant not guessed) are compiled at the call, as undici would', () => {
    const a = llhttpModule(plain);
    const b = llhttpModule(plain);
    assert.notEqual(a, b);
    assert.ok(WebAssembly.Module.exports(a).some((e) => e.name === 'llhttp_execute'));
  });
});
