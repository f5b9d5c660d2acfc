// The published package works on its own: `npm pack` gives a tarball that, installed into an empty
// directory, runs `mtls-oauth login --help`, and `certs init` then `idp` (the README's first
// command) from the installed package alone. The bundle in dist/ carries every dependency except
// `open` (kept external: it ships its own xdg-open script) and `oidc-provider` (an ES module with
// many dependencies, loaded only by `idp`), so the tarball must hold bin/ and dist/ and declare the
// runtime dependencies.
//
// One test, as it is slow (npm itself): it packs the current dist/ (built by `npm test`'s pretest;
// --ignore-scripts keeps the prepack build from swapping dist/ under other tests running now), then
// installs the tarball with `npm install --prefer-offline` (the npm cache serves the dependencies
// when they were installed before; otherwise the registry does).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from '../helpers/cli.ts';
import { startIdpCommand } from '../helpers/idp-command.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NPM_TIMEOUT_MS = 180_000;

function npm(args: string[], cwd: string) {
  const r = spawnSync('npm', args, {
    cwd,
    encoding: 'utf8',
    timeout: NPM_TIMEOUT_MS,
    env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false' },
    shell: process.platform === 'win32',
  });
  assert.equal(
    r.status,
    0,
    `npm ${args.join(' ')} failed (${r.error?.message ?? r.status}):\n${r.stdout}\n${r.stderr}`,
  );
  return r;
}

