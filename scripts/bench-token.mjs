// The `token` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-token.mjs`).
//
// Against one local test IdP (test/helpers/idp.ts, started in a child process with tsx):
//   1. `mtls-oauth token --grant client_credentials` (the built CLI, explicit token endpoint, no
//      cache, no binding introspection: the same single POST) against `curl` doing that POST with
//      --cert/--key/--cacert, and against `node -e 0`.           Goal: token within 2x of node -e 0.
//   2. token + introspect + revoke + introspect in one process: the built CLI's
//      `smoke --steps introspect,introspect-after-revoke` with explicit endpoints (no discovery; one
//      TLS handshake), against four curl invocations.           Goal: the sequence beats the curls.
//      Beside it, the floor: the same four requests from a minimal node:https program
//      (bench-lib.mjs), the least any Node.js process takes for them.
// Medians of whole-process wall times; the machine is noisy, so read the ratios.

import {
  BIN,
  cliEnv,
  curlForm,
  curlToken,
  floorProgram,
  isMain,
  medians,
  ms,
  runsFromEnv,
  startIdpProcess,
  timed,
  tlsArgs,
  withServer,
} from './bench-lib.mjs';

/** "123.4 ms", unpadded: this section aligns its columns itself. */
const fmt = (x) => ms(x, 0);

/** Runs the section; returns the numbers (also printed). */
export function benchToken({ runs = 15, log = console.log } = {}) {
  return withServer(
    'bench-token-',
    (dir) => startIdpProcess(dir),
    async (idp, dir) => {
      const f = idp.files;
      const ep = idp.endpoints;
      const env = cliEnv({ MTLS_OAUTH_CACHE_DIR: dir, XDG_CONFIG_HOME: dir });
      const cli = [
        BIN,
        'token',
        '--grant',
        'client_credentials',
        '--token-endpoint',
        ep.token,
        '--client-id',
        'kong',
        ...tlsArgs(f),
        '--no-cache',
        '--no-introspect',
      ];
      const sequence = [
        BIN,
        'smoke',
        '--client-id',
        'kong',
        ...tlsArgs(f),
        '--token-endpoint',
        ep.token,
        '--introspection-endpoint',
        ep.introspection,
        '--revocation-endpoint',
        ep.revocation,
        '--steps',
        'introspect,introspect-after-revoke',
      ];
      const curlT = curlToken(f, ep.token);
      const floor = floorProgram(dir, f, ep);

      // Warm-up (disk caches, the IdP's first requests, the CLI's code cache), and a check that the
      // sequence is the four requests on one connection.
      timed('node', ['-e', '0']);
      timed(process.execPath, cli, { env });
      timed('curl', curlT);
      const check = JSON.parse(timed(process.execPath, [...sequence, '--json'], { env }).stdout);
      const plan = check.checks.map((c) => c.name).join(',');
      if (!check.ok || plan !== 'token,introspect,revoke,introspect-after-revoke') {
        throw new Error(`unexpected sequence run: ${plan} ok=${check.ok}`);
      }
      const handshakes = check.tls.length;
      timed(process.execPath, floor); // throws if it fails

      const r = { nodeE0: [], cli: [], curl: [], seq: [], seqRun: [], floor: [], curl4: [] };
      for (let i = 0; i < runs; i++) {
        r.nodeE0.push(timed(process.execPath, ['-e', '0']).t);
        r.cli.push(timed(process.execPath, cli, { env }).t);
        r.curl.push(timed('curl', curlT).t);
        const s = timed(process.execPath, [...sequence, '--json'], { env });
        r.seq.push(s.t);
        r.seqRun.push(JSON.parse(s.stdout).result.timeMs);
        r.floor.push(timed(process.execPath, floor).t);
        // Four curls: the token, then introspect, revoke, introspect with it.
        const t = timed('curl', curlT);
        const token = JSON.parse(t.stdout).access_token;
        const a = timed('curl', curlForm(f, ep.introspection, token));
        const b = timed('curl', curlForm(f, ep.revocation, token));
        const c = timed('curl', curlForm(f, ep.introspection, token));
        if (JSON.parse(c.stdout).active !== false)
          throw new Error('curl: the token is still active after revocation');
        r.curl4.push(t.t + a.t + b.t + c.t);
      }
      const m = medians(r);
      const x = (t) => `${(t / m.nodeE0).toFixed(2)}x node -e 0`;
      const row = (label, t, note) =>
        log(`  ${label.padEnd(46)} ${fmt(t).padStart(8)}${note ? `  (${note})` : ''}`);
      log(`token (medians of ${runs} interleaved runs, whole processes, one local test IdP)`);
      row('node -e 0', m.nodeE0);
      row(
        'mtls-oauth token --grant client_credentials',
        m.cli,
        `${x(m.cli)}; goal <= 2x: ${m.cli <= 2 * m.nodeE0 ? 'met' : 'NOT met'}`,
      );
      row('curl, the same POST', m.curl, `mtls-oauth ${(m.cli / m.curl).toFixed(1)}x curl`);
      row(
        'token+introspect+revoke+introspect, mtls-oauth',
        m.seq,
        `smoke --steps; ${handshakes} handshake${handshakes === 1 ? '' : 's'}; the run itself ${fmt(m.seqRun)}`,
      );
      row(
        'the same as four curl invocations',
        m.curl4,
        `goal: mtls-oauth faster: ${m.seq < m.curl4 ? 'met' : 'NOT met'}`,
      );
      row(
        '  the floor: a bare node:https program, same 4',
        m.floor,
        `${m.floor < m.curl4 ? 'faster' : 'slower'} than the four curls; node -e 0 alone is ${(m.nodeE0 / m.curl4).toFixed(2)}x them`,
      );
      return { ...m, handshakes };
    },
  );
}

if (isMain(import.meta.url)) await benchToken({ runs: runsFromEnv() });
