// The built CLI's bundles. main.cjs is the whole CLI; the commands a pipeline runs again and again
// also have bundles of their own (command-<name>.cjs: the whole CLI with that one command,
// scripts/build.mjs), which boot runs for them; libraries only some commands use are chunks
// (src/cli/chunks.ts, scripts/build-plugins.mjs CHUNKS). A command's bundle must answer exactly as
// main.cjs does; each chunk must give its importers what they use, loaded as the code cache loader
// loads it (a script) and as Node would (CommonJS); no bundle may carry a copy of a chunk.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireWithCodeCache } from '../../src/cli/code-cache.ts';
import { cleanEnv, runCli } from '../helpers/cli.ts';

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

  it('no bundle carries any of them', () => {
    for (const file of ['main.cjs', ...COMMAND_BUNDLES]) {
      const bundle = readFileSync(join(CLI, file), 'latin1');
      for (const dir of ['jose', 'yaml', 'qrcode', 'ora', 'node-forge', 'pngjs', 'cli-spinners'])
        assert.ok(!bundle.includes(`node_modules/${dir}/`), `${file} has no module of ${dir}`);
    }
    const main = readFileSync(join(CLI, 'main.cjs'), 'latin1');
    for (const name of Object.keys(USED)) assert.ok(main.includes(`loadChunk("${name}")`), name);
  });
});

// An empty home for the runs: no settings or token cache of the developer's.
const HOME = mkdtempSync(join(tmpdir(), 'mtls-oauth-bundles-'));
after(() => rmSync(HOME, { recursive: true, force: true }));

const COMMAND_BUNDLES = readdirSync(CLI).filter((f) => /^command-[a-z]+\.cjs$/.test(f));

describe("the commands' own bundles", () => {
  it('there are some, each smaller than main.cjs, holding its own command and no other', () => {
    assert.ok(COMMAND_BUNDLES.includes('command-smoke.cjs') && COMMAND_BUNDLES.includes('command-token.cjs'));
    const main = readFileSync(join(CLI, 'main.cjs'), 'latin1');
    for (const file of COMMAND_BUNDLES) {
      const name = /^command-([a-z]+)\.cjs$/.exec(file)?.[1] ?? '';
      const bundle = readFileSync(join(CLI, file), 'latin1');
      assert.ok(bundle.length < main.length * 0.8, `${file}: ${bundle.length} bytes`);
      // Each command registers itself with commander as .command('<name>').
      assert.ok(bundle.includes(`.command("${name}")`), `${file} registers ${name}`);
      for (const other of ['login', 'kong', 'completion'])
        assert.ok(!bundle.includes(`.command("${other}")`), `${file} has no ${other} command`);
    }
  });

  // boot runs the command's bundle; main.cjs run directly is the whole CLI. Usage errors (human and
  // --json) and a run that fails before any request must come out the same, byte for byte.
  for (const file of COMMAND_BUNDLES) {
    const name = /^command-([a-z]+)\.cjs$/.exec(file)?.[1] ?? '';
    it(`${name}: its bundle answers as main.cjs does`, async () => {
      const env = cleanEnv({ MTLS_OAUTH_CODE_CACHE: 'off', XDG_CONFIG_HOME: HOME, HOME });
      for (const args of [
        [name, '--no-such-option'],
        ['--json', name, '--no-such-option'],
        [name, '--issuer', 'not a url'],
        ['--json', name, '--issuer', 'not a url'],
      ]) {
        const [own, whole] = await Promise.all([
          runCli(args, { env }),
          runCli(args, { env, script: join(CLI, 'main.cjs') }),
        ]);
        assert.ok(own.code !== 0, `${args.join(' ')}: fails (${own.code})`);
        assert.deepEqual(
          { code: own.code, stdout: own.stdout, stderr: own.stderr },
          { code: whole.code, stdout: whole.stdout, stderr: whole.stderr },
          args.join(' '),
        );
      }
    });
  }
});
