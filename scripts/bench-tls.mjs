// The `tls` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-tls.mjs`).
//
// Against one local mTLS server (a Node https server requesting and requiring a client
// certificate, TLS 1.3, started in a child process so that the measurements do not block it):
//   - `mtls-oauth --help` against `node -e 0`.                         Goal: within 1.3x.
//   - `mtls-oauth tls https://127.0.0.1:PORT/` (one full mTLS probe) against `node -e 0`
//     and against `curl --cert --key --cacert` doing the same handshake and GET. Goal: within 2x of node -e 0.
//     Beside it, the floor: the same handshake and GET from a bare node:https program.
//   - `mtls-oauth tls --all --issuer` (discovery through undici, then the probe), with and without
//     the `--liftoff-only` flag undici-lite sets: the exit delay a process that used undici shows (V8
//     tiering up undici's llhttp WebAssembly in the background). The single probe loads undici
//     too: it is a request through the same agent as every other (core/diagnosis/probe.ts).
// Runs are interleaved (one of each per round) and the medians of whole-process wall times are
// reported; the machine is noisy, so read the ratios.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  cliEnv,
  curlTls,
  floorProgram,
  freshCodeCaches,
  isMain,
  medians,
  ms,
  ROOT,
  rootUrl,
  runsFromEnv,
  startChild,
  timeProcess,
  tlsArgs,
  withServer,
} from './bench-lib.mjs';

const SERVER_SCRIPT = `
import https from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from ${JSON.stringify(rootUrl('test/helpers/pki.ts'))};
const { ca, server, client } = await makeTestPki();
const dir = process.env.BENCH_DIR;
const file = (name, text) => { writeFileSync(join(dir, name), text, { mode: 0o600 }); return join(dir, name); };
const files = { ca: file('ca.crt', ca.cert), clientCert: file('client.crt', client.cert), clientKey: file('client.key', client.key) };
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

export function benchTls({ runs = 15, log = console.log } = {}) {
  return withServer(
    'bench-tls-',
    (dir) => startChild(SERVER_SCRIPT, dir),
    (srv, dir) => {
      const url = `https://127.0.0.1:${srv.port}/`;
      const f = srv.files;
      const env = cliEnv();
      // The CLI with its --liftoff-only flag swallowed (boot.cjs and undici-lite.ts set it: wasm-flags.ts), to
      // measure what the flag saves. No code cache: its stamp would not match.
      const noLiftoff = join(dir, 'mtls-oauth-no-liftoff.cjs');
      writeFileSync(
        noLiftoff,
        `const v8 = require('node:v8');
const set = v8.setFlagsFromString;
v8.setFlagsFromString = (flags) => set(flags.replace('--liftoff-only', ''));
process.env.MTLS_OAUTH_CODE_CACHE = 'off';
require(${JSON.stringify(join(ROOT, 'dist/cli/boot.cjs'))});\n`,
      );
      const probe = ['tls', url, ...tlsArgs(f)];
      const floor = floorProgram(dir, f, { probe: url });
      // --all: discovery (an undici request) then the probe: the run that pays undici's exit delay.
      const all = ['tls', '--all', '--issuer', `https://127.0.0.1:${srv.port}`, ...tlsArgs(f)];
      const cases = {
        nodeE0: () => timeProcess(process.execPath, ['-e', '0']),
        help: () => timeProcess(process.execPath, [BIN, '--help'], { env }),
        // What --help costs besides fitting its page to the screen: --version reads the same page file.
        version: () => timeProcess(process.execPath, [BIN, '--version'], { env }),
        probe: () => timeProcess(process.execPath, [BIN, ...probe], { env }),
        probeJson: () => timeProcess(process.execPath, [BIN, ...probe, '--json'], { env }),
        all: () => timeProcess(process.execPath, [BIN, ...all], { env }),
        allNoLiftoff: () => timeProcess(process.execPath, [noLiftoff, ...all], { env }),
        curl: () => timeProcess('curl', [...curlTls(f), '-o', '/dev/null', url]),
        // The floor: the same handshake and GET from a bare node:https program (bench-lib.mjs).
        floor: () => timeProcess(process.execPath, floor),
      };
      freshCodeCaches(); // the warm-up writes this section's (bench-lib.mjs)
      for (const c of Object.values(cases)) c(); // warm-up: disk caches, the server's first handshake
      const r = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
      for (let i = 0; i < runs; i++) for (const [k, c] of Object.entries(cases)) r[k].push(c());
      const m = medians(r);
      const x = (a) => `${(a / m.nodeE0).toFixed(2)}x node -e 0`;
      const row = (label, t, note) => log(`  ${label.padEnd(38)} ${ms(t)}${note ? `  (${note})` : ''}`);
      const goal = (t, k) => `${x(t)}; goal <= ${k}x: ${t <= k * m.nodeE0 ? 'met' : 'NOT met'}`;
      log(`tls (medians of ${runs} interleaved runs, whole processes, one local mTLS server, TLS 1.3)`);
      row('node -e 0', m.nodeE0);
      row('mtls-oauth --help', m.help, goal(m.help, 1.3));
      row('  --version (the same page file read)', m.version, x(m.version));
      row('mtls-oauth tls URL (one probe)', m.probe, `${goal(m.probe, 2)}; the floor is ${x(m.floor)}`);
      row('  the floor: a bare node:https program, same', m.floor, x(m.floor));
      row('mtls-oauth tls URL --json', m.probeJson, x(m.probeJson));
      row('curl, the same handshake and GET', m.curl, `mtls-oauth ${(m.probe / m.curl).toFixed(1)}x curl`);
      row('tls --all --issuer (discovery + probe)', m.all, `${x(m.all)}; loads undici`);
      row(
        '  the same without --liftoff-only',
        m.allNoLiftoff,
        `the flag saves ${(m.allNoLiftoff - m.all).toFixed(0)} ms of exit delay`,
      );
      return m;
    },
  );
}

if (isMain(import.meta.url)) await benchTls({ runs: runsFromEnv() });
