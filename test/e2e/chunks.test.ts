// The built CLI's chunks (src/cli/chunks.ts, scripts/build-plugins.mjs CHUNKS): libraries only some
// commands use, each a file of its own beside the bundle. Each must give its importers what they
// use, loaded the way the code cache loader loads it (as a script) and the way Node would (as a
// CommonJS file); and the bundle must not carry a copy of any of them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from '../../src/cli/code-cache.ts';

const CLI = fileURLToPath(new URL('../../dist/cli/', import.meta.url));
const require = createRequire(import.meta.url);

/** What src/ takes from each chunk (its importers: render-token, id-token, dpop; kong/render; qr; ui; pki). */
const USED: Record<string, (m: Record<string, unknown>) => void> = {
  jose: (m) => {
    for (const name of [
      'decodeJwt',
      'decodeProtectedHeader',
      'SignJWT',
      'jwtVerify',
      'calculateJwkThumbprint',
    ])
      assert.equal(typeof m[name], 'function', `jose.${name}`);
  },
  yaml: (m) => {
    for (const name of ['Document', 'isMap', 'isScalar', 'Scalar']) assert.ok(m[name], `yaml.${name}`);
  },
  qrcode: (m) => assert.equal(typeof m.toString, 'function'),
  // ui.ts: `const { default: ora } = await import('ora')`, which gives the module.exports itself.
  ora: (m) => assert.equal(typeof m, 'function'),
  forge: (m) => {
    const forge = m as { asn1?: { fromDer?: unknown }; util?: unknown; oids?: unknown; rc2?: unknown };
    assert.equal(typeof forge.asn1?.fromDer, 'function');
    assert.ok(forge.util && forge.oids && forge.rc2);
  },
};

describe('the chunks of the built CLI', () => {
  for (const [name, check] of Object.entries(USED)) {
    it(`chunk-${name}.cjs gives what its importers use, as a script and as a CommonJS file`, () => {
      const file = join(CLI, `chunk-${name}.cjs`);
      check(
        requireWithCodeCache(file, {
          Module,
          key: 'test',
          bundleHash: 'test',
          env: { MTLS_OAUTH_CODE_CACHE: 'off' },
        }).exports as Record<string, unknown>,
      );
      check(require(file));
    });
  }

  it('the bundle carries none of them', () => {
    const bundle = readFileSync(join(CLI, 'main.cjs'), 'latin1');
    for (const dir of ['jose', 'yaml', 'qrcode', 'ora', 'node-forge', 'pngjs', 'cli-spinners'])
      assert.ok(!bundle.includes(`node_modules/${dir}/`), `main.cjs has no module of ${dir}`);
    for (const name of Object.keys(USED)) assert.ok(bundle.includes(`loadChunk("${name}")`), name);
  });
});
