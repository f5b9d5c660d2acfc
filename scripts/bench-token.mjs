// The `token` section of `npm run bench` (scripts/bench.mjs imports it; it also runs on its own:
// `npm run build && node scripts/bench-token.mjs`).
//
// Against one local test IdP (test/helpers/idp.ts, started in a child process with tsx):
//   1. `mtls-oauth token --grant client_credentials` (the built CLI, explicit token endpoint, no
//      cache, no binding introspection: the same single POST) against `curl` doing that POST with
//      --cert/--key/--cacert, and against `node -e 0`.           Goal: token within 2x of node -e 0.
//   2. token + introspect + revoke + introspect in one process (a small script on src/core, bundled
//      with esbuild like the CLI; one TLS handshake per host) against four curl invocations.
//                                                               Goal: the sequence beats the curls.
// Medians of whole-process wall times; the machine is noisy, so read the ratios.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  cliEnv,
  curlForm,
  curlToken,
  isMain,
  medians,
  ms,
  ROOT,
  runsFromEnv,
  startIdpProcess,
  timed,
  tlsArgs,
  withServer,
} from './bench-lib.mjs';

/** "123.4 ms", unpadded: this section aligns its columns itself. */
const fmt = (x) => ms(x, 0);

// The one-process sequence on src/core, bundled like the CLI (esbuild).
const SEQUENCE_SOURCE = `
const t0 = performance.now();
const { openSession } = await import(${JSON.stringify(join(ROOT, 'src/core/session.ts'))});
const { tokenRequest, introspectToken, revokeToken } = await import(${JSON.stringify(join(ROOT, 'src/core/token-endpoint.ts'))});
const [tokenEndpoint, introspectionEndpoint, revocationEndpoint, cert, key, ca] = process.argv.slice(2);
const s = await openSession({
  settings: { clientId: 'kong', cert, key, ca, tokenEndpoint, introspectionEndpoint, revocationEndpoint },
});
const t1 = performance.now();
const { token } = await tokenRequest(s.client, s.endpoint('token').url, { grant_type: 'client_credentials' });
const a = await introspectToken(s.client, s.endpoint('introspection').url, token.access_token);
await revokeToken(s.client, s.endpoint('revocation').url, token.access_token);
const b = await introspectToken(s.client, s.endpoint('introspection').url, token.access_token);
const t2 = performance.now();
if (!a.response.active || b.response.active) throw new Error('unexpected introspection answers');
const handshakes = s.http.connections.length;
await s.close();
process.stdout.write(JSON.stringify({ setupMs: t1 - t0, requestsMs: t2 - t1, handshakes }) + '\\n');
`;

async function bundleSequence(dir) {
  const { build } = await import('esbuild');
  const entry = join(dir, 'sequence-entry.mjs');
  writeFileSync(entry, SEQUENCE_SOURCE);
  const out = join(dir, 'sequence.mjs');
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['open'],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
    nodePaths: [join(ROOT, 'node_modules')],
  });
  return out;
}

/** Runs the section; returns the numbers (also printed). */
export function benchToken({ runs = 15, log = console.log } = {}) {
  return withServer(
    'bench-token-',
    (dir) => startIdpProcess(dir),
    async (idp, dir) => {
      const f = idp.files;
      const ep = idp.endpoints;
      const env = cliEnv({ MTLS_OAUTH_CACHE_DIR: dir });
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
      const curlT = curlToken(f, ep.token);
      const sequence = await bundleSequence(dir);
      const seqArgs = [sequence, ep.token, ep.introspection, ep.revocation, f.clientCert, f.clientKey, f.ca];

      // Warm-up: disk caches, the IdP's first requests.
      timed('node', ['-e', '0']);
      timed(process.execPath, cli, { env });
      timed('curl', curlT);
      timed(process.execPath, seqArgs);

      const r = {
        nodeE0: [],
        cli: [],
        curl: [],
        seq: [],
        seqSetup: [],
        seqRequests: [],
        curl4: [],
        handshakes: 0,
      };
      for (let i = 0; i < runs; i++) {
        r.nodeE0.push(timed(process.execPath, ['-e', '0']).t);
        r.cli.push(timed(process.execPath, cli, { env }).t);
        r.curl.push(timed('curl', curlT).t);
        const s = timed(process.execPath, seqArgs);
        const inner = JSON.parse(s.stdout);
        r.seq.push(s.t);
        r.seqSetup.push(inner.setupMs);
        r.seqRequests.push(inner.requestsMs);
        r.handshakes = inner.handshakes;
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
      log(`token (medians of ${runs} runs, whole processes, one local test IdP)`);
      log(`  node -e 0                                  ${fmt(m.nodeE0)}`);
      log(
        `  mtls-oauth token --grant client_credentials ${fmt(m.cli)}  (${(m.cli / m.nodeE0).toFixed(2)}x node -e 0; goal <= 2x)`,
      );
      log(
        `  curl, the same POST                        ${fmt(m.curl)}  (mtls-oauth ${(m.cli / m.curl).toFixed(1)}x curl)`,
      );
      log(
        `  token+introspect+revoke+introspect, 1 proc ${fmt(m.seq)}  (setup ${fmt(m.seqSetup)}, the 4 requests ${fmt(m.seqRequests)}, ${m.handshakes} handshake${m.handshakes === 1 ? '' : 's'})`,
      );
      log(
        `  the same as four curl invocations          ${fmt(m.curl4)}  (goal: the sequence faster: ${m.seq < m.curl4 ? 'met' : 'NOT met'}; in-process requests alone ${(m.curl4 / m.seqRequests).toFixed(1)}x faster)`,
      );
      log(`  goal token <= 2x node -e 0: ${m.cli <= 2 * m.nodeE0 ? 'met' : 'NOT met'}`);
      return m;
    },
  );
}

if (isMain(import.meta.url)) await benchToken({ runs: runsFromEnv() });
