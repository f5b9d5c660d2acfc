// What the sections of `npm run bench` share (scripts/bench.mjs and bench-{token,smoke,tls}.mjs):
// timing whole processes, the CLI's environment, a local server in a child process (the test IdP
// or a bare mTLS server) with its PEM files in a temporary folder, curl's mTLS arguments, and the
// floor program (the least any Node.js process takes for the same requests).

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// NODE_EXTRA_CA_CERTS is unset for every process the bench starts (the CLI, `node -e 0`, the floor
// program, curl, the test IdP: they all inherit this environment). Node reads and parses that file
// at every start, before any of its code runs: on a machine where it points at the system bundle
// (as here) that adds about 40 ms to each Node process, the reference `node -e 0` included, which
// makes every ratio to `node -e 0` look better than a user's machine (without it) would show.
delete process.env.NODE_EXTRA_CA_CERTS;

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'mtls-oauth');

/** A file: URL of a file in the repository, for `import` inside a child's script. */
export const rootUrl = (path) => pathToFileURL(join(ROOT, path)).href;

// ---------------------------------------------------------------------------------------------
// Timing

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** { name: number[] } → { name: median }; values that are not arrays are kept as they are. */
export const medians = (samples) =>
  Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Array.isArray(v) ? median(v) : v]));

/** "123.4 ms", the number right-aligned in `width` characters. */
export const ms = (x, width = 6) => `${x.toFixed(1).padStart(width)} ms`;

/** Runs one process to its end: { t: wall time in ms, stdout }; throws on a non-zero exit. */
export function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout || ''}`);
  }
  return { t, stdout: r.stdout };
}

/** Wall time of one process in ms; throws on a non-zero exit. */
export const timeProcess = (cmd, args, opts) => timed(cmd, args, opts).t;

/** "  123.4 ms": the column width of compare()'s tables. */
export const fmtMs = (x) => ms(x, 7);

/**
 * Runs each case `runs` times, interleaved, after one warm-up round. A case is
 * { name, run(i) → ms } (use timeProcess inside). Returns { [name]: median ms }.
 */
export function compare(cases, { runs = 15 } = {}) {
  const times = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (const c of cases) c.run(-1); // warm-up: disk caches, first-run costs
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(i + k) % cases.length];
      times[c.name].push(c.run(i));
    }
  }
  return medians(times);
}

/** "name  123.4 ms  (1.23x ref)" lines; `refs` names the cases to divide by. */
export function printMedians(log, table, refs = []) {
  const w = Math.max(...Object.keys(table).map((k) => k.length));
  for (const [name, t] of Object.entries(table)) {
    const ratios = refs
      .filter((r) => r !== name && table[r])
      .map((r) => `${(t / table[r]).toFixed(2)}x ${r}`)
      .join(', ');
    log(`  ${name.padEnd(w)}  ${fmtMs(t)}${ratios ? `   (${ratios})` : ''}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

/** The environment for CLI runs: no colour, no MTLS_OAUTH_* of the caller's, then `extra`. */
export function cliEnv(extra = {}) {
  const env = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('MTLS_OAUTH_')) delete env[k];
  delete env.NODE_EXTRA_CA_CERTS; // see the top of this file
  return { ...env, ...extra };
}

/**
 * Removes the CLI's code caches (dist/cli/.code-cache). A cache holds what the run that wrote it
 * compiled, and a command shares one across sections (the token section runs `smoke --steps`
 * without discovery): each section starts empty, so that its first run (a warm-up) writes the
 * cache its runs use, as a user's repeated runs of one command would.
 */
export function freshCodeCaches() {
  rmSync(join(ROOT, 'dist', 'cli', '.code-cache'), { recursive: true, force: true });
}

/** `--cert --key --ca` of the CLI for PEM files { clientCert, clientKey, ca }. */
export const tlsArgs = (f) => ['--cert', f.clientCert, '--key', f.clientKey, '--ca', f.ca];

/** curl, silent, failing on HTTP errors, with the client certificate and the CA. */
export const curlTls = (f) => [
  '-s',
  '--fail',
  '--cert',
  f.clientCert,
  '--key',
  f.clientKey,
  '--cacert',
  f.ca,
];

/** curl POSTing the client-credentials grant for client `kong`. */
export const curlToken = (f, url) => [
  ...curlTls(f),
  '-d',
  'grant_type=client_credentials',
  '-d',
  'client_id=kong',
  url,
];

/** curl POSTing `token=...` for client `kong` (introspection, revocation). */
export const curlForm = (f, url, token) => [
  ...curlTls(f),
  '-d',
  `token=${token}`,
  '-d',
  'client_id=kong',
  url,
];

// ---------------------------------------------------------------------------------------------
// The floor: the least any Node.js process can take for a run of requests

/**
 * A minimal CommonJS program: node:https with kept-alive agents (one with the client certificate,
 * one without), the requests one after another, nothing else: no CLI, no checks, no output. What it
 * takes is what any Node.js tool making these requests takes at least. Arguments: a JSON plan
 * { cert, key, ca, requests: [{ url, body?, withCert }] }; "{token}" in a body is the first
 * response's access_token.
 */