const work = mkdtempSync(join(tmpdir(), 'mtls-oauth-pack-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('npm pack: the tarball installs into an empty directory and runs `mtls-oauth login --help` and `idp`', async () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.cjs')), 'dist/ is built (npm run build)');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  // 1. Pack.
  const packDir = join(work, 'pack');
  mkdirSync(packDir);
  npm(['pack', '--ignore-scripts', '--pack-destination', packDir, '--loglevel=error'], ROOT);
  const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
  assert.deepEqual(tarballs, [`mtls-oauth-${pkg.version}.tgz`]);
  const tarball = join(packDir, tarballs[0]);

  // 2. Install into an empty project.
  const project = join(work, 'empty');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "empty", "private": true }\n');
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], project);

  // What the tarball holds: the shim, the bundle, the manifest; no sources, tests or keys.
  const installed = join(project, 'node_modules', 'mtls-oauth');
  const top = readdirSync(installed).sort();
  assert.ok(top.includes('bin') && top.includes('dist') && top.includes('package.json'), top.join(' '));
  for (const absent of ['src', 'test', 'scripts', 'node_modules', 'tsconfig.json']) {
    assert.ok(!top.includes(absent), `${absent} is not packed`);
  }
  for (const file of [
    'dist/types/core/index.d.ts',
    'dist/cli/main.cjs',
    'dist/cli/help-pages.json',
    'dist/cli/boot.cjs',
    'dist/cli/llhttp.wasm',
    'dist/cli/chunk-jose.cjs',
    'dist/cli/chunk-forge.cjs',
    'dist/index.js',
    'bin/package.json',
  ])
    assert.ok(existsSync(join(installed, file)), `${file} is packed`);
  // Bytecode compiled here must never ship: each installation makes its own.
  assert.ok(!existsSync(join(installed, 'dist', 'cli', '.code-cache')), 'no code cache is packed');
  assert.ok(existsSync(join(project, 'node_modules', 'open', 'package.json')), 'open (external) installed');
  assert.ok(
    existsSync(join(project, 'node_modules', 'oidc-provider', 'package.json')),
    'oidc-provider (external) installed',
  );

  // 3. Run it the way a user would, through npx and through the bin link.
  const npx = spawnSync('npx', ['--no-install', 'mtls-oauth', 'login', '--help'], {
    cwd: project,
    encoding: 'utf8',
    timeout: NPM_TIMEOUT_MS,
    env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' },
    shell: process.platform === 'win32',
  });
  assert.equal(npx.status, 0, `npx mtls-oauth login --help:\n${npx.stdout}\n${npx.stderr}`);
  assert.match(npx.stdout, /^Usage: mtls-oauth login \[options\]/);
  assert.match(npx.stdout, /--no-browser/);
  assert.match(npx.stdout, /Examples:\n {2}\$ mtls-oauth login /);

  const bin = join(
    project,
    'node_modules',
    '.bin',
    process.platform === 'win32' ? 'mtls-oauth.cmd' : 'mtls-oauth',
  );
  const direct = spawnSync(bin, ['--version'], {
    cwd: project,
    encoding: 'utf8',
    timeout: 30_000,
    shell: process.platform === 'win32',
  });
  assert.equal(direct.status, 0, direct.stderr);
  assert.equal(direct.stdout.trim(), pkg.version);
  // 4. The library's types: a TypeScript consumer type-checks against them (and a wrong type is
  //    caught: the declarations are real, not `any`). They name types of bundled modules (jose,
  //    undici), which the consumer does not install: skipLibCheck, as `tsc --init` sets it.
  writeFileSync(
    join(project, 'main.ts'),
    `import { MtlsOAuthError, openSession, type Settings, x5tS256 } from 'mtls-oauth';
const settings: Settings = { issuer: 'https://idp.example.com', clientId: 'kong' };
export async function tokenUrl(): Promise<string> {
  const session = await openSession({ settings });
  if (!(session.identity === undefined || typeof x5tS256 === 'function')) throw new MtlsOAuthError('usage', 'BAD_ARGUMENTS', 'x');
  return session.endpoint('token').url;
}
export const wrong: Settings = { issuer: 42 };
`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        types: ['node'],
      },
      files: ['main.ts'],
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const errors = tsc.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  assert.deepEqual(
    errors.map((l) => l.replace(/^.*?main\.ts/, 'main.ts')),
    ["main.ts(8,34): error TS2322: Type 'number' is not assignable to type 'string'."],
    tsc.stdout,
  );

  // 5. The README's first command from the installed package: `certs init`, then the embedded IdP
  //    (oidc-provider from the installed dependencies, not from this checkout), used by `smoke`
  //    and stopped with Ctrl-C's signal.
  const idpHelp = spawnSync(bin, ['idp', '--help'], { cwd: project, encoding: 'utf8', timeout: 30_000 });
  assert.equal(idpHelp.status, 0, idpHelp.stderr);
  assert.match(idpHelp.stdout, /^Usage: mtls-oauth idp \[options\]/);
  const env = cleanEnv({
    HOME: project,
    XDG_CONFIG_HOME: join(project, 'config'),
    MTLS_OAUTH_CACHE_DIR: join(project, 'cache'),
  });
  const init = spawnSync(bin, ['certs', 'init'], { cwd: project, encoding: 'utf8', timeout: 30_000, env });
  assert.equal(init.status, 0, init.stderr);
  const installedBin = join(installed, 'bin', 'mtls-oauth');
  const idp = startIdpCommand(['idp', '--json'], { cwd: project, env, bin: installedBin, timeoutMs: 60_000 });
  try {
    const ready = await idp.ready;
    const smoke = spawnSync(process.execPath, [installedBin, 'smoke', '--steps', 'discovery,token'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...env, ...ready.env },
    });
    assert.equal(smoke.status, 0, `${smoke.stdout}\n${smoke.stderr}`);
    // The installed CLI keeps its code cache beside its bundle (writable here), one per command
    // (certs with the node-forge chunk's); help alone (above) printed a page and needed none.
    const caches = readdirSync(join(installed, 'dist', 'cli', '.code-cache'));
    for (const prefix of ['main.certs.', 'chunk-forge.certs.', 'main.smoke.']) {
      assert.ok(
        caches.some((f) => f.startsWith(prefix)),
        caches.join(' '),
      );
    }
    assert.ok(!caches.some((f) => f.includes('-help.')), caches.join(' '));
  } finally {
    const stopped = await idp.stop('SIGINT');
    assert.equal(stopped.code, 130, stopped.stderr);
  }
});
