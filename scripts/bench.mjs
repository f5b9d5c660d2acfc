// `npm run bench` (builds first): whole-process timings of the CLI against independent references,
// printed as medians and ratios. A script, not a test: the machine is noisy, so it asserts nothing;
// read the ratios.
//
//   node scripts/bench.mjs                 every section
//   node scripts/bench.mjs certs token     the named sections
//   BENCH_RUNS=30 node scripts/bench.mjs   more runs per command (default 15)
//
// A section is { name, describe, run({ runs, log }) }. What sections share (timing whole processes,
// `compare()`, the CLI's environment, a local server in a child process, curl's arguments) is in
// scripts/bench-lib.mjs. `compare()` runs each command N times, interleaved with its references
// (the order rotating every round, so drift and caches hit all alike), and the medians and ratios
// are printed.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cliEnv, compare, isMain, printMedians, runsFromEnv, timeProcess } from './bench-lib.mjs';

export { compare, fmtMs, median, printMedians, timeProcess } from './bench-lib.mjs';

// ---------------------------------------------------------------------------------------------
// certs: `mtls-oauth certs init` vs the openssl CLI making the same CA and client vs `node -e 0`

const OPENSSL_KEY = {
  'ec-p256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  'rsa-2048': ['-newkey', 'rsa:2048'],
};

/** The same CA (CA:TRUE pathlen:0, keyCertSign+cRLSign) and client (clientAuth) with openssl: two processes. */
function opensslInit(keyType, dir) {
  const key = OPENSSL_KEY[keyType];
  let t = timeProcess('openssl', [
    'req',
    '-x509',
    ...key,
    '-nodes',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
    '-days',
    '3650',
    '-subj',
    '/O=mtls-oauth/CN=mtls-oauth test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  t += timeProcess('openssl', [
    'req',
    '-x509',
    ...key,
    '-nodes',
    '-keyout',
    join(dir, 'client.key'),
    '-out',
    join(dir, 'client.crt'),
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-days',
    '365',
    '-subj',
    '/CN=kong',
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    '-addext',
    'extendedKeyUsage=clientAuth',
  ]);
  return t;
}

async function benchCerts({ runs, log }) {
  const work = mkdtempSync(join(tmpdir(), 'bench-certs-'));
  const env = cliEnv();
  let seq = 0;
  const outDir = (tag) => join(work, `${tag}-${seq++}`);
  const results = {};
  try {
    for (const keyType of ['ec-p256', 'rsa-2048']) {
      // RSA key generation time is heavy-tailed (a random prime search): more runs for a stable median.
      const n = keyType.startsWith('rsa') ? Math.max(runs, 25) : runs;
      const medians = compare(
        [
          {
            name: 'mtls-oauth certs init',
            run: () => {
              const out = outDir('cli');
              const t = timeProcess(
                process.execPath,
                [BIN, 'certs', 'init', '--key-type', keyType, '--out', out],
                { env },
              );
              rmSync(out, { recursive: true, force: true });
              return t;
            },
          },
          {
            name: 'openssl (2 processes)',
            run: () => {
              const out = outDir('openssl');
              spawnSync('mkdir', [out]);
              const t = opensslInit(keyType, out);
              rmSync(out, { recursive: true, force: true });
              return t;
            },
          },
          { name: 'node -e 0', run: () => timeProcess(process.execPath, ['-e', '0']) },
          // The CLI's own floor (node, the bin shim, commander, every command registered): what
          // any command costs before it does anything.
          {
            name: 'mtls-oauth --version',
            run: () => timeProcess(process.execPath, [BIN, '--version'], { env }),
          },
        ],
        { runs: n },
      );
      log(`certs init, ${keyType} (medians of ${n} runs, whole processes)`);
      printMedians(log, medians, ['openssl (2 processes)', 'node -e 0']);
      const cli = medians['mtls-oauth certs init'];
      const goal =
        keyType === 'rsa-2048'
          ? { text: 'no slower than openssl', met: cli <= medians['openssl (2 processes)'] }
          : { text: 'within 2x of node -e 0', met: cli <= 2 * medians['node -e 0'] };
      log(`  goal: ${goal.text}: ${goal.met ? 'met' : 'NOT met'}`);
      results[keyType] = { ...medians, goalMet: goal.met };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Sections

export const SECTIONS = [
  {
    name: 'certs',
    describe: 'certs init vs the openssl CLI vs node -e 0 (ec-p256, rsa-2048)',
    run: benchCerts,
  },
  {
    name: 'token',
    describe: 'token as a user runs it (discovery, token, binding) vs node -e 0 vs curl vs the floor',
    run: async (opts) => (await import('./bench-token.mjs')).benchToken(opts),
  },
  {
    name: 'smoke',
    describe: 'a smoke run (one process) vs the same five requests as five curl invocations',
    run: async (opts) => (await import('./bench-smoke.mjs')).benchSmoke(opts),
  },
  {
    name: 'tls',
    describe: '--help and one tls probe vs node -e 0 vs curl; the exit delay --liftoff-only removes',
    run: async (opts) => (await import('./bench-tls.mjs')).benchTls(opts),
  },
];

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w));
  if (unknown.length) {
    console.error(
      `unknown section(s): ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}`,
    );
    process.exitCode = 2;
    return;
  }
  const runs = runsFromEnv();
  // bench-lib.mjs has unset NODE_EXTRA_CA_CERTS for every process started from here (why: there).
  console.log(
    `NODE_EXTRA_CA_CERTS is unset for every process measured (Node parses it at each start); ${runs} runs each`,
  );
  for (const section of SECTIONS.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
    console.log(`\n== ${section.name}: ${section.describe}`);
    await section.run({ runs, log: console.log });
  }
}

if (isMain(import.meta.url)) await main();