const FLOOR_SOURCE = `'use strict';
const https = require('node:https');
const fs = require('node:fs');
const plan = JSON.parse(process.argv[2]);
const ca = fs.readFileSync(plan.ca);
const withCert = new https.Agent({ keepAlive: true, maxSockets: 1, ca, cert: fs.readFileSync(plan.cert), key: fs.readFileSync(plan.key) });
const plain = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
const send = (q, body) => new Promise((resolve, reject) => {
  const headers = body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) };
  const req = https.request(q.url, { method: body === undefined ? 'GET' : 'POST', agent: q.withCert ? withCert : plain, headers }, (res) => {
    let text = '';
    res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(q.url + ': HTTP ' + res.statusCode))));
  });
  req.on('error', reject).end(body);
});
(async () => {
  let token;
  for (const q of plan.requests) {
    const text = await send(q, q.body === undefined ? undefined : q.body.replace('{token}', token));
    if (token === undefined && text.includes('access_token')) token = JSON.parse(text).access_token;
  }
  withCert.destroy();
  plain.destroy();
})().catch((e) => { console.error(e.message); process.exitCode = 1; });
`;

/**
 * Writes the floor program into `dir`; returns the arguments to time with process.execPath for:
 * [a GET of `probe` with the client certificate, when given,] [a GET of `discovery` without a
 * certificate, when given,] [the client-credentials grant for kong at `token`, when given,] then [introspection of that token, when given,] [revocation and introspection again,
 * when `revocation` is given], with the client certificate of `files` ({ clientCert, clientKey, ca }).
 */
export function floorProgram(dir, files, { probe, discovery, token, introspection, revocation }) {
  const file = join(dir, 'floor.cjs');
  writeFileSync(file, FLOOR_SOURCE);
  const form = 'token={token}&client_id=kong';
  const requests = [
    ...(probe ? [{ url: probe, withCert: true }] : []),
    ...(discovery ? [{ url: discovery, withCert: false }] : []),
    ...(token ? [{ url: token, body: 'grant_type=client_credentials&client_id=kong', withCert: true }] : []),
    ...(introspection ? [{ url: introspection, body: form, withCert: true }] : []),
    ...(revocation
      ? [
          { url: revocation, body: form, withCert: true },
          { url: introspection, body: form, withCert: true },
        ]
      : []),
  ];
  const plan = { cert: files.clientCert, key: files.clientKey, ca: files.ca, requests };
  return [file, JSON.stringify(plan)];
}

// ---------------------------------------------------------------------------------------------
// A local server in a child process (the measurements block this one)

/**
 * Runs `script` (an ES module, through tsx) with BENCH_DIR=dir in its environment. The script
 * prints one JSON line when it is ready and exits when its stdin ends. Returns that JSON and stop().
 */
export async function startChild(script, dir, { what = 'the bench server', env = {} } = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, ...env, BENCH_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const info = await new Promise((res, rej) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) res(JSON.parse(out.slice(0, nl)));
    });
    child.on('exit', (code) => rej(new Error(`${what} exited (${code}) before it was ready`)));
  });
  const stop = () =>
    new Promise((r) => {
      child.on('exit', r);
      child.stdin.end();
    });
  return { ...info, stop };
}

const IDP_SCRIPT = `
import { startIdp, writePkiFiles } from ${JSON.stringify(rootUrl('test/helpers/idp.ts'))};
const idp = await startIdp(JSON.parse(process.env.BENCH_IDP_OPTIONS));
const files = writePkiFiles(idp.pki, process.env.BENCH_DIR);
const info = { issuer: idp.issuer, endpoints: idp.endpoints, aliases: idp.aliases, files };
process.stdout.write(JSON.stringify(info) + '\\n');
process.stdin.on('end', () => idp.close().then(() => process.exit(0)));
process.stdin.resume();
`;

/**
 * The test IdP (test/helpers/idp.ts) in a child process, its PEM files written into `dir`:
 * { issuer, endpoints, aliases, files: { ca, clientCert, clientKey, ... }, stop() }.
 */
export function startIdpProcess(dir, options = {}) {
  return startChild(IDP_SCRIPT, dir, {
    what: 'the test IdP',
    env: { BENCH_IDP_OPTIONS: JSON.stringify(options) },
  });
}

/**
 * A temporary folder named `prefix`..., a server started in it by `start(dir)`, and `fn(server,
 * dir)`; then the server is stopped and the folder removed, whatever happened.
 */
export async function withServer(prefix, start, fn) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    const server = await start(dir);
    try {
      return await fn(server, dir);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// A section run on its own

/** True when the module at `metaUrl` is the script node was started with. */
export const isMain = (metaUrl) =>
  Boolean(process.argv[1]) && resolve(process.argv[1]) === fileURLToPath(metaUrl);

/** BENCH_RUNS, or 15. */
export const runsFromEnv = () => Number(process.env.BENCH_RUNS) || 15;
