// The `tls` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-tls.mjs`).
//
// Against one local mTLS server (a Node https server requesting and requiring a client
// certificate, TLS 1.3, started in a child process so that the measurements do not block it):
//   - `mtls-oauth --help` against `node -e 0`.                         Goal: within 1.3x.
//   - `mtls-oauth tls https://127.0.0.1:PORT/` (one full mTLS probe) against `node -e 0`
//     and against `curl --cert --key --cacert` doing the same handshake and GET. Goal: within 2x of node -e 0.
//   - `mtls-oauth tls --all --issuer` (discovery through undici, then the probe), with and without
//     the bin shim's `--liftoff-only` flag: the exit delay a process that used undici shows (V8
//     tiering up undici's llhttp WebAssembly in the background). The single probe itself does not
//     load undici (HttpClient.probe reads the status line on the connection it recorded).
// Runs are interleaved (one of each per round) and the medians of whole-process wall times are
// reported; the machine is noisy, so read the ratios.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'mtls-oauth');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const ms = (x) => `${x.toFixed(1).padStart(6)} ms`;

/** Wall time of one process (ms); throws on a non-zero exit. */
function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return t;
}

const SERVER_SCRIPT = `
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from ${JSON.stringify(pathToFileURL(join(ROOT, 'test/helpers/pki.ts')).href)};
const { ca, server, client } = await makeTestPki();
const dir = process.env.BENCH_DIR;
const file = (name, text) => { writeFileSync(join(dir, name), text, { mode: 0o600 }); return join(dir, name); };
const files = { ca: file('ca.crt', ca.cert), cert: file('client.crt', client.cert), key: file('client.key', client.key) };
// Requests a client certificate; lets discovery (which presents none) through.
const srv = https.createServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: false },
  (req, res) => {
    res.setHeader('content-type', 'application/json');
    const issuer = 'https://127.0.0.1:' + srv.address().port;
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer, token_endpoint: issuer + '/token', jwks_uri: issuer + '/jwks',
        response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] }));
    } else res.end('{"ok":true}');
  });
srv.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: srv.address().port, files }) + '\\n');
});
process.stdin.on('end', () => { srv.closeAllConnections(); srv.close(() => process.exit(0)); });
process.stdin.resume();
`;

async function startServerProcess(dir) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SERVER_SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, BENCH_DIR: dir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const info = await new Promise((res, rej) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) res(JSON.parse(out.slice(0, nl)));
    });
    child.on('exit', (code) => rej(new Error(`the bench server exited (${code}) before it was ready`)));
  });
  const stop = () =>
    new Promise((r) => {
      child.on('exit', r);
      child.stdin.end();
    });
  return { ...info, stop };
}

export async function benchTls({ runs = 15, log = console.log } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tls-'));
  const srv = await startServerProcess(dir);
  try {
    const url = `https://127.0.0.1:${srv.port}/`;
    const f = srv.files;
    const env = { ...process.env, NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('MTLS_OAUTH_')) delete env[k];
    // The bin shim minus its --liftoff-only flag, to measure what the flag saves.
    const noLiftoff = join(dir, 'mtls-oauth-no-liftoff.mjs');
    writeFileSync(
      noLiftoff,
      `await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'main.js')).href)});\n`,
    );
    const probe = ['tls', url, '--cert', f.cert, '--key', f.key, '--ca', f.ca];
    // --all: discovery (an undici request) then the probe: the run that pays undici's exit delay.
    const all = [
      'tls',
      '--all',
      '--issuer',
      `https://127.0.0.1:${srv.port}`,
      '--cert',
      f.cert,
      '--key',
      f.key,
      '--ca',
      f.ca,
    ];
    const cases = {
      nodeE0: () => timed(process.execPath, ['-e', '0']),
      help: () => timed(process.execPath, [BIN, '--help'], { env }),
      probe: () => timed(process.execPath, [BIN, ...probe], { env }),
      probeJson: () => timed(process.execPath, [BIN, ...probe, '--json'], { env }),
      all: () => timed(process.execPath, [BIN, ...all], { env }),
      allNoLiftoff: () => timed(process.execPath, [noLiftoff, ...all], { env }),
      curl: () =>
        timed('curl', [
          '-s',
          '-o',
          '/dev/null',
          '--fail',
          '--cert',
          f.cert,
          '--key',
          f.key,
          '--cacert',
          f.ca,
          url,
        ]),
    };
    for (const c of Object.values(cases)) c(); // warm-up: disk caches, the server's first handshake
    const r = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (let i = 0; i < runs; i++) for (const [k, c] of Object.entries(cases)) r[k].push(c());
    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
    const x = (a) => `${(a / m.nodeE0).toFixed(2)}x node -e 0`;
    const row = (label, t, note) => log(`  ${label.padEnd(38)} ${ms(t)}${note ? `  (${note})` : ''}`);
    const goal = (t, k) => `${x(t)}; goal <= ${k}x: ${t <= k * m.nodeE0 ? 'met' : 'NOT met'}`;
    log(`tls (medians of ${runs} interleaved runs, whole processes, one local mTLS server, TLS 1.3)`);
    row('node -e 0', m.nodeE0);
    row('mtls-oauth --help', m.help, goal(m.help, 1.3));
    row('mtls-oauth tls URL (one probe)', m.probe, goal(m.probe, 2));
    row('mtls-oauth tls URL --json', m.probeJson, x(m.probeJson));
    row('curl, the same handshake and GET', m.curl, `mtls-oauth ${(m.probe / m.curl).toFixed(1)}x curl`);
    row('tls --all --issuer (discovery + probe)', m.all, `${x(m.all)}; loads undici`);
    row(
      '  the same without --liftoff-only',
      m.allNoLiftoff,
      `the flag saves ${(m.allNoLiftoff - m.all).toFixed(0)} ms of exit delay`,
    );
    return m;
  } finally {
    await srv.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchTls({ runs: Number(process.env.BENCH_RUNS) || 15 });
}
